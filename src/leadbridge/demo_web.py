"""The web act of `leadbridge demo`: an account and an API token made with `leadbridge admin`, the
web app served on a loopback port, and the REST API used over a real socket as a script would:
a person added through the hub's front door, a push started, the person read back from the
CRMs' side, the status and the Prometheus metrics. Then, unless --no-serve, the dashboard stays
up with the scheduler until Ctrl+C."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console

from leadbridge.demo_tour import Tour, TourFailed
from leadbridge.hub.connections import Connections
from leadbridge.policy.crm import PolicyFile
from leadbridge.sandbox.server import ServedApp
from leadbridge.web.accounts import TOKEN_PREFIX

NEW_PERSON = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "title": "Rear Admiral",
    "email_status": "verified",  # only verified e-mails are sent to a CRM
}


@dataclass
class WebDemo:
    person_id: int
    email: str
    pushed: dict[str, Any]
    metrics_lines: int


def make_account(tour: Tour) -> tuple[str, str]:
    """A web account (password from stdin, as a script gives it) and a write token."""
    password = secrets.token_urlsafe(12)
    tour.run("admin", "create-user", "demo", "--password-stdin", input=password, lines=1)
    printed = tour.run("admin", "create-token", "demo", "--scope", "write", lines=0)
    tour.note("create-token printed the token once (only its hash is kept); the demo keeps it")
    token = next((w for w in printed.split() if w.startswith(TOKEN_PREFIX)), None)
    if token is None:
        raise TourFailed("create-token printed no token")
    return password, token


def use_the_api(
    connections: Connections,
    policy: PolicyFile,
    tour: Tour,
    token: str,
    in_salesforce: Callable[[str], str | None],
) -> WebDemo:
    """`in_salesforce(email)`: the record the Salesforce sandbox holds for that e-mail."""
    from leadbridge.web.app import create_app
    from leadbridge.web.state import WebState

    app = create_app(WebState(connections, policy=policy))
    with ServedApp(app) as served:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=served.url, headers=headers, timeout=60) as http:

            def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
                shown = f" -d '{json.dumps(body)}'" if body else ""
                tour.console.print(
                    f"[bold cyan]$ curl -X {method} -H 'Authorization: Bearer lbt_…' "
                    f"{served.url}{path}{shown}[/bold cyan]",
                    markup=True,
                    highlight=False,
                    soft_wrap=True,
                )
                response = http.request(method, path, json=body)
                if response.status_code >= 400:
                    raise TourFailed(f"{method} {path}: {response.status_code} {response.text}")
                return response.json() if "json" in response.headers["content-type"] else None

            domain = _a_named_company(connections)
            fields = {**NEW_PERSON, "email": f"grace.hopper@{domain}", "company": domain}
            person = call("POST", "/api/v1/people", fields)
            tour.console.print(f"  created person {person['id']} ({person['email']})")
            outcome = call("POST", "/api/v1/runs", {"job": "push", "sync": "salesforce"})
            counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.get("counts", {}).items()))
            tour.console.print(f"  {outcome.get('status')} run {outcome.get('run_id')}: {counts}")
            tour.note(
                f"Salesforce now holds {in_salesforce(fields['email'])} for {fields['email']}"
            )
            status = call("GET", "/api/v1/status")
            for sync in status.get("crm", []):
                tour.console.print(f"  {_crm_line(sync)}")
            metrics = http.get("/metrics").text.splitlines()
            tour.console.print(
                f"[bold cyan]$ curl {served.url}/metrics[/bold cyan]  "
                f"[dim]# {len(metrics)} lines of Prometheus metrics[/dim]"
            )
    return WebDemo(person["id"], fields["email"], outcome, len(metrics))


def _a_named_company(connections: Connections) -> str:
    """A company of the hub with a name and a domain (a CRM's lead or contact needs both)."""
    from sqlalchemy import select

    from leadbridge.hub.tables import Company

    with connections.hub.session() as s:
        domain = s.scalar(
            select(Company.domain)
            .where(Company.name.is_not(None), Company.domain.is_not(None))
            .order_by(Company.id)
        )
    if domain is None:
        raise TourFailed("the hub has no company with a name and a domain")
    return str(domain)


def _crm_line(sync: dict[str, Any]) -> str:
    people = sync.get("people", {})
    counts = ", ".join(f"{k} {v}" for k, v in people.items() if isinstance(v, int) and v)
    return f"{sync.get('connection')} ({sync.get('kind')}): people {counts or 'none'}"


def serve_dashboard(
    connections: Connections, policy: PolicyFile, console: Console, port: int, password: str
) -> None:
    """The dashboard over the demo's hub, with the scheduler, until Ctrl+C."""
    import uvicorn

    from leadbridge.jobs.crm import CrmSchedule
    from leadbridge.jobs.runner import EmbeddedRunner
    from leadbridge.web.app import create_app
    from leadbridge.web.state import WebState

    runner = EmbeddedRunner(connections, crm=CrmSchedule(connections.hub, connections, policy))
    app = create_app(WebState(connections, policy=policy, runner=runner))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    console.print(
        f"[bold]dashboard: http://127.0.0.1:{port}/[/bold] — user demo, password {password} "
        "(a throwaway hub; Ctrl+C stops the demo and its sandboxes)"
    )

    async def main() -> None:
        job = asyncio.create_task(runner.serve_forever())
        try:
            await server.serve()
        finally:
            runner.stop()
            await job

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
