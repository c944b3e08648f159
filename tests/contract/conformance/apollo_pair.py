"""Apollo: ApolloConnector against the Apollo sandbox over plain HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx

from leadbridge.connectors.apollo import ApolloClient, ApolloConnector
from leadbridge.connectors.apollo.catalog import CATALOG
from leadbridge.connectors.apollo.preset import PRESET
from leadbridge.connectors.base import Connector
from leadbridge.connectors.http import Budget
from leadbridge.connectors.oauth import HeaderKeyAuth, OAuthSession, OAuthTokens, RefreshingAuth
from leadbridge.engine.systems.apollo import exchange_token
from leadbridge.sandbox.apollo import ApolloSandbox
from leadbridge.sandbox.apollo.endpoints import ALL
from leadbridge.sandbox.server import ServedApp

from .pair import FAST, Dice, OAuthCase, Pair, Subject

REDIRECT = "https://hub.example/callback"
NO_EVENTS = "Apollo's API reports no merges, conversions or deletions of accounts"


class ApolloPair(Pair):
    system = "apollo"
    catalog = CATALOG
    preset = PRESET
    not_applicable: ClassVar[dict[str, str]] = {
        "cursor": "Apollo has no changed-since read of accounts (the lead push is push-only): "
        "a read is the whole team's, and the cursor comes back as it was given",
        "budget": "Apollo reports no daily budget to keep a ceiling on: its per-endpoint "
        "windows (minute, hour, day) are enforced by Apollo itself with 429 and retry-after, "
        "which the connector defers on (RateLimitedError)",
        "converted": NO_EVENTS,
        "merged": NO_EVENTS,
        "deleted": NO_EVENTS,
        "restricted": "Apollo's account fields take free values; an owner outside the team "
        "is refused by Apollo itself (422, isolated by halving the batch)",
        "campaigns": "the lead push writes accounts only: no people to add to a campaign",
    }

    def __init__(self) -> None:
        super().__init__()
        self.sandbox = ApolloSandbox(seed=7, clock=self.clock)
        self.sandbox.knobs.set_rate_limits(minute=100_000, hour=1_000_000, day=10_000_000)
        self.rep = self.sandbox.add_user(email="ann@team.example", first_name="Ann")["id"]
        gone = self.sandbox.add_user(email="left@team.example", first_name="Left", deleted=True)
        self.key = self.sandbox.issue_api_key(master=True)
        rep, left = self.rep, gone["id"]
        self.subjects = (
            Subject(
                "account",
                make=lambda i: {
                    "name": f"Conform {i}",
                    "domain": f"conform{i}.example",
                    "owner_id": rep,
                },
                change=lambda i: {"name": f"Renamed {i}"},
                # A deactivated user: well-formed, and Apollo's 422 for the whole request.
                refused_remotely=(
                    lambda i: {"name": f"Bad {i}", "domain": f"bad{i}.example", "owner_id": left},
                    "owner_id",
                ),
                refused_locally={
                    "restricted": self.not_applicable["restricted"],
                    "read_only": {
                        "name": "Stamped",
                        "domain": "stamped.example",
                        "created_at": "2020-01-01T00:00:00Z",
                    },
                    "required": {"owner_id": rep},  # neither a name nor a domain
                },
            ),
        )

    @contextmanager
    def serve(self) -> Iterator[ApolloPair]:
        with ServedApp(self.sandbox.app) as served:
            self.url = served.url
            yield self

    def _client(self, auth: httpx.Auth) -> ApolloClient:
        return ApolloClient(self.url, auth=auth, policy=FAST, timeout=10)

    def _connect(self, budget: Budget) -> Connector:
        return ApolloConnector(self._client(HeaderKeyAuth("x-api-key", self.key)))

    # --- what the remote holds ---------------------------------------------------------------

    def seed(self, stream: str, values: dict[str, Any]) -> str:
        return str(self.sandbox.add_account(**values)["id"])

    def edit(self, stream: str, remote_id: str, values: dict[str, Any]) -> None:
        with self.sandbox.state.lock:
            self.sandbox.state.apply(self.sandbox.state.accounts[remote_id], dict(values))

    def held(self, stream: str, remote_id: str) -> dict[str, Any] | None:
        return next((a for a in self.sandbox.accounts() if a["id"] == remote_id), None)

    def count(self, stream: str) -> int:
        return len(self.sandbox.accounts())

    def missing_id(self, stream: str) -> str:
        return "5f" + "0" * 22

    def api_calls(self) -> int:
        return sum(self.sandbox.calls.values())

    # --- faults ------------------------------------------------------------------------------

    @contextmanager
    def failing(self) -> Iterator[None]:
        self.sandbox.knobs.fail_next(10_000, 500)  # before the call takes effect
        try:
            yield
        finally:
            self.sandbox.knobs.clear_faults()

    @contextmanager
    def answers_lost(self) -> Iterator[None]:
        knobs = self.sandbox.knobs
        self.sandbox.state.rng = Dice(1)  # type: ignore[assignment]
        knobs.error_rate_5xx, knobs.fail_after_commit = 0.5, True
        try:
            yield
        finally:
            knobs.error_rate_5xx, knobs.fail_after_commit = 0.0, False

    def rate_limit(self, count: int, *, long: bool) -> float | None:
        wait = 30.0 if long else 0.01  # Apollo rounds a retry-after up to whole seconds
        self.sandbox.knobs.burst_429(count, retry_after=wait)
        return 30.0 if long else 1.0

    def garbage(self, count: int) -> None:
        self.sandbox.knobs.garbage_next(count)

    def denied(self) -> Connector:
        key = self.sandbox.issue_api_key(master=False, scopes=["api/v1/auth/health"])
        return self.track(ApolloConnector(self._client(HeaderKeyAuth("x-api-key", key))))

    def bad_credentials(self) -> Connector:
        return self.track(ApolloConnector(self._client(HeaderKeyAuth("x-api-key", "no-such"))))

    async def oauth(self) -> OAuthCase:
        client_id, secret = self.sandbox.register_oauth_app([REDIRECT])
        scopes = " ".join(sorted({e.scope for e in ALL if e.scope}))
        with httpx.Client(base_url=self.url, trust_env=False) as http:
            back = http.post(
                "/oauth/authorize",
                data={
                    "client_id": client_id,
                    "redirect_uri": REDIRECT,
                    "response_type": "code",
                    "decision": "approve",
                    "scope": scopes,
                },
            )
        code = httpx.URL(back.headers["location"]).params["code"]
        form = {"client_id": client_id, "client_secret": secret}
        tokens = await exchange_token(
            self.url,
            {**form, "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        )
        attempts: list[bool] = []

        async def refresh(current: OAuthTokens) -> OAuthTokens:
            grant = {**form, "grant_type": "refresh_token", "refresh_token": current.refresh_token}
            try:
                fresh = await exchange_token(self.url, grant)  # type: ignore[arg-type]
            except Exception:
                attempts.append(False)
                raise
            attempts.append(True)
            return fresh

        session = OAuthSession(tokens, refresh, skew=0)
        connector = ApolloConnector(self._client(RefreshingAuth(session)))
        return OAuthCase(self.track(connector), attempts)

    def expire_access_tokens(self) -> None:
        with self.sandbox.state.lock:
            for token in self.sandbox.state.credentials.tokens.values():
                token.expires_at = self.clock()

    def revoke_refresh_tokens(self) -> None:
        with self.sandbox.state.lock:
            for refresh in self.sandbox.state.credentials.refresh_tokens.values():
                refresh.revoked = True
