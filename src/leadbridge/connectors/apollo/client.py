"""The Apollo REST API (https://api.apollo.io/api/v1), as the reference documents it.

Response -> action table (ARCHITECTURE principle 8; reference part B7):

    2xx                      success
    401 (text/plain or JSON) AuthError          refresh once (OAuth), else reconnect
    403                      AccessDeniedError  missing scope / plan: connection-level
    422, 400, 404            PermanentError     this request's data is wrong
    429                      RateLimitedError   wait `retry-after` seconds
    5xx                      TransientError     backoff and retry
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from leadbridge.connectors.errors import (
    AccessDeniedError,
    AuthError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from leadbridge.connectors.http import (
    ApiClient,
    Budget,
    CallCounter,
    RateLimiter,
    RetryPolicy,
    Sleep,
    body_of,
    parse_retry_after,
)

BULK_CREATE_MAX = 100


@dataclass(frozen=True)
class BulkCreated:
    created: list[dict[str, Any]]
    existing: list[dict[str, Any]]
    # The request was resent after an attempt that may have landed: existing accounts created
    # since this moment (server clock) were made by that attempt, i.e. by us.
    landed_since: datetime | None = None

    def made_by_resend(self, account: dict[str, Any]) -> bool:
        if self.landed_since is None:
            return False
        created = parse_time(account.get("created_at"))
        return created is not None and created >= self.landed_since


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


BULK_UPDATE_MAX = 1000
PER_PAGE_MAX = 100


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body.get("error_message") or body)
    return str(body or "").strip()[:500]


def classify(response: httpx.Response) -> ConnectorError | None:
    status = response.status_code
    if status < 300:
        return None
    body = body_of(response)
    message = _message(body)
    code = body.get("error_code") if isinstance(body, dict) else None
    if status == 401:
        return AuthError(message or "unauthorized", status=status, code=code)
    if status == 403:
        return AccessDeniedError(message, status=status, code=code, body=body)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitedError(message, status=status, retry_after=retry_after, body=body)
    if status >= 500:
        return TransientError(message or "server error", status=status, body=body)
    return PermanentError(message, status=status, code=code, body=body)


class RateHeaders:
    """Reads Apollo's x-*-requests-left headers; an empty minute window pauses the limiter."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.left: dict[str, int] = {}

    def __call__(self, response: httpx.Response) -> None:
        for window in ("minute", "hourly", "24-hour"):
            value = response.headers.get(f"x-{window}-requests-left")
            if value not in (None, ""):
                try:
                    self.left[window] = int(value)
                except ValueError:
                    continue
        # Windows start at the first request, so the reset is at most a minute away; the
        # hourly/daily ones are left to the 429's own retry-after (they may defer the run).
        if self.left.get("minute") == 0 and response.status_code != 429:
            self.limiter.pause_for(60.0)


