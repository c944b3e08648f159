"""The HubSpot CRM API through the shared HTTP stack (reference: hubspot-and-apollo-api.md
part A; checked against the sandbox and shared/data/hubspot-recorded).

Response -> action table:

    2xx, 207                         success (207: per-input errors in `errors[]`)
    401 INVALID_/EXPIRED_AUTHENTICATION  AuthError         OAuth: refresh once (RefreshingAuth)
    403 MISSING_SCOPES, 403 (other)  AccessDeniedError     reconnect with the scopes named
    429 TEN_SECONDLY_ROLLING         RateLimitedError      wait (Retry-After, else 1 s), resend
    429 secondly (search)            RateLimitedError      wait 1 s, resend
    429 DAILY                        RateLimitedError      wait for the day to roll: the run defers
    5xx                              TransientError        backoff; resent only where safe
    400 VALIDATION_ERROR             PermanentError        the property (from the detail JSON
                                                           HubSpot embeds in `message`) + hint
    409 CONFLICT                     PermanentError        field `email`, the existing id named
    404 (HTML or OBJECT_NOT_FOUND)   PermanentError        deleted or merged away

Two limiters: the API's rolling window at the portal's tier, and search's own 5 per second
(limits.py). Both feed one call counter and one daily budget.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
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
    Delivery,
    RetryPolicy,
    Sleep,
    body_of,
    parse_retry_after,
)
from leadbridge.connectors.hubspot.limits import (
    SEARCH_PER_SECOND,
    InFlight,
    RateHeaders,
    WindowLimiter,
    api_limiter,
    search_limiter,
)

BASE_URL = "https://api.hubapi.com"
BATCH_MAX = 100  # inputs per batch call (reference A3)
SEARCH_PAGE = 200  # results per search page (reference A4)
LIST_PAGE = 100  # records per list page
TEN_SECONDLY_RETRY = 1.0  # the rolling window frees a tenth of itself per second
EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
# A unique property's value held by another record: "A company with hub_key K already exists".
UNIQUE_TAKEN = re.compile(r"\bwith ([a-z][a-z0-9_]*) .* already exists")
HINTS = {
    "INVALID_OPTION": "map the value to one of the property's options",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "map the value to one of the property's options",
    "PROPERTY_DOESNT_EXIST": "the property does not exist in this portal: check the field map",
    "INVALID_FIELD": "the property does not exist in this portal: check the field map",
    "READ_ONLY_VALUE": "HubSpot sets this property itself: map it crm_to_hub",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "HubSpot sets this property itself: map it crm_to_hub",
    "INVALID_EMAIL": "fix the e-mail address in the hub",
    "INVALID_EMAIL_ADDRESS": "fix the e-mail address in the hub",
    "INVALID_INTEGER": "the value is not a number: fix it in the hub or change the field map",
    "INVALID_LONG": "the value is not a date: fix it in the hub or change the field map",
    "INVALID_DATE": "a date property takes midnight UTC: fix it in the hub",
    "INVALID_BOOLEAN": "the value is not true or false: fix it in the hub",
    "INVALID_PROPERTY_VALUE": "trim the value in the hub",
    "REQUIRED_FIELD_MISSING": "a contact needs an e-mail, first or last name; a company a name "
    "or a domain",
    "CONFLICT": "another HubSpot contact has this e-mail: merge the two in HubSpot, or link the "
    "hub person to it",
    "UNIQUE_TAKEN": "another HubSpot record holds this value of a unique property: change it in "
    "the hub, or link the hub record to that one",
    "OBJECT_NOT_FOUND": "the record is gone from HubSpot (deleted or merged away)",
    "INVALID_ASSOCIATION": "the company is not in HubSpot (deleted or merged): link the person's "
    "company again",
    "NO_UNIQUE_KEY": "HubSpot companies have no unique property: create them (the engine "
    "matches by domain and name)",
}


def _detail(message: str) -> dict[str, Any] | None:
    """The first per-property problem HubSpot embeds in a VALIDATION_ERROR message, as JSON:
    `Property values were not valid: [{"isValid":false,"message":…,"error":…,"name":…}]`."""
    start = message.find("[{")
    if start < 0:
        return None
    try:
        found = json.loads(message[start:])
    except ValueError:
        return None
    return found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else None


def error_for(
    category: str | None, message: str, status: int | None = None, body: Any = None
) -> ConnectorError:
    """One HubSpot error (a response's, or one input's in a 207) as our error class."""
    if category in ("INVALID_AUTHENTICATION", "EXPIRED_AUTHENTICATION") or status == 401:
        return AuthError(message or "unauthorized", status=status, code=category)
    if category == "MISSING_SCOPES" or status == 403:
        return AccessDeniedError(
            f"{message} {_scopes(body)}".strip(), status=status, code=category, body=body
        )
    if (status or 0) >= 500:
        return TransientError(message or "server error", status=status, code=category)
    if category == "CONFLICT":
        # A contact's e-mail, unless the message names another unique property.
        taken = UNIQUE_TAKEN.search(message)
        field = taken.group(1) if taken else "email"
        hint = HINTS["CONFLICT"] if field == "email" else HINTS["UNIQUE_TAKEN"]
        return PermanentError(message, status=status, code="CONFLICT", field=field, hint=hint)
    if category == "OBJECT_NOT_FOUND" or status == 404:
        return PermanentError(
            message or "not found",
            status=status,
            code="OBJECT_NOT_FOUND",
            hint=HINTS["OBJECT_NOT_FOUND"],
        )
    detail = _detail(message) if category == "VALIDATION_ERROR" else None
    if detail is not None:
        code = str(detail.get("error") or "VALIDATION_ERROR")
        return PermanentError(
            str(detail.get("message") or message),
            status=status,
            code=code,
            field=detail.get("name"),
            hint=HINTS.get(code),
            body=body,
        )
    return PermanentError(message, status=status, code=category or "VALIDATION_ERROR", body=body)


def _scopes(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    wanted: list[str] = []
    for e in body.get("errors") or []:
        context = (e or {}).get("context") or {}
        wanted += context.get("requiredGranularScopes") or []
    return f"(needs one of: {', '.join(wanted[:6])})" if wanted else ""


def existing_id(error: ConnectorError) -> str | None:
    """The contact a 409 CONFLICT over its e-mail names ("Contact already exists. Existing ID:
    123"); not the holder of another unique property's value (that is no e-mail upsert)."""
    taken = error.code == "CONFLICT" and getattr(error, "field", None) == "email"
    found = EXISTING_ID.search(error.message) if taken else None
    return found.group(1) if found else None


def _rate_limited(response: httpx.Response, body: Any) -> RateLimitedError:
    policy = body.get("policyName") if isinstance(body, dict) else None
    message = str(body.get("message", "")) if isinstance(body, dict) else "rate limited"
    wait = parse_retry_after(response.headers.get("retry-after"))
    if wait is None:
        if policy == "DAILY":
            now = datetime.now(UTC)
            midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
            wait = (midnight - now).total_seconds()  # [U] the portal's own time zone may differ
        else:
            wait = TEN_SECONDLY_RETRY
    return RateLimitedError(
        message, status=429, code=policy or "RATE_LIMIT", retry_after=wait, body=body
    )


def classify(response: httpx.Response) -> ConnectorError | None:
    status = response.status_code
    if status < 300:
        return None
    body = body_of(response)
    if status == 429:
        return _rate_limited(response, body)
    if isinstance(body, dict):
        return error_for(body.get("category"), str(body.get("message", "")), status, body)
    if status == 404:  # the HTML page with X-HubSpot-NotFound (recorded)
        return error_for("OBJECT_NOT_FOUND", "not found", status)
    return error_for(None, str(body or "")[:300], status)


class HubSpotClient:
    def __init__(
        self,
        base_url: str = BASE_URL,
        *,
        auth: httpx.Auth,
        budget: Budget | None = None,
        policy: RetryPolicy | None = None,
        counter: CallCounter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        search_per_second: int = SEARCH_PER_SECOND,
        sleep: Sleep | None = None,
        timeout: float = 60.0,
    ) -> None:
        kwargs: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.budget = budget or Budget()
        self.counter = counter or CallCounter()
        self.limiter: WindowLimiter = api_limiter(**kwargs)
        self.search_limiter: WindowLimiter = search_limiter(search_per_second, **kwargs)
        wire = InFlight(transport or httpx.AsyncHTTPTransport(retries=0))
        search_wire = transport or httpx.AsyncHTTPTransport(retries=0)
        self.rate = RateHeaders(self.limiter, self.budget, lambda: wire.count)
        self.search_rate = RateHeaders(self.search_limiter, self.budget)
        common: dict[str, Any] = {
            "classify": classify,
            "auth": auth,
            "policy": policy,
            "budget": self.budget,
            "counter": self.counter,
            "timeout": timeout,
            "headers": {"Accept": "application/json"},
            **kwargs,
        }
        base = base_url.rstrip("/")
        self.api = ApiClient(
            base, limiter=self.limiter, observers=[self.rate], transport=wire, **common
        )
        # Search is exempt from the rolling window and has its own per-second limit.
        self.search_api = ApiClient(
            base,
            limiter=self.search_limiter,
            observers=[self.search_rate],
            transport=search_wire,
            **common,
        )

    @property
    def calls(self) -> CallCounter:
        return self.counter

    async def aclose(self) -> None:
        await self.api.aclose()
        await self.search_api.aclose()

    async def account_details(self) -> dict[str, Any]:
        """The portal's id (`portalId`, the Hub ID), time zone and currency."""
        return dict(await self.api.json("GET", "/account-info/v3/details"))

    async def properties(self, object_type: str) -> list[dict[str, Any]]:
        body = await self.api.json("GET", f"/crm/v3/properties/{object_type}")
        return list(body.get("results") or [])

    async def batch(
        self,
        object_type: str,
        action: str,
        inputs: list[dict[str, Any]],
        *,
        resend: bool = False,
        params: dict[str, str] | None = None,
        **extra: Any,
    ) -> tuple[dict[str, Any], Delivery]:
        """One batch call (≤ 100 inputs). `resend`: safe to send again after an answer that
        may have followed a landed write (a read, or a create HubSpot dedupes by e-mail)."""
        body, delivery = await self.api.json_delivered(
            "POST",
            f"/crm/v3/objects/{object_type}/batch/{action}",
            json={"inputs": inputs, **extra},
            params=params,
            retry_unsafe=resend,
        )
        return dict(body or {}), delivery

    async def search(self, object_type: str, request: dict[str, Any]) -> dict[str, Any]:
        """A search is a read: safe to resend."""
        body = await self.search_api.json(
            "POST", f"/crm/v3/objects/{object_type}/search", json=request, retry_unsafe=True
        )
        return dict(body or {})

    async def list_page(
        self, object_type: str, properties: list[str], after: str | None, archived: bool = False
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": LIST_PAGE, "properties": ",".join(properties)}
        if after:
            params["after"] = after
        if archived:
            params["archived"] = "true"
        return dict(await self.api.json("GET", f"/crm/v3/objects/{object_type}", params=params))

    async def deal_pipelines(self) -> list[dict[str, Any]]:
        body = await self.api.json("GET", "/crm/v3/pipelines/deals")
        return list(body.get("results") or [])

    async def owners(self, archived: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, "archived": str(archived).lower()}
            if after:
                params["after"] = after
            body = await self.api.json("GET", "/crm/v3/owners/", params=params)
            out += list(body.get("results") or [])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return out

    async def associations(
        self, from_type: str, to_type: str, action: str, inputs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Associations v4 batch calls; creating or removing one twice changes nothing, so
        they are safe to resend."""
        body = await self.api.json(
            "POST",
            f"/crm/v4/associations/{from_type}/{to_type}/batch/{action}",
            json={"inputs": inputs},
            retry_unsafe=True,
        )
        return dict(body or {})
