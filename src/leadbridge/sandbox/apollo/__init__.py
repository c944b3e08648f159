"""The Apollo sandbox: a faithful local emulator of Apollo's REST API, with fault knobs.

    sandbox = ApolloSandbox(seed=1)
    sandbox.add_user(email=..., first_name=..., last_name=..., deleted=False)
    sandbox.add_account(name=..., domain=..., owner_id=...)
    key = sandbox.issue_api_key(master=True)
    with ServedApp(sandbox.app) as served: ...      # real loopback socket
    sandbox.accounts(); sandbox.calls; sandbox.knobs.error_rate_5xx = 0.2

`leadbridge sandbox apollo --port N` serves one in the foreground (`run`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from leadbridge.sandbox.apollo.app import build_app, domain_of
from leadbridge.sandbox.apollo.state import ApolloKnobs, ApolloState

__all__ = ["ApolloKnobs", "ApolloSandbox", "run"]


class ApolloSandbox:
    def __init__(self, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.knobs = ApolloKnobs()
        self.state = ApolloState(seed=seed, clock=clock, knobs=self.knobs)
        self.app = build_app(self.state)

    @property
    def team_id(self) -> str:
        return self.state.team_id

    @property
    def calls(self) -> Counter[str]:
        return self.state.calls

    def add_user(
        self, *, email: str, first_name: str = "", last_name: str = "", deleted: bool = False
    ) -> dict[str, Any]:
        return self.state.add_user(email, first_name, last_name, deleted=deleted)

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
        with self.state.lock:
            account = self.state.new_account({}, self.state.admin["id"])
            account.update(fields, name=name, domain=domain_of(domain), owner_id=owner_id)
            self.state.reindex(account)
            return dict(account)

    def accounts(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(a) for a in self.state.accounts.values()]

    def users(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(u) for u in self.state.users.values()]

    def issue_api_key(self, *, master: bool = True, scopes: list[str] | None = None) -> str:
        return self.state.issue_api_key(master=master, scopes=scopes)

    def register_oauth_app(
        self, redirect_uris: list[str], scopes: list[str] | None = None
    ) -> tuple[str, str]:
        return self.state.register_oauth_app(redirect_uris, scopes)


def seed_team(sandbox: ApolloSandbox, users: int, accounts: int, seed: int = 1) -> None:
    """Realistic reps and saved accounts (deterministic by seed)."""
    from leadbridge.sandbox import fakes

    reps = [
        sandbox.add_user(email=p.email, first_name=p.first_name, last_name=p.last_name)
        for p in fakes.people(users, "sandbox-team.example", seed)
    ]
    for i, company in enumerate(fakes.companies(accounts, seed + 1)):
        sandbox.add_account(
            name=company.name,
            domain=company.domain,
            owner_id=reps[i % len(reps)]["id"] if reps else None,
        )


def run(
    port: int, host: str = "127.0.0.1", seed_users: int = 5, seed_accounts: int = 0, seed: int = 1
) -> None:
    import uvicorn

    sandbox = ApolloSandbox(seed=seed)
    seed_team(sandbox, seed_users, seed_accounts, seed)
    key = sandbox.issue_api_key(master=True)
    client_id, secret = sandbox.register_oauth_app(["http://127.0.0.1:8766/callback"])
    print(f"Apollo sandbox on http://{host}:{port}  (team {sandbox.team_id})")
    print(f"  API key (master): {key}")
    print(
        f"  OAuth app: client_id={client_id} client_secret={secret} "
        "redirect_uri=http://127.0.0.1:8766/callback"
    )
    print(f"  leadbridge connect apollo --base-url http://{host}:{port} --api-key {key}")
    uvicorn.run(sandbox.app, host=host, port=port, log_level="warning")
