"""/healthz and /metrics reflect reality: the scheduler's heartbeat, a connection whose tokens
Salesforce revoked (auth failed, paused), credentials no key opens, a hub that does not answer.
And the gates: the Host header (DNS rebinding), CSRF on pages, sign-in, no secret rendered, and
`serve` refusing a non-loopback bind while there is no account."""

from __future__ import annotations

import asyncio
import re

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import sessionmaker

from leadbridge.hub.connections import Connections
from leadbridge.hub.db import make_engine
from leadbridge.policy.crm import PolicyFile
from leadbridge.secrets import SecretBox

from .cli_runner import lb
from .crm_world import CrmWorld
from .web_world import Web, make_web


@pytest.fixture
def web(connections: Connections) -> Web:
    return make_web(connections)


def metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + ("{" if labels else " ")) and all(
            f'{k}="{v}"' in line for k, v in labels.items()
        ):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_healthz_and_metrics_follow_the_scheduler_and_a_revoked_connection(
    crm: CrmWorld,
) -> None:
    crm.activate()
    crm.org.create("Lead", {"LastName": "Pre", "Company": "Pre Inc", "Email": "pre@pre.io"})
    web = make_web(crm.connections, PolicyFile(syncs={"salesforce": crm.policy}))
    runner = web.state.runner
    assert runner is not None
    before = web.client.get("/healthz")
    assert before.status_code == 503 and before.json()["scheduler"]["alive"] is False

    runner.tick = 0.1
    serving = asyncio.create_task(runner.serve_forever())
    try:
        for _ in range(300):  # the first ticks: the initial pull of the org
            await asyncio.sleep(0.05)
            if runner.beat.last_tick is not None and crm.ctx().initial_pull_done():
                break
        healthy = web.client.get("/healthz")
        assert healthy.status_code == 200, healthy.json()
        assert healthy.json()["connections"] == [
            {"name": "salesforce", "kind": "salesforce", "health": "ok", "detail": None}
        ]
        scraped = web.api("GET", "/metrics", token="read").text
        assert metric(scraped, "leadbridge_scheduler_alive") == 1.0
        assert metric(scraped, "leadbridge_connection_healthy", connection="salesforce") == 1.0
        assert (
            metric(scraped, "leadbridge_runs_total", job="crm_pull", status="succeeded") or 0
        ) >= 1
        assert (metric(scraped, "leadbridge_api_calls_total", connection="salesforce") or 0) > 0

        # Salesforce revokes every session and refresh token: the next run fails with an auth
        # error and the connection is paused until it is reconnected.
        with crm.org.lock:
            for session in crm.sandbox.sessions.values():
                session.revoked = True
            crm.sandbox.oauth.refresh.clear()
        crm.person(last_name="After", email="after@x.io", company={"name": "X", "domain": "x.io"})
        for _ in range(200):
            await asyncio.sleep(0.05)
            if crm.connections.get("salesforce").health == "auth_failed":
                break
        broken = web.client.get("/healthz")
        assert broken.status_code == 503
        (conn,) = broken.json()["connections"]
        assert conn["health"] == "auth_failed" and "reconnect" in conn["detail"]
        assert broken.json()["hub"]["ok"] and broken.json()["scheduler"]["alive"]
        scraped = web.api("GET", "/metrics", token="read").text
        assert (
            metric(
                scraped,
                "leadbridge_connection_healthy",
                connection="salesforce",
                health="auth_failed",
            )
            == 0.0
        )
    finally:
        runner.stop()
        await serving
    stopped = web.client.get("/healthz").json()
    assert stopped["scheduler"]["alive"] is False
    assert (
        metric(web.api("GET", "/metrics", token="read").text, "leadbridge_scheduler_alive") == 0.0
    )


def test_healthz_names_credentials_no_key_opens_and_a_hub_that_does_not_answer(
    crm: CrmWorld,
) -> None:
    other_key = Connections(crm.hub, SecretBox(Fernet.generate_key()))
    web = make_web(other_key)
    body = web.client.get("/healthz").json()
    (conn,) = body["connections"]
    assert conn["health"] == "credentials_unreadable" and not body["ok"]
    scraped = web.api("GET", "/metrics", token="read").text
    assert metric(scraped, "leadbridge_connection_healthy", health="credentials_unreadable") == 0.0

    crm.hub.sessions = sessionmaker(make_engine("postgresql://nobody@127.0.0.1:9/none"))
    down = web.client.get("/healthz")
    assert down.status_code == 503 and down.json()["hub"]["ok"] is False
    assert web.api("GET", "/api/v1/people", token="read").status_code == 503


def test_host_header_csrf_and_sign_in(web: Web) -> None:
    assert web.client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    assert web.client.get("/login", headers={"Host": "evil.example:8765"}).status_code == 400
    assert web.client.get("/login", headers={"Host": "[::1]:8765"}).status_code == 200
    assert web.client.get("/login", headers={"Host": "localhost:8765"}).status_code == 200
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/login"
    wrong = web.client.post("/login", data={"username": "ann", "password": "nope"})
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    csrf = web.login()
    cookie = web.client.cookies.get("lb_session")
    assert cookie and len(cookie) > 30
    # A form posted without the session's CSRF token (another site's form) changes nothing.
    refused = web.client.post("/errors/retry", data={})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert web.client.post("/errors/retry", data={"csrf_token": "x" * 43}).status_code == 403
    assert web.client.post("/errors/retry", data={"csrf_token": csrf}).status_code == 200
    assert web.client.post("/errors/retry", headers={"X-CSRF-Token": csrf}).status_code == 200
    web.client.post("/logout", data={"csrf_token": csrf})
    assert web.client.get("/", follow_redirects=False).status_code == 303


def test_no_stored_secret_is_rendered(crm: CrmWorld) -> None:
    web = make_web(crm.connections)
    creds, _ = crm.connections.credentials(crm.connections.get("salesforce").id)
    secrets = [
        v for k, v in creds.items() if k in ("access_token", "refresh_token", "client_secret") and v
    ]
    assert len(secrets) == 3
    # A stored message that quotes a token (as an API's echo would) is shown masked.
    crm.connections.set_health(crm.connections.get("salesforce").id, "paused", f"echo {secrets[0]}")
    web.login()
    shown = [web.client.get(p).text for p in ("/", "/connections", "/runs", "/errors", "/policy")]
    shown += [web.api("GET", "/api/v1/status", token="read").text, web.client.get("/healthz").text]
    for text in shown:
        for secret in secrets:
            assert secret not in text
    assert "echo ***" in shown[1]


def test_serve_refuses_a_public_bind_without_accounts(connections: Connections) -> None:
    result = lb("serve", "--bind", "0.0.0.0:8799")
    assert result.exit_code == 2
    assert "no account yet" in result.output and "admin create-user" in result.output
    created = lb("admin", "create-user", "bob", "--password-stdin", input="short\n")
    assert created.exit_code == 1 and "at least 10 characters" in created.output


def test_admin_creates_users_and_tokens(connections: Connections) -> None:
    created = lb("admin", "create-user", "bob", "--password-stdin", input="a long password\n")
    assert created.exit_code == 0, created.output
    again = lb("admin", "create-user", "bob", "--password-stdin", input="a long password\n")
    assert again.exit_code == 1 and "already a user 'bob'" in again.output
    token = lb("admin", "create-token", "bob", "--scope", "write").output.strip()
    assert re.fullmatch(r"lbt_[A-Za-z0-9_-]{43}", token)
    assert lb("admin", "create-token", "bob", "--scope", "admin").exit_code == 1
