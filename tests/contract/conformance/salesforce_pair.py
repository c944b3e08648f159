"""Salesforce: SalesforceConnector against the Salesforce sandbox over HTTPS with its own CA,
connected through the OAuth web-server flow (refreshed on INVALID_SESSION_ID)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx

from leadbridge.connectors.base import Connector
from leadbridge.connectors.http import Budget
from leadbridge.connectors.oauth import OAuthSession, OAuthTokens, RefreshingAuth
from leadbridge.connectors.salesforce import SalesforceClient, SalesforceConnector
from leadbridge.connectors.salesforce import oauth as sf_oauth
from leadbridge.connectors.salesforce.catalog import CATALOG
from leadbridge.connectors.salesforce.client import is_invalid_session
from leadbridge.connectors.salesforce.preset import PRESET
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.salesforce.ids import make_id
from leadbridge.sandbox.salesforce.schema import PREFIXES
from leadbridge.sandbox.server import ServedApp

from ...salesforce_oauth import oauth_token_body
from .pair import FAST, OVERLAP, OAuthCase, Pair, Subject

NOWHERE = "001000000000000AAA"  # a well-formed account id the org does not hold
STAMPED = "2020-01-01T00:00:00.000+0000"


class SalesforcePair(Pair):
    system = "salesforce"
    catalog = CATALOG
    preset = PRESET
    not_applicable: ClassVar[dict[str, str]] = {}
    # Conversions come out of the incremental read of leads; merges and deletions out of
    # `read_deleted` (queryAll), as connectors/salesforce/reads.py documents.
    event_reads: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {
        "converted": ("Lead", ("read_changed", "read_ids")),
        "merged": ("Contact", ("read_deleted",)),
        "deleted": ("Contact", ("read_deleted",)),
    }

    def __init__(self) -> None:
        super().__init__()
        self.sandbox = SalesforceSandbox(seed=4, clock=self.clock)
        org = self.sandbox.org
        org.restrict_picklist("Account", "Industry")
        org.restrict_picklist("Contact", "LeadSource")
        self.subjects = (
            Subject(
                "Account",
                make=lambda i: {"Name": f"Conform {i}", "Website": f"conform{i}.example"},
                change=lambda i: {"Name": f"Renamed {i}"},
                refused_remotely=(lambda i: {"Name": f"Bad {i}", "ParentId": NOWHERE}, "ParentId"),
                refused_locally={
                    "restricted": {"Name": "Restricted", "Industry": "Alchemy"},
                    "read_only": {"Name": "Stamped", "CreatedDate": STAMPED},
                    "required": {"Website": "nameless.example"},
                },
            ),
            Subject(
                "Contact",
                make=lambda i: {"LastName": f"Conform{i}", "Email": f"conform{i}@example.com"},
                change=lambda i: {"Title": f"VP {i}"},
                refused_remotely=(
                    lambda i: {"LastName": f"Bad{i}", "AccountId": NOWHERE},
                    "AccountId",
                ),
                refused_locally={
                    "restricted": {"LastName": "Restricted", "LeadSource": "Fax"},
                    "read_only": {"LastName": "Stamped", "CreatedDate": STAMPED},
                    "required": {"FirstName": "Nameless"},
                },
            ),
        )

    @contextmanager
    def serve(self) -> Iterator[SalesforcePair]:
        cert, key, ca = self.sandbox.tls_files()
        with ServedApp(self.sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served:
            self.sandbox.set_base_url(served.url)
            self.url = served.url
            self.tls = ssl.create_default_context(cafile=str(ca))
            self.ca = str(ca)
            yield self
        self.sandbox.close()

    def _session(self) -> tuple[OAuthTokens, OAuthSession, list[bool]]:
        body, client_id, secret = oauth_token_body(self.sandbox, self.url, self.ca)
        attempts: list[bool] = []

        async def refresh(current: OAuthTokens) -> OAuthTokens:
            try:
                fresh = await sf_oauth.refresh(
                    self.url, client_id, secret, current, verify=self.tls
                )
            except Exception:
                attempts.append(False)
                raise
            attempts.append(True)
            return fresh

        tokens = sf_oauth.tokens_from(body)
        return tokens, OAuthSession(tokens, refresh), attempts

    def _connector(self, session: OAuthSession, budget: Budget) -> SalesforceConnector:
        client = SalesforceClient(
            self.url,
            auth=RefreshingAuth(session, is_invalid_session),
            verify=self.tls,
            budget=budget,
            policy=FAST,
        )
        return SalesforceConnector(client, overlap=OVERLAP)

    def _connect(self, budget: Budget) -> Connector:
        _, session, _ = self._session()
        return self._connector(session, budget)

    # --- what the remote holds ---------------------------------------------------------------

    def seed(self, stream: str, values: dict[str, Any]) -> str:
        made = self.sandbox.org.create(stream, dict(values))
        assert made.id is not None, made.errors
        return made.id

    def edit(self, stream: str, remote_id: str, values: dict[str, Any]) -> None:
        rep = self.sandbox.org.ensure_user("rep@sandbox.example", "Sales", "Rep")
        assert self.sandbox.org.bump(stream, remote_id, dict(values), rep).success

    def held(self, stream: str, remote_id: str) -> dict[str, Any] | None:
        row = self.sandbox.org.row(stream, remote_id)
        return None if row is None or row["IsDeleted"] else dict(row)

    def count(self, stream: str) -> int:
        return sum(1 for r in self.sandbox.org.rows(stream) if not r["IsDeleted"])

    def missing_id(self, stream: str) -> str:
        return make_id(PREFIXES[stream], 999_999_999)

    def api_calls(self) -> int:
        return self.sandbox.org.api_usage

    campaign_person_stream = "Contact"

    def make_campaign(self, name: str) -> str:
        return self.seed("Campaign", {"Name": name})

    def campaign_members(self, campaign_id: str) -> set[str]:
        return {
            str(r["ContactId"] or r["LeadId"])
            for r in self.sandbox.org.rows("CampaignMember")
            if not r["IsDeleted"] and r["CampaignId"] == campaign_id
        }

    def deny_campaign_members(self) -> None:
        self.sandbox.org.deny_campaign_members = True

    # --- faults ------------------------------------------------------------------------------

    @contextmanager
    def failing(self) -> Iterator[None]:
        self.sandbox.knobs.error_rate_5xx = 1.0  # 503 before the call takes effect
        try:
            yield
        finally:
            self.sandbox.knobs.error_rate_5xx = 0.0

    @contextmanager
    def answers_lost(self) -> Iterator[None]:
        # A create through Collections is never sent twice (it may have landed): every write
        # inside loses its answer, and the suite makes one.
        self.sandbox.knobs.error_after_commit_rate = 1.0
        try:
            yield
        finally:
            self.sandbox.knobs.error_after_commit_rate = 0.0

    def rate_limit(self, count: int, *, long: bool) -> float | None:
        if long:  # the org's rolling 24 h limit is spent
            self.sandbox.org.api_usage = self.sandbox.org.daily_limit
        else:  # "ConcurrentPerOrgLongTxn Limit exceeded", which clears in seconds
            self.sandbox.knobs.concurrency_burst = count
        return None  # Salesforce names no wait: the connector's table does

    def garbage(self, count: int) -> None:
        self.sandbox.knobs.garbage_next = count

    def denied(self) -> Connector:
        self.sandbox.knobs.api_disabled = True  # the profile lost "API Enabled"
        return self.connect()

    def bad_credentials(self) -> Connector:
        _, _, _ = self._session()  # a connected app exists; this pair's tokens are not its own
        session = OAuthSession(OAuthTokens("00Dbogus!token", "bogus-refresh"), self._refuse)
        return self.track(self._connector(session, Budget(ceiling=1.0)))

    async def _refuse(self, tokens: OAuthTokens) -> OAuthTokens:
        return await sf_oauth.refresh(self.url, "no-such-app", "secret", tokens, verify=self.tls)

    async def oauth(self) -> OAuthCase:
        _, session, attempts = self._session()
        return OAuthCase(self.track(self._connector(session, Budget(ceiling=1.0))), attempts)

    def expire_access_tokens(self) -> None:
        with self.sandbox.org.lock:
            for session in self.sandbox.sessions.values():
                session.revoked = True

    def revoke_refresh_tokens(self) -> None:
        self.sandbox.oauth.refresh.clear()

    # --- cursors -----------------------------------------------------------------------------

    def begin_late(self, stream: str, values: dict[str, Any]) -> Any:
        # A transaction that stamped its rows a moment ago (in an earlier second than the last
        # record a read made now sees) and commits only later.
        return (stream, dict(values), self.clock() - 1.5)

    def finish_late(self, late: Any) -> str:
        stream, values, stamp = late
        now = self.clock.frozen
        self.clock.frozen = stamp
        try:
            return self.seed(stream, values)
        finally:
            self.clock.frozen = now

    def small_pages(self) -> None:
        self.sandbox.knobs.query_batch_size = 200  # Salesforce's smallest batch

    # --- budget ------------------------------------------------------------------------------

    def set_daily_limit(self, limit: int) -> None:
        self.sandbox.org.daily_limit = limit

    def daily_used(self) -> int:
        return self.sandbox.org.api_usage

    # --- events (merges and conversions through the admin surface) -------------------------------

    def _admin(self, path: str, **params: str) -> Any:
        with httpx.Client(base_url=self.url, verify=self.tls, trust_env=False) as http:
            answer = http.post(f"/__admin__/{path}", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sample(self, stream: str, number: int) -> dict[str, Any]:
        if stream == "Lead":
            return {"LastName": f"Lead{number}", "Company": f"Lead Co {number}",
                    "Email": f"lead{number}@example.com"}  # fmt: skip
        return super().sample(stream, number)

    def convert(self, lead_id: str) -> dict[str, str]:
        made = self._admin(f"convert/{lead_id}")
        return {"Contact": made["contactId"], "Account": made["accountId"]}

    def merge(self, stream: str, survivor: str, loser: str) -> str:
        self._admin(f"merge/{stream}/{survivor}", losers=loser)
        return survivor

    def delete(self, stream: str, remote_id: str) -> None:
        assert self.sandbox.org.delete(stream, remote_id).success
