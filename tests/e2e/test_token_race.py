"""Two processes on one OAuth connection with rotating refresh tokens — the scheduled job and
manual `users sync` commands — refreshing at the same moments over and over: neither ever
sees an auth failure, and the connection stays ok (issue 16, "Crash recovery")."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadbridge.engine.systems.apollo import exchange_token, open_apollo
from leadbridge.engine.systems.apollo_connect import OAUTH_SCOPES, connect_with_oauth
from leadbridge.hub.connections import Connections, ConnectionTokenStore
from leadbridge.sandbox.server import ServedApp
from leadbridge.settings import get_settings

REDIRECT = "http://127.0.0.1:9/callback"
SECONDS = 10.0
WORKER = Path(__file__).with_name("token_race_worker.py")


def oauth_connect(sandbox: Any, url: str, connections: Connections) -> None:
    client_id, secret = sandbox.register_oauth_app([REDIRECT])
    approve = httpx.post(
        url + "/oauth/authorize",
        data={"client_id": client_id, "redirect_uri": REDIRECT, "scope": OAUTH_SCOPES},
    )
    code = httpx.URL(approve.headers["location"]).params["code"]
    asyncio.run(
        connect_with_oauth(
            connections,
            name="apollo",
            base_url=url,
            client_id=client_id,
            client_secret=secret,
            code=code,
            redirect_uri=REDIRECT,
        )
    )


def short_lived_pair(sandbox: Any, url: str, connections: Connections) -> None:
    """From now on access tokens live 301 s, so with the 300 s refresh skew every pair is
    due for a refresh about a second after it was made — in both processes at once, since
    both read the same expiry."""
    sandbox.knobs.access_token_ttl = 301
    store = ConnectionTokenStore(connections, connections.get("apollo").id)
    stored = asyncio.run(store.load())
    assert stored is not None
    creds, _ = connections.credentials(connections.get("apollo").id)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": str(stored.tokens.refresh_token),
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }
    new = asyncio.run(exchange_token(url, form))
    assert asyncio.run(store.save(new, stored.version)) is not None


@pytest.mark.slow
def test_two_processes_refreshing_a_rotating_token_never_fail(
    apollo_sandbox: Any, connections: Connections
) -> None:
    apollo_sandbox.add_user(email="ann@team.example", first_name="Ann", last_name="Rep")
    with ServedApp(apollo_sandbox.app) as served:
        oauth_connect(apollo_sandbox, served.url, connections)
        short_lived_pair(apollo_sandbox, served.url, connections)
        minted_before = len(apollo_sandbox.state.credentials.tokens)
        env = {**os.environ, "LEADBRIDGE_DATABASE_URL": get_settings().database_url}
        workers = [
            subprocess.Popen(
                [sys.executable, str(WORKER), mode, str(SECONDS)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for mode in ("job", "sync")
        ]
        outputs = [w.communicate(timeout=SECONDS + 120) for w in workers]
        assert all(w.returncode == 0 for w in workers), outputs
        job, sync = (json.loads(out.strip().splitlines()[-1]) for out, _ in outputs)
        rotations = len(apollo_sandbox.state.credentials.tokens) - minted_before
        info = connections.get("apollo")
        client = open_apollo(connections, info)  # the stored pair is the live one

        async def still_works() -> int:
            try:
                return len(await client.users())
            finally:
                await client.aclose()

        users = asyncio.run(still_works())

    assert job["auth_failures"] == sync["auth_failures"] == 0, (job, sync)
    assert job["failures"] == sync["failures"] == []
    assert info.health == "ok", info.health_detail
    assert job["runs"] >= 5 and sync["runs"] >= 5, (job, sync)
    assert rotations >= 5, "the pair must have rotated many times during the race"
    assert sync["adopted"] >= 1, "the processes must really have raced for the same pair"
    assert users == len(apollo_sandbox.users())
