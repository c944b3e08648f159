"""The Apollo sandbox: a faithful local emulator of Apollo's REST API, with fault knobs.

    sandbox = ApolloSandbox(seed=1)                  # or ApolloSandbox(seed=1, clock=fake_clock)
    rep = sandbox.add_user(email="ann@team.example", first_name="Ann", last_name="Rep")
    sandbox.add_account(name="Acme", domain="acme.com", owner_id=rep["id"])
    key = sandbox.issue_api_key(master=True)         # or master=False, scopes=["api/v1/..."]
    client_id, secret = sandbox.register_oauth_app(["https://app.example/cb"], ["account_read"])
    with ServedApp(sandbox.app) as served: ...       # real loopback socket
    sandbox.accounts(); sandbox.calls; sandbox.knobs.error_rate_5xx = 0.2; sandbox.clock = clock

All of that is also possible over HTTP under /__admin__/ (admin_api.py), with held requests
(holds.py). `leadbridge sandbox apollo --port N` serves one in the foreground (`run`); `seed`
fills a team.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse

from leadbridge.sandbox.apollo.admin_api import admin_router
from leadbridge.sandbox.apollo.app import build_app
from leadbridge.sandbox.apollo.fields import domain_of
from leadbridge.sandbox.apollo.knobs import ApolloKnobs
from leadbridge.sandbox.apollo.seed import SeededTeam, seed_team
from leadbridge.sandbox.apollo.state import ApolloState
from leadbridge.sandbox.holds import Holds, add_holds

__all__ = ["ApolloKnobs", "ApolloSandbox", "SeededTeam", "run", "seed_team"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ApolloSandbox:
    def __init__(self, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.knobs = ApolloKnobs()
        self.state = ApolloState(seed=seed, clock=clock, knobs=self.knobs)
        self.holds = Holds()
        self.app = build_app(self.state)
        self.app.include_router(admin_router(self))
        add_holds(  # a dropped request's answer is never read: its client is gone
            self.app, self.holds, lambda: JSONResponse({"error": "dropped by a hold"}, 503)
        )

    @property
    def clock(self) -> Callable[[], float]:
        return self.state.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.state.clock = clock

    @property
    def team_id(self) -> str:
        return self.state.team_id

    @property
    def calls(self) -> Counter[str]:
        """API calls received, by route: `"POST /api/v1/accounts/bulk_create": 3`."""
        return self.state.calls

    @property
    def api_keys(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {
                key: {"user_id": k.user_id, "master": k.master, "scopes": sorted(k.routes)}
                for key, k in self.state.credentials.api_keys.items()
            }

    def add_user(
        self,
        *,
        email: str,
        first_name: str = "",
        last_name: str = "",
        deleted: bool = False,
        title: str | None = None,
    ) -> dict[str, Any]:
        return self.state.add_user(email, first_name, last_name, deleted=deleted, title=title)

    def delete_user(self, user_id: str) -> None:
        with self.state.lock:
            self.state.users[user_id]["deleted"] = True

    def add_account(
        self,
        *,
        name: str | None = None,
        domain: str | None = None,
        owner_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A pre-existing account (as if made in Apollo's UI); not validated, not rate limited."""
        with self.state.lock:
            values = {**fields, "name": name, "domain": domain_of(domain), "owner_id": owner_id}
            account = self.state.new_account(values)
            account["source"] = account["original_source"] = "user"
            account["source_display_name"] = "Added by user"
            return copy.deepcopy(account)

    def add_custom_field(self, modality: str, name: str, kind: str = "string") -> dict[str, Any]:
        return self.state.add_custom_field(modality, name, kind)

    def accounts(self) -> list[dict[str, Any]]:
        """A snapshot of every account, in creation order."""
        with self.state.lock:
            return copy.deepcopy(list(self.state.accounts.values()))

    def users(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(list(self.state.users.values()))

    def stage_id(self, name: str) -> str:
        return next(s["id"] for s in self.state.stages if s["name"] == name)

    def custom_field_id(self, name: str, modality: str = "account") -> str:
        return next(
            f["id"]
            for f in self.state.custom_fields
            if f["name"] == name and f["modality"] == modality
        )

    def issue_api_key(self, *, master: bool = True, scopes: list[str] | None = None) -> str:
        """A key of the admin user; a non-master key reaches only the routes in `scopes`."""
        with self.state.lock:
            return self.state.credentials.issue_api_key(self.state.admin["id"], master, scopes)

    def register_oauth_app(
        self, redirect_uris: list[str], scopes: list[str] | None = None
    ) -> tuple[str, str]:
        """(client_id, client_secret). Without scopes, any requested scope may be granted."""
        with self.state.lock:
            return self.state.credentials.register_app(redirect_uris, scopes)


def run(
    port: int,
    host: str = "127.0.0.1",
    seed_users: int = 5,
    seed_accounts: int = 0,
    seed: int = 1,
    redirect_uri: str = "http://127.0.0.1:8766/callback",
) -> None:
    """Serve a seeded sandbox in the foreground and print how to reach it."""
    import uvicorn

    if host not in LOOPBACK:
        raise ValueError("the Apollo sandbox only listens on a loopback address")
    sandbox = ApolloSandbox(seed=seed)
    seed_team(sandbox, seed_users, seed_accounts, seed)
    key = sandbox.issue_api_key(master=True)
    client_id, secret = sandbox.register_oauth_app([redirect_uri])
    print(f"Apollo sandbox on http://{host}:{port}  (team {sandbox.team_id})")
    print(f"  API key (master): {key}")
    print(f"  OAuth app: client_id={client_id} client_secret={secret}")
    print(f"             redirect_uri={redirect_uri}")
    print(f"             authorize at http://{host}:{port}/oauth/authorize")
    print(f"  admin surface: http://{host}:{port}/__admin__/ (users, accounts, knobs, faults)")
    # flush: a script reading our output through a pipe needs the key now, not at exit
    print(
        f"  leadbridge connect apollo --base-url http://{host}:{port} --api-key {key}", flush=True
    )
    uvicorn.run(sandbox.app, host=host, port=port, log_level="warning")
