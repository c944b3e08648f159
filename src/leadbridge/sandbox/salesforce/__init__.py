"""The Salesforce sandbox: an org (schema from real describe metadata, records, users, limits)
behind the REST API and OAuth endpoints, over HTTP or HTTPS, with fault knobs.

    sb = SalesforceSandbox(seed=1)
    token = sb.issue_session()
    cert, key, ca = sb.tls_files()
    with ServedApp(sb.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sb.set_base_url(served.url)      # instance_url / identity URLs point at it
        ...                              # requests / httpx with verify=ca

`seed.seed_org(sb.org, accounts=…)` fills an org of realistic size (contacts, leads, some
converted, some duplicated). In progress (issue 3): Bulk API 2.0.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from leadbridge.sandbox.holds import Holds
from leadbridge.sandbox.salesforce import tls
from leadbridge.sandbox.salesforce.app import OAuthState, SalesforceKnobs, Session, build_app
from leadbridge.sandbox.salesforce.org import Org, SaveResult

__all__ = ["Org", "SalesforceKnobs", "SalesforceSandbox", "SaveResult", "run"]


class SalesforceSandbox:
    def __init__(self, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.org = Org(seed=seed, clock=clock)
        self.knobs = SalesforceKnobs()
        self.sessions: dict[str, Session] = {}
        self.oauth = OAuthState()
        self.base = {"instance": "https://localhost", "login": "https://localhost"}
        self.holds = Holds()
        self.app: FastAPI = build_app(
            self.org, self.knobs, self.sessions, self.oauth, self.base, self.holds
        )
        self._tls: tuple[Path, Path, Path] | None = None

    def set_base_url(self, url: str) -> None:
        self.base.update(instance=url, login=url)

    def tls_files(self) -> tuple[Path, Path, Path]:
        if self._tls is None:
            self._tls = tls.generate()
        return self._tls

    def issue_session(self, user_id: str | None = None) -> str:
        token = f"{self.org.id[:15]}!AQ{secrets.token_urlsafe(40)}"
        with self.org.lock:
            self.sessions[token] = Session(user_id or self.org.integration_user, self.org.clock())
        return token

    def register_connected_app(self, redirect_uris: list[str]) -> tuple[str, str]:
        client_id = "3MVG9" + secrets.token_urlsafe(40)
        secret = secrets.token_hex(32).upper()
        self.oauth.apps[client_id] = {"secret": secret, "redirect_uris": list(redirect_uris)}
        return client_id, secret


def run(
    port: int, host: str = "127.0.0.1", https: bool = True, seed: int = 1, accounts: int = 0
) -> None:
    import uvicorn

    from leadbridge.sandbox.salesforce.seed import seed_org

    sb = SalesforceSandbox(seed=seed)
    if accounts:
        report = seed_org(sb.org, accounts=accounts, leads=accounts * 2, seed=seed)
        print(f"  seeded: {report}")
    scheme = "https" if https else "http"
    sb.set_base_url(f"{scheme}://localhost:{port}")
    token = sb.issue_session()
    client_id, secret = sb.register_connected_app(["http://127.0.0.1:8767/callback"])
    print(f"Salesforce sandbox on {scheme}://localhost:{port} (org {sb.org.id})")
    kwargs = {}
    if https:
        cert, key, ca = sb.tls_files()
        kwargs = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        print(f"  CA file for clients (verify=): {ca}")
    print(f"  session id: {token}")
    print(f"  connected app: client_id={client_id} client_secret={secret}")
    uvicorn.run(sb.app, host=host, port=port, log_level="warning", **kwargs)  # type: ignore[arg-type]
