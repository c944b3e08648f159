"""`leadbridge demo`: the whole product against local sandboxes, in under a minute, then the
dashboard.

The lead push: starts the Apollo sandbox, seeds Apollo users and a few thousand realistic company
leads (a spread of ICP fit, stages, quarantine and owners; some already in Apollo, one rep
unmapped, one whose Apollo user is deleted), connects, maps users, runs the push, then runs it
again to show that a second run changes nothing. The two-way CRM sync (demo_crm.py): a seeded
Salesforce org with duplicates, connected through OAuth, pulled and pushed. Then the dashboard
is served on loopback with a demo account (unless --no-serve). The hub lives in a temporary
directory, so the demo never touches your own hub.
"""

from __future__ import annotations

import asyncio
import csv
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from rich.console import Console
from sqlalchemy import select

from leadbridge.demo_crm import CrmDemo, crm_lines, run_crm_demo
from leadbridge.engine.leadpush.run import LeadPush, RunReport, report_lines
from leadbridge.engine.systems.apollo_connect import connect_with_key
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.imports import import_companies, import_users
from leadbridge.hub.tables import Company, utcnow
from leadbridge.sandbox import fakes
from leadbridge.sandbox.server import ServedApp
from leadbridge.secrets import SecretBox

STAGES = ["pending", "target", "education", "solution", "evaluation", "ready_to_buy"]


@dataclass
class DemoResult:
    first: RunReport
    second: RunReport
    apollo_accounts: int
    preexisting: int
    seconds: float
    crm: CrmDemo | None = None


def write_demo_data(directory: Path, companies: int, seed: int) -> tuple[Path, Path, list[str]]:
    """users.csv and companies.csv; returns the reps' e-mails."""
    rng = random.Random(seed)
    reps = [p.email for p in fakes.people(10, "team.example", seed)]
    users_csv = directory / "users.csv"
    with users_csv.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["email", "first_name", "last_name"])
        for email in reps:
            first, last = email.split("@")[0].split(".")
            out.writerow([email, first.title(), last.title()])
    companies_csv = directory / "companies.csv"
    with companies_csv.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "name",
                "domain",
                "industry",
                "employees",
                "icp_fit",
                "stage",
                "customer",
                "quarantine",
                "owner",
            ]
        )
        for company in fakes.companies(companies, seed):
            fit = rng.choices(["strong", "moderate", "not_a_fit", "unknown"], [35, 30, 15, 20])[0]
            stage = rng.choices(
                [*STAGES, "customer", "not_a_fit", ""], [8, 12, 18, 18, 16, 10, 8, 5, 5]
            )[0]
            out.writerow(
                [
                    company.name if rng.random() > 0.01 else "",
                    company.domain,
                    company.industry,
                    company.employees,
                    fit,
                    stage,
                    "true" if stage == "customer" else "false",
                    "quarantined" if rng.random() < 0.08 else "active",
                    rng.choice(reps) if rng.random() > 0.06 else "",
                ]
            )
    return users_csv, companies_csv, reps


