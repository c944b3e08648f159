"""`leadbridge connect apollo --oauth` as a person runs it: open the printed URL, approve, and
the loopback listener finishes the connection; with PKCE (S256) checked by the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import httpx

from leadbridge.engine.systems.apollo_connect import OAUTH_SCOPES, pkce_pair
from leadbridge.hub.connections import Connections
from leadbridge.sandbox.server import ServedApp, free_port
from leadbridge.settings import get_settings

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)


def printed_url(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.startswith("http"):
            return line.strip()
        if not line and child.poll() is not None:
            break
    raise AssertionError(f"no authorize URL printed: {child.communicate()}")


def follow(location: str) -> httpx.Response:
    """The browser following the redirect to the CLI's loopback listener."""
    for _ in range(50):
        try:
            return httpx.get(location, timeout=10)
        except httpx.ConnectError:
            time.sleep(0.1)
    raise AssertionError("the CLI's listener never came up")


def test_the_oauth_flow_sends_pkce_and_connects(
    apollo_sandbox: Any, connections: Connections
) -> None:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    client_id, secret = apollo_sandbox.register_oauth_app([redirect])
    with ServedApp(apollo_sandbox.app) as served:
        env = {
            **os.environ,
            "LEADBRIDGE_DATABASE_URL": get_settings().database_url,
            "LEADBRIDGE_APOLLO_CLIENT_SECRET": secret,
            "COLUMNS": "80",  # the URL must still come out on one line
        }
        child = subprocess.Popen(
            [
                *(sys.executable, "-m", "leadbridge", "connect", "apollo", "--oauth"),
                *("--base-url", served.url, "--client-id", client_id),
                *("--redirect-port", str(port)),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = httpx.URL(printed_url(child))
            params = dict(url.params)
            assert params["code_challenge_method"] == "S256"
            assert len(params["code_challenge"]) == 43 and "code_verifier" not in params
            with httpx.Client(base_url=served.url, timeout=10) as browser:
                assert browser.get("/oauth/authorize", params=params).status_code == 200
                back = browser.post("/oauth/authorize", data={**params, "decision": "approve"})
            assert back.status_code == 302
            assert follow(back.headers["location"]).status_code == 200
            out, err = child.communicate(timeout=60)
        finally:
            child.kill()

    assert child.returncode == 0, out + err
    assert f"connected apollo to Apollo team {apollo_sandbox.team_id}" in out
    (code,) = apollo_sandbox.state.credentials.codes.values()
    assert code.challenge == params["code_challenge"] and code.used  # redeemed with its verifier
    creds, _ = connections.credentials(connections.get("apollo").id)
    assert creds["access_token"] in apollo_sandbox.state.credentials.tokens
    assert secret not in out + err


def test_a_code_obtained_elsewhere_needs_its_verifier(apollo_sandbox: Any) -> None:
    redirect = "https://app.example/callback"
    client_id, secret = apollo_sandbox.register_oauth_app([redirect])
    verifier, challenge = pkce_pair()
    with ServedApp(apollo_sandbox.app) as served:

        def code() -> str:
            approve = httpx.post(
                served.url + "/oauth/authorize",
                data={
                    "client_id": client_id,
                    "redirect_uri": redirect,
                    "scope": OAUTH_SCOPES,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
            return httpx.URL(approve.headers["location"]).params["code"]

        common = ("connect", "apollo", "--oauth", "--base-url", served.url)
        creds = ("--client-id", client_id, "--client-secret", secret, "--redirect-uri", redirect)
        missing = lb(*common, *creds, "--code", code())
        wrong = lb(*common, *creds, "--code", code(), "--code-verifier", pkce_pair()[0])
        right = lb(*common, *creds, "--code", code(), "--code-verifier", verifier)

    assert missing.exit_code == 1
    assert "refused the grant (400 Missing required parameter: code_verifier.)" in missing.output
    assert wrong.exit_code == 1 and "refused the grant (400" in wrong.output
    assert right.exit_code == 0, right.output
    assert "connected apollo" in right.output and secret not in right.output
