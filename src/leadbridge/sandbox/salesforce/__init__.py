"""The Salesforce sandbox: an org (schema from real describe metadata, records, users, limits)
behind the REST API and OAuth endpoints, over HTTP or HTTPS, with fault knobs.

    sb = SalesforceSandbox(seed=1)
    token = sb.issue_session()
    cert, key, ca = sb.tls_files()
    with ServedApp(sb.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sb.set_base_url(served.url)      # instance_url / identity URLs point at it
        ...                              # requests / httpx with verify=ca

`seed.seed_org(sb.org, accounts=…)` fills an org of realistic size (contacts, leads, some
converted, some duplicated). The TLS files (with the server's private key) live in a temporary
directory removed by `sb.close()`, when the sandbox is garbage-collected, or at exit.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

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
        self._tls_cleanup: weakref.finalize | None = None

    def set_base_url(self, url: str) -> None:
        self.base.update(instance=url, login=url)

    def tls_files(self) -> tuple[Path, Path, Path]:
        """(certfile, keyfile, cafile), made once in a temporary directory of their own."""
        if self._tls is None:
            self._tls = tls.generate()
            directory = self._tls[0].parent
            self._tls_cleanup = weakref.finalize(self, shutil.rmtree, directory, True)
        return self._tls

    def forget_private_key(self) -> None:
        """Delete the server's key file once a server has loaded it (it stays in memory)."""
        if self._tls is not None:
            self._tls[1].unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the TLS files; the sandbox itself stays usable in memory."""
        if self._tls_cleanup is not None:
            self._tls_cleanup()
        self._tls = self._tls_cleanup = None

    def __enter__(self) -> SalesforceSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def issue_session(self, user_id: str | None = None) -> str:
        token = f"{self.org.id[:15]}!AQ{secrets.token_urlsafe(40)}"
        with self.org.lock:
            self.sessions[token] = Session(user_id or self.org.integration_user, self.org.clock())
        return token

    def session_token_body(self, url: str) -> dict[str, str]:
        """A token answer for a new session of the integration user, served at `url`: what
        `connect_salesforce` takes when no OAuth flow is wanted (benchmarks, the demo)."""
        org = self.org
        return {
            "access_token": self.issue_session(),
            "instance_url": url,
            "id": f"{url}/id/{org.id}/{org.integration_user}",
        }

    def register_connected_app(self, redirect_uris: list[str]) -> tuple[str, str]:
        client_id = "3MVG9" + secrets.token_urlsafe(40)
        secret = secrets.token_hex(32).upper()
        self.oauth.apps[client_id] = {"secret": secret, "redirect_uris": list(redirect_uris)}
        return client_id, secret


def run(
    port: int, host: str = "127.0.0.1", https: bool = True, seed: int = 1, accounts: int = 0
) -> None:
    """Serve a sandbox in the foreground and print how to reach it (flushed at once, so a
    script reading a pipe sees it). Its TLS key is deleted as soon as the server loaded it,
    and the other TLS files when it stops."""
    import uvicorn

    from leadbridge.sandbox.salesforce.seed import seed_org

    with SalesforceSandbox(seed=seed) as sb:
        if accounts:
            report = seed_org(sb.org, accounts=accounts, leads=accounts * 2, seed=seed)
            print(f"  seeded: {report}")
        scheme = "https" if https else "http"
        sb.set_base_url(f"{scheme}://localhost:{port}")
        token = sb.issue_session()
        client_id, secret = sb.register_connected_app(["http://127.0.0.1:8767/callback"])
        print(f"Salesforce sandbox on {scheme}://localhost:{port} (org {sb.org.id})")
        ssl: dict[str, str] = {}
        if https:
            cert, key, ca = sb.tls_files()
            ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
            print(f"  CA file for clients (verify=): {ca}")
        print(f"  session id: {token}")
        print(f"  connected app: client_id={client_id} client_secret={secret}", flush=True)
        config = uvicorn.Config(sb.app, host=host, port=port, log_level="warning", **ssl)  # type: ignore[arg-type]
        config.load()  # reads the key into the SSL context: the file is not needed any more
        sb.forget_private_key()
        server = uvicorn.Server(config)
        try:
            server.run()
        except KeyboardInterrupt:  # Ctrl+C: uvicorn re-raises it once shut down, as uvicorn.run
            pass
        if not server.started:
            sys.exit(3)  # as uvicorn.run: the port was taken or the bind failed
