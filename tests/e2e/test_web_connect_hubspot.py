"""Connecting HubSpot from the connections page: a private app's token checked against the portal
before it is saved (never echoed), and OAuth with `state` — the consent page is the sandbox's,
the callback redeems the code; the portal id becomes the connection's scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from leadbridge.hub.connections import Connections
from leadbridge.sandbox.hubspot import HubSpotSandbox
from leadbridge.sandbox.server import ServedApp

from .web_world import Web, make_web


@pytest.fixture
def portal() -> Iterator[tuple[HubSpotSandbox, str]]:
    sandbox = HubSpotSandbox(seed=29)
    with ServedApp(sandbox.app) as served:
        sandbox.set_base_url(served.url)
        yield sandbox, served.url


@pytest.fixture
def web(connections: Connections) -> Web:
    return make_web(connections)


def test_connect_hubspot_with_a_private_app_token(
    portal: tuple[HubSpotSandbox, str], web: Web, connections: Connections
) -> None:
    sandbox, url = portal
    csrf = web.login()
    page = web.client.get("/connections").text
    assert 'id="connect-hubspot"' in page and "With a private app token" in page

    form = {"csrf_token": csrf, "name": "hubspot", "base_url": url}
    bad = web.client.post("/connections/hubspot/key", data={**form, "key": "pat-na1-forged"})
    assert bad.status_code == 422 and "HubSpot:" in bad.text
    assert "pat-na1-forged" not in bad.text
    assert connections.all() == []  # nothing half-made was saved

    token = sandbox.issue_private_app_token()
    good = web.client.post("/connections/hubspot/key", data={**form, "key": token})
    assert good.status_code == 200, good.text
    assert f"connected hubspot to HubSpot {sandbox.portal_id}" in good.text
    assert token not in good.text
    assert connections.get("hubspot").remote_scope == str(sandbox.portal_id)


def test_connect_hubspot_with_oauth_checks_state(
    portal: tuple[HubSpotSandbox, str], web: Web, connections: Connections
) -> None:
    sandbox, url = portal
    csrf = web.login()
    client_id, secret = sandbox.register_oauth_app(["http://127.0.0.1:8765/connections/callback"])
    started = web.client.post(
        "/connections/hubspot/oauth",
        data={
            "csrf_token": csrf,
            "name": "crm",
            "base_url": url,
            "client_id": client_id,
            "client_secret": secret,
            "setup_hours": "2",
        },
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    consent = started.headers["location"]
    assert consent.startswith(f"{url}/oauth/authorize?") and "code_challenge" not in consent
    query = {k: v[0] for k, v in parse_qs(urlparse(consent).query).items()}

    # The person grants access on HubSpot's page; the browser comes back with code and state.
    granted = httpx.post(f"{url}/oauth/authorize", data={**query, "decision": "grant"})
    back = urlparse(granted.headers["location"])
    forged = web.client.get("/connections/callback?" + back.query.replace("state=", "state=x"))
    assert forged.status_code == 400 and "not started here" in forged.text
    assert connections.all() == []

    done = web.client.get(f"/connections/callback?{back.query}")
    assert done.status_code == 200, done.text
    assert f"connected crm to HubSpot ({sandbox.portal_id})" in done.text
    assert secret not in done.text
    info = connections.get("crm")
    assert info.kind == "hubspot" and info.remote_scope == str(sandbox.portal_id)
    until = datetime.fromisoformat(info.settings["crm"]["setup_until"])
    assert timedelta(hours=1.9) < until - datetime.now(UTC) <= timedelta(hours=2)
    again = web.client.get(f"/connections/callback?{back.query}")  # a state is used once
    assert again.status_code == 400