def run_demo(
    companies: int = 3000,
    seed: int = 7,
    console: Console | None = None,
    *,
    serve: bool = False,
    port: int = 8765,
) -> DemoResult:
    from leadbridge.sandbox.apollo import ApolloSandbox
    from leadbridge.sandbox.salesforce import SalesforceSandbox

    console = console or Console()
    started = time.monotonic()
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-demo-"))
    hub = Hub.open(f"sqlite:///{workdir / 'hub.db'}")
    connections = Connections(hub, SecretBox(Fernet.generate_key()))

    users_csv, companies_csv, reps = write_demo_data(workdir, companies, seed)
    import_users(hub, users_csv)
    imported = import_companies(hub, companies_csv, STAGES)
    # Leads were edited over the last weeks; a few just now (they wait for the settle buffer).
    now = utcnow()
    with hub.session() as s:
        for company in s.scalars(select(Company)):
            recent = rng.random() < 0.02
            company.updated_at = now - (
                timedelta(seconds=rng.randint(10, 200))
                if recent
                else timedelta(minutes=rng.randint(10, 60 * 24 * 30))
            )

    sandbox = ApolloSandbox(seed=seed)
    sandbox.knobs.set_rate_limits(minute=100_000, hour=1_000_000, day=10_000_000)
    apollo_users = [
        sandbox.add_user(
            email=email,
            first_name=email.split(".")[0].title(),
            last_name=email.split(".")[1].split("@")[0].title(),
            deleted=(i == 8),
        )
        for i, email in enumerate(reps[:9])  # the tenth rep has no Apollo user at all
    ]
    sandbox.add_user(email="ops@team.example", first_name="Ops", last_name="Bot")
    with hub.session() as s:
        domains = [(c.name, c.domain) for c in s.scalars(select(Company))]
    preexisting = [d for d in domains if rng.random() < 0.05]
    for name, domain in preexisting:
        sandbox.add_account(
            name=name or domain, domain=domain, owner_id=rng.choice(apollo_users)["id"]
        )

    salesforce = SalesforceSandbox(seed=seed)
    cert, tls_key, ca = salesforce.tls_files()
    with (
        ServedApp(sandbox.app) as served,
        ServedApp(salesforce.app, ssl_certfile=cert, ssl_keyfile=tls_key) as sf_served,
    ):
        salesforce.set_base_url(sf_served.url)
        key = sandbox.issue_api_key(master=True)
        console.print(f"Apollo sandbox on {served.url}; Salesforce sandbox on {sf_served.url}")
        console.print(f"hub in {workdir}")
        console.print(
            f"seeded {len(apollo_users) + 1} Apollo users, {len(preexisting)} existing Apollo "
            f"accounts, {imported.created} company leads ({len(imported.errors)} rows rejected)"
        )
        info = asyncio.run(
            connect_with_key(connections, name="apollo", base_url=served.url, key=key)
        )
        push = LeadPush(hub, connections, info)
        first = asyncio.run(push.run())
        second = asyncio.run(LeadPush(hub, connections, connections.get("apollo")).run())
        accounts = len(sandbox.accounts())

        console.print("[bold]lead push to Apollo, first run[/bold]")
        for line in report_lines(first):
            console.print(line)
        console.print("[bold]second run[/bold] (nothing changed in the hub)")
        for line in report_lines(second):
            console.print(line)
        console.print(
            f"Apollo now holds {accounts} accounts ({len(preexisting)} were there before)."
        )

        crm = asyncio.run(
            run_crm_demo(hub, connections, salesforce, sf_served.url, ca, workdir, seed)
        )
        console.print("[bold]two-way sync with Salesforce[/bold]")
        for line in crm_lines(crm):
            console.print(line)
        seconds = time.monotonic() - started
        console.print(f"Demo took {seconds:.1f} s.")
        result = DemoResult(first, second, accounts, len(preexisting), seconds, crm)
        if serve:
            serve_dashboard(hub, connections, console, port)
        else:
            console.print(
                f"Try `LEADBRIDGE_DATABASE_URL=sqlite:///{workdir / 'hub.db'} leadbridge "
                f"explain <domain>` on any company in {companies_csv}."
            )
    salesforce.close()
    hub.dispose()
    return result


def serve_dashboard(hub: Hub, connections: Connections, console: Console, port: int) -> None:
    """The dashboard over the demo's hub, with the scheduler, until Ctrl+C; a demo account with
    a fresh password (the hub is a throwaway one)."""
    import secrets

    import uvicorn

    from leadbridge.jobs.crm import CrmSchedule
    from leadbridge.jobs.runner import EmbeddedRunner
    from leadbridge.policy.crm import PolicyFile
    from leadbridge.web.accounts import create_user
    from leadbridge.web.app import create_app
    from leadbridge.web.state import WebState

    password = secrets.token_urlsafe(12)
    create_user(hub, "demo", password)
    policy = PolicyFile()
    runner = EmbeddedRunner(connections, crm=CrmSchedule(hub, connections, policy))
    app = create_app(WebState(connections, policy=policy, runner=runner))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    console.print(
        f"[bold]dashboard: http://127.0.0.1:{port}/[/bold] — user demo, password {password} "
        "(Ctrl+C stops the demo and its sandboxes)"
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
