"""The Salesforce REST API through the shared HTTP stack (reference: salesforce-api.md).

Response -> action table:

    2xx                                  success
    401 INVALID_SESSION_ID               AuthError          refresh once (RefreshingAuth)
    403 REQUEST_LIMIT_EXCEEDED           RateLimitedError   a rolling 24 h limit: defer the run
    403 (other)                          AccessDeniedError
    400 UNABLE_TO_LOCK_ROW, 5xx, 503     TransientError     backoff and retry
    300, 400, 404 (other)                PermanentError     field + hint into the error log
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
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
from leadbridge.connectors.http import ApiClient, Budget, CallCounter, RetryPolicy, Sleep, body_of

API_VERSION = "59.0"
COLLECTION_MAX = 200
LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
# A daily limit frees up over a rolling 24 h: far longer than any run should sleep.
DAILY_LIMIT_RETRY = 3600.0
CONCURRENCY_RETRY = 1.0
# What a person does about each error (the message already says what went wrong). Every hint
# is an instruction; `leadbridge errors retry` resends what the fix did not change.
HINTS = {
    "REQUIRED_FIELD_MISSING": "fill the field in the hub (the policy must map a hub field to "
    "it), or give it a default value in Salesforce",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "use one of the picklist's values (in the hub, or "
    "in the policy for a source field), or add the value to the picklist in Salesforce",
    "STRING_TOO_LONG": "shorten the value in the hub, or widen the field in Salesforce",
    "INVALID_EMAIL_ADDRESS": "correct the e-mail address in the hub",
    "DUPLICATES_DETECTED": "merge the record with the existing one in Salesforce, or let the "
    "duplicate rule allow saving (Setup → Duplicate Rules); then `leadbridge errors retry`",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "change the hub's values so the validation rule named "
    "in the message passes, or relax the rule in Salesforce",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "give the integration user edit access to the field in "
    "Salesforce, or make the policy's mapping crm_to_hub",
    "INVALID_FIELD": "correct or remove the field in the policy's field map "
    "(`leadbridge policy check` names it)",
    "ENTITY_IS_DELETED": "restore the record from the Salesforce recycle bin, or run "
    "`leadbridge pull` so the hub learns it was deleted",
    "NOT_FOUND": "run `leadbridge pull` so the hub learns the record was deleted or merged",
    "CANNOT_UPDATE_CONVERTED_LEAD": "run `leadbridge pull`: it follows the converted lead to "
    "its contact, which the next push updates",
    "INACTIVE_OWNER_OR_USER": "give the record an active owner in the hub, or reactivate the "
    "user in Salesforce",
    "MULTIPLE_CHOICES": "make the external id unique in Salesforce (merge the records that share "
    "it)",
}
# Errors whose body names no field, though one field is the cause.
IMPLIED_FIELD = {"INACTIVE_OWNER_OR_USER": "OwnerId"}


def first_error(body: Any) -> tuple[str | None, str, list[str]]:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        e = body[0]
        return (
            e.get("errorCode") or e.get("statusCode"),
            str(e.get("message", "")),
            list(e.get("fields") or []),
        )
    if isinstance(body, dict):
        return body.get("error"), str(body.get("error_description") or body), []
    return None, str(body or "")[:300], []


def error_for(
    code: str | None, message: str, fields: list[str], status: int | None = None
) -> ConnectorError:
    """One Salesforce error (a response's or a collection record's) as our error class."""
    if code == "INVALID_SESSION_ID":
        return AuthError(message, status=status, code=code)
    if code == "REQUEST_LIMIT_EXCEEDED":
        # The concurrency limit clears in seconds; the daily one over a rolling 24 h.
        wait = CONCURRENCY_RETRY if "Concurrent" in message else DAILY_LIMIT_RETRY
        return RateLimitedError(message, status=status, code=code, retry_after=wait)
    if code in ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE") or (status or 0) >= 500:
        return TransientError(message, status=status, code=code)
    return PermanentError(
        message,
        status=status,
        code=code,
        field=fields[0] if fields else IMPLIED_FIELD.get(code or ""),
        hint=HINTS.get(code or ""),
    )


def classify(response: httpx.Response) -> ConnectorError | None:
    status = response.status_code
    if status < 300:
        return None
    code, message, fields = first_error(body_of(response))
    if status == 300:
        return PermanentError(
            "several records match this external id",
            status=status,
            code="MULTIPLE_CHOICES",
            hint=HINTS["MULTIPLE_CHOICES"],
        )
    if status == 403 and code != "REQUEST_LIMIT_EXCEEDED":
        return AccessDeniedError(message, status=status, code=code)
    return error_for(code, message, fields, status)


def is_invalid_session(response: httpx.Response) -> bool:
    if response.status_code != 401:
        return False
    code, _, _ = first_error(body_of(response))
    return code in ("INVALID_SESSION_ID", None)


class SalesforceClient:
    def __init__(
        self,
        instance_url: str,
        *,
        auth: httpx.Auth,
        version: str = API_VERSION,
        budget: Budget | None = None,
        policy: RetryPolicy | None = None,
        counter: CallCounter | None = None,
        verify: Any = True,
        sleep: Sleep | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.version = version
        self.budget = budget or Budget()
        kwargs: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.api = ApiClient(
            instance_url.rstrip("/") + f"/services/data/v{version}/",
            classify=classify,
            auth=auth,
            policy=policy,
            budget=self.budget,
            counter=counter,
            observers=[self._read_limit_info],
            transport=transport,
            verify=verify,
            **kwargs,
        )
        self._describes: dict[str, dict[str, Any]] = {}

    def _read_limit_info(self, response: httpx.Response) -> None:
        match = LIMIT_INFO.search(response.headers.get("sforce-limit-info", ""))
        if match:
            self.budget.update(int(match.group(1)), int(match.group(2)))

    @property
    def calls(self) -> CallCounter:
        return self.api.counter

    async def aclose(self) -> None:
        await self.api.aclose()

    async def describe(self, sobject: str) -> dict[str, Any]:
        """Cached per client (one connection): a describe costs a call and changes rarely."""
        if sobject not in self._describes:
            self._describes[sobject] = await self.api.json("GET", f"sobjects/{sobject}/describe/")
        return self._describes[sobject]

    def forget_describes(self) -> None:
        self._describes.clear()

    async def limits(self) -> dict[str, Any]:
        return dict(await self.api.json("GET", "limits/"))

    async def query(
        self, soql: str, *, include_deleted: bool = False
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of records, following nextRecordsUrl (a path) until done."""
        body = await self.api.json(
            "GET", "queryAll/" if include_deleted else "query/", params={"q": soql}
        )
        while True:
            yield [
                {k: v for k, v in r.items() if k != "attributes"} for r in body.get("records", [])
            ]
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            body = await self.api.json("GET", next_url.split(f"/v{self.version}/", 1)[1])

    # --- Bulk API 2.0 queries (ingest jobs: bulk.py) ---------------------------------------

    async def bulk_query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        page: int = 50_000,
        poll: float = 0.2,
        max_wait: float = 1800.0,
    ) -> AsyncIterator[str]:
        """CSV pages of a query job, following Sforce-Locator until it says "null"."""
        job = await self.api.json(
            "POST",
            "jobs/query/",
            json={
                "operation": "queryAll" if include_deleted else "query",
                "query": soql,
                "contentType": "CSV",
                "lineEnding": "LF",
                "columnDelimiter": "COMMA",
            },
        )
        info = await self._wait(f"jobs/query/{job['id']}/", poll, max_wait)
        if info["state"] != "JobComplete":
            raise PermanentError(
                f"bulk query job {job['id']} {info['state']}", code="BULK_JOB_FAILED"
            )
        locator = ""
        while True:
            params: dict[str, Any] = {"maxRecords": page}
            if locator:
                params["locator"] = locator
            response = await self.api.request(
                "GET",
                f"jobs/query/{job['id']}/results/",
                params=params,
                headers={"Accept": "text/csv"},
            )
            yield response.text
            locator = response.headers.get("sforce-locator", "null")
            if locator in ("null", ""):
                return

    async def _wait(self, path: str, poll: float, max_wait: float) -> dict[str, Any]:
        waited = 0.0
        while True:
            info = dict(await self.api.json("GET", path))
            if info["state"] in ("JobComplete", "Failed", "Aborted"):
                return info
            if waited >= max_wait:
                raise TransientError(
                    f"bulk job {info['id']} still {info['state']} after {max_wait:.0f} s"
                )
            await asyncio.sleep(poll)
            waited += poll
            poll = min(poll * 1.5, 10.0)

    async def collection(
        self, method: str, path: str, payload: Any | None = None, params: Any = None
    ) -> list[dict[str, Any]]:
        return list(await self.api.json(method, path, json=payload, params=params))