class ApolloClient:
    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        rate_per_second: float | None = None,
        counter: CallCounter | None = None,
        budget: Budget | None = None,
        sleep: Sleep | None = None,
        timeout: float = 30.0,
    ) -> None:
        kwargs: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.limiter = RateLimiter(rate_per_second, burst=20, **kwargs)
        self.rate = RateHeaders(self.limiter)
        self.api = ApiClient(
            base_url.rstrip("/") + "/api/v1/",
            classify=classify,
            auth=auth,
            policy=policy,
            limiter=self.limiter,
            budget=budget,
            counter=counter,
            observers=[self.rate],
            transport=transport,
            timeout=timeout,
            headers={"Cache-Control": "no-cache", "Accept": "application/json"},
            **kwargs,
        )

    @property
    def calls(self) -> CallCounter:
        return self.api.counter

    async def aclose(self) -> None:
        await self.api.aclose()

    async def __aenter__(self) -> ApolloClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- users, profile, stages, custom fields ------------------------------------------------

    async def api_profile(self) -> dict[str, Any]:
        body = await self.api.json("GET", "users/api_profile")
        return dict(body.get("user", body)) if isinstance(body, dict) else {}

    async def users(self) -> list[dict[str, Any]]:
        """Every user of the team, all pages (page numbers may come back as strings)."""
        users: list[dict[str, Any]] = []
        page = 1
        while True:
            body = await self.api.json(
                "GET", "users/search", params={"page": page, "per_page": PER_PAGE_MAX}
            )
            batch = list(body.get("users") or [])
            users.extend(batch)
            pages = int((body.get("pagination") or {}).get("total_pages") or 1)
            if page >= pages or not batch:
                return users
            page += 1

    async def account_stages(self) -> list[dict[str, Any]]:
        body = await self.api.json("GET", "account_stages")
        return list(body.get("account_stages") or [])

    async def typed_custom_fields(self) -> list[dict[str, Any]]:
        body = await self.api.json("GET", "typed_custom_fields")
        return list(body.get("typed_custom_fields") or [])

    # --- accounts -------------------------------------------------------------------------------

    async def bulk_create_accounts(
        self, accounts: list[dict[str, Any]], *, run_dedupe: bool = True
    ) -> BulkCreated:
        """Created and existing accounts. With run_dedupe a resend adopts what the first attempt
        made, so a 5xx is safe to retry (RETRY_UNSAFE); `landed_since` then tells which of the
        existing ones that first attempt made."""
        if len(accounts) > BULK_CREATE_MAX:
            raise ValueError(f"bulk_create takes at most {BULK_CREATE_MAX} accounts")
        body, delivery = await self.api.json_delivered(
            "POST",
            "accounts/bulk_create",
            json={"accounts": accounts, "run_dedupe": run_dedupe},
            retry_unsafe=run_dedupe,
        )
        created = body.get("created_accounts")
        if created is None:  # third-party specs name it newly_created_accounts
            created = body.get("newly_created_accounts") or []
        return BulkCreated(
            list(created), list(body.get("existing_accounts") or []), delivery.landed_since()
        )

    async def create_account(self, account: dict[str, Any]) -> dict[str, Any]:
        """POST /accounts never dedupes: a resend would duplicate, so a 5xx is not retried."""
        body = await self.api.json("POST", "accounts", json=account)
        return dict(body["account"])

    async def update_account(self, account_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        body = await self.api.json("PATCH", f"accounts/{account_id}", json=fields)
        return dict(body["account"])

    async def get_account(self, account_id: str) -> dict[str, Any]:
        body = await self.api.json("GET", f"accounts/{account_id}")
        return dict(body["account"])

    async def bulk_update_accounts(self, attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(attributes) > BULK_UPDATE_MAX:
            raise ValueError(f"bulk_update takes at most {BULK_UPDATE_MAX} accounts")
        body = await self.api.json(
            "POST", "accounts/bulk_update", json={"account_attributes": attributes}
        )
        return list(body.get("accounts") or [])

    async def search_accounts(
        self, *, name: str | None = None, page: int = 1, per_page: int = PER_PAGE_MAX
    ) -> tuple[list[dict[str, Any]], int]:
        payload: dict[str, Any] = {
            "page": page,
            "per_page": per_page,
            "sort_by_field": "account_created_at",
            "sort_ascending": True,
        }
        if name:
            payload["q_organization_name"] = name
        body = await self.api.json("POST", "accounts/search", json=payload)
        pages = int((body.get("pagination") or {}).get("total_pages") or 1)
        return list(body.get("accounts") or []), pages

    async def all_accounts(self) -> list[dict[str, Any]]:
        """Every saved account (display cap 50,000); used by plans and audits, not by runs."""
        accounts, pages = await self.search_accounts(page=1)
        for page in range(2, min(pages, 500) + 1):
            batch, _ = await self.search_accounts(page=page)
            accounts.extend(batch)
        return accounts


def chunked(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bound(records: int, batch: int) -> int:
    return math.ceil(records / batch) if records else 0
