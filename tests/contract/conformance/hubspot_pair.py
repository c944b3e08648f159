"""HubSpot: HubSpotConnector against the HubSpot sandbox over plain HTTP on loopback, with a
private app's token (OAuth where the suite tests the refresh)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx

from leadbridge.connectors.base import Connector
from leadbridge.connectors.http import Budget
from leadbridge.connectors.hubspot import HubSpotClient, HubSpotConnector, private_app_auth
from leadbridge.connectors.hubspot import oauth as hs_oauth
from leadbridge.connectors.hubspot.catalog import CATALOG, COMPANY_FIELD
from leadbridge.connectors.hubspot.preset import PRESET
from leadbridge.connectors.oauth import OAuthSession, OAuthTokens, RefreshingAuth
from leadbridge.sandbox.hubspot import HubSpotSandbox
from leadbridge.sandbox.server import ServedApp

from .pair import FAST, OVERLAP, Dice, OAuthCase, Pair, Subject

REDIRECT = "http://127.0.0.1:9/callback"
UNIQUE = "hub_key"  # a custom company property with unique values (HubSpot checks them)


class HubSpotPair(Pair):
    system = "hubspot"
    catalog = CATALOG
    preset = PRESET
    not_applicable: ClassVar[dict[str, str]] = {
        "converted": "HubSpot has one person object (contacts): nothing converts into others",
    }
    # Merges come out of the incremental read (the losers as deleted records, merged into the
    # new record) and of reads by id; archives (deletions) out of reads by id and
    # `read_deleted`: search never shows an archived record (connectors/hubspot/reads.py).
    event_reads: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {
        "merged": ("contacts", ("read_changed", "read_ids")),
        "deleted": ("contacts", ("read_ids", "read_deleted")),
    }

    campaign_person_stream = "contacts"

    def make_campaign(self, name: str) -> str:
        return self.sandbox.make_list(name)

    def campaign_members(self, campaign_id: str) -> set[str]:
        return set(self.sandbox.list_members(campaign_id))

    def deny_campaign_members(self) -> None:
        self.sandbox.set_private_app_scope("crm.lists.write", False)

    def __init__(self) -> None:
        super().__init__()
        sb = self.sandbox = HubSpotSandbox(seed=5, clock=self.clock)
        sb.knobs.burst_limit = 100_000  # the tests of the limits set their own
        sb.knobs.search_per_second = 100_000
        sb.add_owner("ann.rep@portal.example", "Ann", "Rep")
        self.token = sb.issue_private_app_token()
        self.subjects = (
            Subject(
                "companies",
                make=lambda i: {"name": f"Conform {i}", "domain": f"conform{i}.example"},
                change=lambda i: {"name": f"Renamed {i}"},
                # A value of a unique property another company holds (seeded in `serve`).
                refused_remotely=(lambda i: {"name": f"Bad {i}", UNIQUE: "taken"}, UNIQUE),
                refused_locally={
                    "restricted": {"name": "Restricted", "industry": "ALCHEMY"},
                    "read_only": {"name": "Stamped", "createdate": "2020-01-01T00:00:00Z"},
                    "required": {"numberofemployees": "12"},  # neither a name nor a domain
                },
            ),
            Subject(
                "contacts",
                make=lambda i: {"email": f"conform{i}@example.com", "lastname": f"Conform{i}"},
                change=lambda i: {"jobtitle": f"VP {i}"},
                # A primary company HubSpot does not hold: its 207 error for that input alone.
                refused_remotely=(
                    lambda i: {"email": f"bad{i}@example.com", COMPANY_FIELD: "999"},
                    COMPANY_FIELD,
                ),
                refused_locally={
                    "restricted": {"email": "restricted@example.com", "lifecyclestage": "hot"},
                    "read_only": {"email": "stamped@example.com", "createdate": "2020-01-01"},
                    "required": {"jobtitle": "Nameless"},
                },
            ),
        )

    @contextmanager
    def serve(self) -> Iterator[HubSpotPair]:
        with ServedApp(self.sandbox.app) as served:
            self.sandbox.set_base_url(served.url)
            self.url = served.url
            with httpx.Client(base_url=self.url, trust_env=False) as http:
                made = http.post(
                    "/crm/v3/properties/companies",
                    headers={"Authorization": f"Bearer {self.token}"},
                    json={
                        "name": UNIQUE,
                        "label": "Hub key",
                        "type": "string",
                        "fieldType": "text",
                        "groupName": "companyinformation",
                        "hasUniqueValue": True,
                    },
                )
                assert made.status_code == 201, made.text
            self.clock.frozen = time.time() - 86_400  # a company made long before the tests
            self.seed("companies", {"name": "Holder", UNIQUE: "taken"})
            self.clock.frozen = None
            yield self

    def _client(self, auth: httpx.Auth, budget: Budget) -> HubSpotClient:
        return HubSpotClient(
            self.url, auth=auth, budget=budget, policy=FAST, search_per_second=100_000
        )

    def _connect(self, budget: Budget) -> Connector:
        client = self._client(private_app_auth(self.token), budget)
        return HubSpotConnector(client, overlap=OVERLAP)

    # --- what the remote holds ---------------------------------------------------------------

    def seed(self, stream: str, values: dict[str, Any]) -> str:
        return self.sandbox.console.create(stream, dict(values)).id

    def edit(self, stream: str, remote_id: str, values: dict[str, Any]) -> None:
        self.sandbox.console.update(stream, remote_id, dict(values))

    def held(self, stream: str, remote_id: str) -> dict[str, Any] | None:
        with self.sandbox.portal.lock:
            found = self.sandbox.portal.get(stream, remote_id)
        return None if found is None else dict(self.sandbox.record(stream, found.id)["properties"])

    def count(self, stream: str) -> int:
        return self.sandbox.count(stream)

    def missing_id(self, stream: str) -> str:
        return "73183578999999"

    def api_calls(self) -> int:
        return sum(self.sandbox.calls.values())

    # --- faults ------------------------------------------------------------------------------

    @contextmanager
    def failing(self) -> Iterator[None]:
        self.sandbox.knobs.error_rate_5xx = 1.0  # 502 before the call takes effect
        try:
            yield
        finally:
            self.sandbox.knobs.error_rate_5xx = 0.0

    @contextmanager
    def answers_lost(self) -> Iterator[None]:
        self.sandbox.ctx.rng = Dice(1)  # type: ignore[assignment]
        self.sandbox.knobs.error_after_commit_rate = 0.5
        try:
            yield
        finally:
            self.sandbox.knobs.error_after_commit_rate = 0.0

    def rate_limit(self, count: int, *, long: bool) -> float | None:
        if long:  # the portal's daily limit is spent: 429 DAILY
            self.sandbox.knobs.daily_limit = 0
        else:  # 429 TEN_SECONDLY_ROLLING; the window frees a tenth of itself a second
            self.sandbox.knobs.burst_429(count)
        return None

    def garbage(self, count: int) -> None:
        self.sandbox.knobs.garbage_next(count)

    def denied(self) -> Connector:
        token = self.sandbox.issue_private_app_token(scopes=["crm.objects.owners.read"])
        return self.track(HubSpotConnector(self._client(private_app_auth(token), Budget())))

    def bad_credentials(self) -> Connector:
        auth = private_app_auth("pat-na1-00000000-0000-0000-0000-000000000000")
        return self.track(HubSpotConnector(self._client(auth, Budget())))

    async def oauth(self) -> OAuthCase:
        client_id, secret = self.sandbox.register_oauth_app([REDIRECT])
        url = hs_oauth.authorize_url(client_id, REDIRECT, state="s", base=self.url)
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        with httpx.Client(base_url=self.url, trust_env=False) as http:
            granted = http.post("/oauth/authorize", data={**query, "decision": "grant"})
        code = parse_qs(urlsplit(granted.headers["location"]).query)["code"][0]
        tokens = await hs_oauth.exchange_code(self.url, client_id, secret, REDIRECT, code)
        attempts: list[bool] = []

        async def refresh(current: OAuthTokens) -> OAuthTokens:
            try:
                fresh = await hs_oauth.refresh(self.url, client_id, secret, current)
            except Exception:
                attempts.append(False)
                raise
            attempts.append(True)
            return fresh

        session = OAuthSession(tokens, refresh)
        connector = HubSpotConnector(self._client(RefreshingAuth(session), Budget()))
        return OAuthCase(self.track(connector), attempts)

    def expire_access_tokens(self) -> None:
        self.sandbox.expire_tokens()

    def revoke_refresh_tokens(self) -> None:
        with self.sandbox.portal.lock:
            for refresh in self.sandbox.ctx.credentials.refresh.values():
                refresh.revoked = True

    # --- cursors -----------------------------------------------------------------------------

    def begin_late(self, stream: str, values: dict[str, Any]) -> Any:
        # Search is eventually consistent: a record written now shows up a second later.
        self.sandbox.knobs.search_lag = 1.0
        return self.seed(stream, values)

    def finish_late(self, late: Any) -> str:
        self.sandbox.knobs.search_lag = 0.0
        return str(late)

    # --- budget ------------------------------------------------------------------------------

    def set_daily_limit(self, limit: int) -> None:
        self.sandbox.knobs.daily_limit = limit

    def daily_used(self) -> int:
        with self.sandbox.portal.lock:
            return sum(b.used_today for b in self.sandbox.ctx.limits.buckets.values())

    # --- events ------------------------------------------------------------------------------

    def merge(self, stream: str, survivor: str, loser: str) -> str:
        return self.sandbox.console.merge(stream, survivor, loser).id

    def delete(self, stream: str, remote_id: str) -> None:
        self.sandbox.console.archive(stream, remote_id)
