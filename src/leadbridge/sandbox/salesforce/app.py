"""The Salesforce REST API and OAuth endpoints over one Org (reference: salesforce-api.md).

Data calls (under /services/data/vXX.X/) need a live session (401 INVALID_SESSION_ID otherwise),
count against the org's daily limit (403 REQUEST_LIMIT_EXCEEDED past it) and carry
`Sforce-Limit-Info: api-usage=N/M`. Single-record errors are arrays of {message, errorCode,
fields}; collection results use statusCode per record, as the real API does.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from leadbridge.sandbox.consent import consent_page, refusal_page
from leadbridge.sandbox.holds import Holds, add_holds
from leadbridge.sandbox.salesforce import schema, soql
from leadbridge.sandbox.salesforce.bulk import add_bulk_routes
from leadbridge.sandbox.salesforce.ids import to18
from leadbridge.sandbox.salesforce.org import DmlError, Org, SaveResult, err

VERSIONS = ("57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


@dataclass
class SalesforceKnobs:
    seed: int = 1
    latency: float = 0.0
    error_rate_5xx: float = 0.0
    # A write that lands, then answers 503 (a timeout after commit, as the caller sees it).
    error_after_commit_rate: float = 0.0
    lock_row_rate: float = 0.0  # UNABLE_TO_LOCK_ROW per record (collections) or per call
    session_expiry_calls: int = 0  # a session dies after this many data calls (0: never)
    session_ttl: float = 2 * 3600.0  # org session timeout (2 h by default)
    # Salesforce has no 429: too many concurrent long requests answer 403 REQUEST_LIMIT_EXCEEDED
    # "ConcurrentPerOrgLongTxn Limit exceeded." — the next `concurrency_burst` calls get it.
    concurrency_burst: int = 0
    query_batch_size: int = 2000
    # Bulk ingest rows applied per second (0: as fast as it goes), so a job stays InProgress
    # long enough for a test to kill its client mid-job.
    bulk_rows_per_second: float = 0.0


@dataclass
class Session:
    user_id: str
    issued_at: float
    calls: int = 0
    revoked: bool = False


@dataclass
class Cursor:
    records: list[dict[str, Any]]
    total: int
    position: int
    batch: int
    all_rows: bool


@dataclass
class OAuthState:
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)


class Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def dml_failure(result: SaveResult) -> Reply:
    """A failed single-record write: 404 for a missing or deleted record, else 400."""
    code = result.errors[0]["statusCode"]
    status = 404 if code in ("NOT_FOUND", "ENTITY_IS_DELETED") else 400
    return Reply(status, rest_errors(result.errors))


def rest_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Single-record errors: errorCode (not statusCode); a duplicate keeps its duplicateResult
    ahead of the code and message, as recorded."""
    dups = [e for e in errors if "duplicateResult" in e]
    if dups:
        return [
            {
                "duplicateResult": e["duplicateResult"],
                "errorCode": e["statusCode"],
                "message": e["message"],
            }
            for e in dups
        ]
    return [
        {"message": e["message"], "errorCode": e["statusCode"], "fields": e.get("fields", [])}
        for e in errors
    ]


def serialize(
    org: Org, sobject: str, row: dict[str, Any], version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    describe = org.describe(sobject)
    out: dict[str, Any] = {"attributes": soql.attributes(sobject, row["Id"], version)}
    wanted = {f.lower() for f in fields} if fields else None
    for f in describe["fields"]:
        if wanted is None or f["name"].lower() in wanted:
            out[f["name"]] = soql.format_value(f["type"], row.get(f["name"]))
    return out


def admin_router(org: Org, knobs: SalesforceKnobs) -> APIRouter:
    """What users do in the Salesforce UI or through SOAP/Apex, which REST cannot: the
    sandbox's own surface under /__admin__/, never part of the emulated API."""
    admin = APIRouter(prefix="/__admin__")

    def guarded(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except DmlError as exc:
            raise Reply(400, rest_errors(exc.errors)) from None
        except (KeyError, ValueError) as exc:
            raise Reply(400, {"error": str(exc)}) from None

    @admin.post("/convert/{lead_id}")
    async def convert(lead_id: str, create_opportunity: bool = False) -> Any:
        return guarded(lambda: org.convert_lead(lead_id, create_opportunity=create_opportunity))

    @admin.post("/merge/{sobject}/{master_id}")
    async def merge(sobject: str, master_id: str, losers: str) -> Any:
        guarded(lambda: org.merge(sobject, master_id, losers.split(",")))
        return {"merged": True}

    @admin.post("/undelete/{sobject}/{record_id}")
    async def undelete(sobject: str, record_id: str) -> Any:
        guarded(lambda: org.undelete(sobject, record_id))
        return {"undeleted": True}

    @admin.post("/bump/{sobject}/{record_id}")
    async def bump(sobject: str, record_id: str, request: Request) -> Any:
        body = await request.json()
        user = body.pop("__user_id", None) or org.add_user("rep@sandbox.example", "Sales", "Rep")
        return guarded(lambda: org.bump(sobject, record_id, body, user).body())

    @admin.post("/limits")
    async def set_limits(daily: int, used: int | None = None) -> Any:
        org.daily_limit = daily
        if used is not None:
            org.api_usage = used
        return {"daily": org.daily_limit, "used": org.api_usage}

    @admin.post("/fields/{sobject}/{name}")
    async def add_field(
        sobject: str, name: str, kind: str = "string", external_id: bool = False
    ) -> Any:
        return guarded(
            lambda: org.add_custom_field(sobject, name, kind, external_id=external_id)["name"]
        )

    @admin.post("/picklists/{sobject}/{name}")
    async def restrict(sobject: str, name: str, restricted: bool = True) -> Any:
        guarded(lambda: org.restrict_picklist(sobject, name, restricted))
        return {"restricted": restricted}

    @admin.post("/knobs")
    async def set_knobs(request: Request) -> Any:
        for key, value in (await request.json()).items():
            if not hasattr(knobs, key):
                raise Reply(400, {"error": f"unknown knob {key}"})
            setattr(knobs, key, value)
        return vars(knobs)

    return admin


def build_app(
    org: Org,
    knobs: SalesforceKnobs,
    sessions: dict[str, Session],
    oauth: OAuthState,
    base: dict[str, str],
    holds: Holds | None = None,
) -> FastAPI:
    holds = holds if holds is not None else Holds()
    app = FastAPI(title="Salesforce sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    cursors: dict[str, Cursor] = {}
    rng = random.Random(knobs.seed)  # fault injection is reproducible run to run

    @app.exception_handler(Reply)
    async def _reply(_: Request, exc: Reply) -> Response:
        if exc.status == 204:
            return Response(status_code=204, headers=exc.headers)
        return JSONResponse(exc.body, exc.status, headers=exc.headers)

    def limit_header() -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={org.api_usage}/{org.daily_limit}"}

    async def session(request: Request) -> Session:
        if knobs.latency:
            await asyncio.sleep(knobs.latency)
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with org.lock:
            s = sessions.get(token)
            if (
                s is not None
                and knobs.session_expiry_calls
                and s.calls >= knobs.session_expiry_calls
            ):
                s.revoked = True
            if s is None or s.revoked or org.clock() - s.issued_at > knobs.session_ttl:
                raise Reply(401, INVALID_SESSION)
            if knobs.concurrency_burst > 0:
                knobs.concurrency_burst -= 1
                raise Reply(
                    403,
                    [
                        {
                            "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                            "errorCode": "REQUEST_LIMIT_EXCEEDED",
                        }
                    ],
                    limit_header(),
                )
            if org.api_usage >= org.daily_limit:
                raise Reply(
                    403,
                    [
                        {
                            "message": "TotalRequests Limit exceeded.",
                            "errorCode": "REQUEST_LIMIT_EXCEEDED",
                        }
                    ],
                    limit_header(),
                )
            org.api_usage += 1
            s.calls += 1
            if knobs.error_rate_5xx and rng.random() < knobs.error_rate_5xx:
                raise Reply(
                    503,
                    [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
                    limit_header(),
                )
        request.state.limit = True
        return s

    @app.middleware("http")
    async def _limit_info(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if not getattr(request.state, "limit", False):
            return response
        if (
            knobs.error_after_commit_rate
            and request.method in ("POST", "PATCH", "PUT", "DELETE")
            and response.status_code < 300
            and rng.random() < knobs.error_after_commit_rate
        ):
            body = [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
            return JSONResponse(body, status_code=503, headers=limit_header())
        response.headers.update(limit_header())
        return response

    def obj_or_404(name: str) -> str:
        canonical = org.canonical(name)
        if canonical is None:
            raise Reply(404, NOT_FOUND)
        return canonical

    async def json_body(request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return {}
        try:
            return await request.json()
        except ValueError:
            raise Reply(
                400,
                [
                    {
                        "message": "Unexpected character: was expecting a JSON value",
                        "errorCode": "JSON_PARSER_ERROR",
                    }
                ],
            ) from None

    def allow_save(request: Request) -> bool:
        header = request.headers.get("sforce-duplicate-rule-header", "")
        return any(p.strip().lower() == "allowsave=true" for p in header.split(";"))

    def lock_row() -> bool:
        return (
            bool(knobs.lock_row_rate) and secrets.randbelow(10_000) < knobs.lock_row_rate * 10_000
        )

    def locked(record_id: str | None) -> dict[str, Any]:
        return err(
            "UNABLE_TO_LOCK_ROW",
            f"unable to obtain exclusive access to this record or 1 records: {record_id or ''}",
        )

    # --- versions and resources (free: they do not count) -----------------------------------------

    @app.get("/services/data")
    @app.get("/services/data/")
    async def versions() -> list[dict[str, str]]:
        return [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS]

    api = APIRouter(prefix="/services/data/v{version}")

    @api.get("/")
    @api.get("")
    async def resources(version: str, request: Request) -> dict[str, str]:
        await session(request)
        base_path = f"/services/data/v{version}"
        return {
            k: f"{base_path}/{k}"
            for k in ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
        }

    @api.get("/limits")
    @api.get("/limits/")
    async def limits(version: str, request: Request) -> dict[str, Any]:
        await session(request)
        with org.lock:
            return {
                "DailyApiRequests": {
                    "Max": org.daily_limit,
                    "Remaining": max(0, org.daily_limit - org.api_usage),
                },
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
            }

    @api.get("/limits/recordCount")
    async def record_count(version: str, request: Request, sObjects: str = "") -> dict[str, Any]:
        await session(request)
        names = [n for n in sObjects.split(",") if org.canonical(n)]
        return {
            "sObjects": [
                {
                    "count": sum(1 for r in org.rows(n) if not r["IsDeleted"]),
                    "name": org.canonical(n),
                }
                for n in names
            ]
        }

    # --- describe ---------------------------------------------------------------------------------

    def urls(name: str, version: str) -> dict[str, str]:
        p = f"/services/data/v{version}/sobjects/{name}"
        return {"sobject": p, "describe": f"{p}/describe", "rowTemplate": f"{p}/{{ID}}"}

    def describe_out(name: str, version: str) -> dict[str, Any]:
        d = copy.deepcopy(org.describe(name))
        d["urls"] = urls(name, version)
        return d

    @api.get("/sobjects")
    @api.get("/sobjects/")
    async def describe_global(version: str, request: Request) -> dict[str, Any]:
        await session(request)
        keys = (
            "name",
            "label",
            "labelPlural",
            "keyPrefix",
            "custom",
            "createable",
            "updateable",
            "deletable",
            "queryable",
            "retrieveable",
            "searchable",
            "replicateable",
            "mergeable",
            "undeletable",
            "triggerable",
            "layoutable",
            "mruEnabled",
            "feedEnabled",
            "activateable",
            "customSetting",
            "deprecatedAndHidden",
            "hasSubtypes",
            "isInterface",
            "isSubtype",
        )
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [
                {**{k: org.describes[n].get(k) for k in keys}, "urls": urls(n, version)}
                for n in org.describes
            ],
        }

    @api.get("/sobjects/{name}/describe")
    @api.get("/sobjects/{name}/describe/")
    async def describe(version: str, name: str, request: Request) -> dict[str, Any]:
        await session(request)
        return describe_out(obj_or_404(name), version)

    @api.get("/sobjects/{name}")
    @api.get("/sobjects/{name}/")
    async def basic_info(version: str, name: str, request: Request) -> dict[str, Any]:
        await session(request)
        canonical = obj_or_404(name)
        full = describe_out(canonical, version)
        return {
            "objectDescribe": {
                k: v
                for k, v in full.items()
                if k not in ("fields", "childRelationships", "recordTypeInfos")
            },
            "recentItems": [],
        }

    # --- getUpdated / getDeleted ------------------------------------------------------------------

    def window(request: Request) -> tuple[datetime, datetime]:
        try:
            start = soql.parse_datetime(request.query_params["start"]).replace(
                second=0, microsecond=0
            )
            end = soql.parse_datetime(request.query_params["end"]).replace(second=0, microsecond=0)
        except (KeyError, ValueError):
            raise Reply(
                400,
                [
                    {
                        "message": "start and end must be ISO-8601 date-times",
                        "errorCode": "INVALID_REPLICATION_DATE",
                    }
                ],
            ) from None
        if start >= end:
            raise Reply(
                400,
                [
                    {
                        "message": "startDate must chronologically precede endDate",
                        "errorCode": "INVALID_REPLICATION_DATE",
                    }
                ],
            )
        return start, end

    @api.get("/sobjects/{name}/updated")
    @api.get("/sobjects/{name}/updated/")
    async def updated(version: str, name: str, request: Request) -> dict[str, Any]:
        await session(request)
        canonical, (start, end) = obj_or_404(name), window(request)
        if org.now() - start > timedelta(days=30):
            raise Reply(
                400,
                [
                    {
                        "message": "startDate cannot be more than 30 days ago",
                        "errorCode": "INVALID_REPLICATION_DATE",
                    }
                ],
            )
        ids = [
            r["Id"]
            for r in org.rows(canonical)
            if not r["IsDeleted"] and start <= r["SystemModstamp"] < end
        ]
        return {"ids": ids, "latestDateCovered": soql.format_value("datetime", end)}

    @api.get("/sobjects/{name}/deleted")
    @api.get("/sobjects/{name}/deleted/")
    async def deleted(version: str, name: str, request: Request) -> dict[str, Any]:
        await session(request)
        canonical, (start, end) = obj_or_404(name), window(request)
        earliest = org.now() - timedelta(days=15)
        with org.lock:
            gone = [
                {"id": i, "deletedDate": soql.format_value("datetime", when)}
                for i, when in org.deleted_log[canonical]
                if start <= when < end and org.records[canonical][i]["IsDeleted"]
            ]
        return {
            "deletedRecords": gone,
            "earliestDateAvailable": soql.format_value(
                "datetime", earliest.replace(second=0, microsecond=0)
            ),
            "latestDateCovered": soql.format_value("datetime", end),
        }

    # --- record CRUD and upsert -------------------------------------------------------------------

    @api.post("/sobjects/{name}")
    @api.post("/sobjects/{name}/")
    async def create(version: str, name: str, request: Request) -> Response:
        s = await session(request)
        canonical = obj_or_404(name)
        body = await json_body(request)
        if lock_row():
            raise Reply(400, rest_errors([locked(None)]))
        result = org.create(canonical, body, user_id=s.user_id, allow_dup_save=allow_save(request))
        if not result.success:
            raise Reply(400, rest_errors(result.errors))
        return JSONResponse({"id": result.id, "success": True, "errors": []}, 201)

    @api.get("/sobjects/{name}/{record_id}")
    async def read(version: str, name: str, record_id: str, request: Request) -> dict[str, Any]:
        await session(request)
        canonical = obj_or_404(name)
        row = org.row(canonical, record_id)
        if row is None or row["IsDeleted"]:
            raise Reply(404, NOT_FOUND)
        fields = request.query_params.get("fields")
        return serialize(org, canonical, row, version, fields.split(",") if fields else None)

    @api.patch("/sobjects/{name}/{record_id}")
    async def update(version: str, name: str, record_id: str, request: Request) -> Response:
        s = await session(request)
        canonical = obj_or_404(name)
        body = await json_body(request)
        if lock_row():
            raise Reply(400, rest_errors([locked(record_id)]))
        result = org.update(
            canonical, record_id, body, user_id=s.user_id, allow_dup_save=allow_save(request)
        )
        if not result.success:
            raise dml_failure(result)
        return Response(status_code=204)

    @api.delete("/sobjects/{name}/{record_id}")
    async def delete(version: str, name: str, record_id: str, request: Request) -> Response:
        s = await session(request)
        result = org.delete(obj_or_404(name), record_id, user_id=s.user_id)
        if not result.success:
            raise dml_failure(result)
        return Response(status_code=204)

    @api.get("/sobjects/{name}/{ext_field}/{value}")
    async def read_by_ext(
        version: str, name: str, ext_field: str, value: str, request: Request
    ) -> Any:
        await session(request)
        canonical = obj_or_404(name)
        f = org.field_of(canonical, ext_field)
        if f is None or not (f.get("externalId") or f.get("idLookup")):
            raise Reply(404, NOT_FOUND)
        found = org.matches(canonical, f["name"], value)
        if not found:
            raise Reply(404, NOT_FOUND)
        if len(found) > 1:
            raise Reply(
                300, [f"/services/data/v{version}/sobjects/{canonical}/{r['Id']}" for r in found]
            )
        return serialize(org, canonical, found[0], version)

    @api.patch("/sobjects/{name}/{ext_field}/{value}")
    async def upsert(
        version: str, name: str, ext_field: str, value: str, request: Request
    ) -> Response:
        s = await session(request)
        canonical = obj_or_404(name)
        body = await json_body(request)
        f = org.field_of(canonical, ext_field)
        if f is not None and len(org.matches(canonical, f["name"], value)) > 1:
            raise Reply(
                300,
                [
                    f"/services/data/v{version}/sobjects/{canonical}/{r['Id']}"
                    for r in org.matches(canonical, f["name"], value)
                ],
            )
        result = org.upsert(
            canonical, ext_field, value, body, user_id=s.user_id, allow_dup_save=allow_save(request)
        )
        if not result.success:
            status = 404 if result.errors[0]["statusCode"] == "NOT_FOUND" else 400
            raise Reply(status, rest_errors(result.errors))
        return JSONResponse(result.body(with_created=True), 201 if result.created else 200)

    # --- query ------------------------------------------------------------------------------------

    def batch_size(request: Request) -> int:
        options = request.headers.get("sforce-query-options", "")
        for part in options.split(","):
            key, _, value = part.strip().partition("=")
            if key.lower() == "batchsize" and value.isdigit():
                return max(200, min(2000, int(value)))
        return knobs.query_batch_size

    def page(version: str, locator: str, cursor: Cursor, all_rows: bool) -> dict[str, Any]:
        chunk = cursor.records[cursor.position : cursor.position + cursor.batch]
        cursor.position += len(chunk)
        body: dict[str, Any] = {
            "totalSize": cursor.total,
            "done": cursor.position >= len(cursor.records),
            "records": chunk,
        }
        if not body["done"]:
            kind = "queryAll" if all_rows else "query"
            body["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{locator}-{cursor.position}"
        else:
            cursors.pop(locator, None)
        return body

    async def run_query(version: str, request: Request, all_rows: bool) -> dict[str, Any]:
        await session(request)
        text = request.query_params.get("q", "")
        try:
            with org.lock:
                records, total = soql.execute(
                    soql.parse(text), org, include_deleted=all_rows, api_version=version
                )
        except soql.SoqlError as exc:
            raise Reply(400, [{"message": exc.message, "errorCode": exc.error_code}]) from None
        locator = "01g" + secrets.token_hex(6)
        cursors[locator] = Cursor(records, total, 0, batch_size(request), all_rows)
        return page(version, locator, cursors[locator], all_rows)

    async def more(version: str, locator: str, request: Request, all_rows: bool) -> dict[str, Any]:
        await session(request)
        key, _, offset = locator.rpartition("-")
        cursor = cursors.get(key)
        if cursor is None or not offset.isdigit() or int(offset) != cursor.position:
            raise Reply(
                400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
            )
        return page(version, key, cursor, all_rows)

    @api.get("/query")
    @api.get("/query/")
    async def query(version: str, request: Request) -> dict[str, Any]:
        return await run_query(version, request, False)

    @api.get("/queryAll")
    @api.get("/queryAll/")
    async def query_all(version: str, request: Request) -> dict[str, Any]:
        return await run_query(version, request, True)

    @api.get("/query/{locator}")
    async def query_more(version: str, locator: str, request: Request) -> dict[str, Any]:
        return await more(version, locator, request, False)

    @api.get("/queryAll/{locator}")
    async def query_all_more(version: str, locator: str, request: Request) -> dict[str, Any]:
        return await more(version, locator, request, True)

    # --- sObject Collections ----------------------------------------------------------------------

    def collection_records(body: Any) -> tuple[list[dict[str, Any]], bool]:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise Reply(400, [{"message": "records is required", "errorCode": "INVALID_FIELD"}])
        if len(body["records"]) > 200:
            raise Reply(
                400,
                [
                    {
                        "message": "Maximum number of records allowed in a request is 200",
                        "errorCode": "EXCEEDED_ID_LIMIT",
                    }
                ],
            )
        return body["records"], bool(body.get("allOrNone", False))

    def apply_all(ops: list[Any], all_or_none: bool) -> list[SaveResult]:
        """Run each op (a callable answering (SaveResult, undo)); with allOrNone, any failure
        undoes the successes and marks them rolled back."""
        results: list[SaveResult] = []
        undo: list[Callable[[], None]] = []
        with org.lock:
            for op in ops:
                result, rollback = op()
                results.append(result)
                if result.success and rollback:
                    undo.append(rollback)
            if all_or_none and any(not r.success for r in results):
                for rollback in reversed(undo):
                    rollback()
                rolled = err(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "Record rolled back because not all records were valid and the request was "
                    "using AllOrNone header",
                )
                results = [SaveResult(None, False, [rolled]) if r.success else r for r in results]
        return results

    def restore(sobject: str, before: dict[str, Any] | None) -> Callable[[], None] | None:
        if before is None:
            return None
        return lambda: org.records[sobject].__setitem__(before["Id"], before)

    def forget(sobject: str, record_id: str | None) -> Callable[[], None]:
        def undo() -> None:
            org.records[sobject].pop(record_id or "", None)

        return undo

    def write_op(
        kind: str, sobject: str | None, record: dict[str, Any], user_id: str, ext: str = ""
    ) -> Callable[[], tuple[SaveResult, Callable[[], None] | None]]:
        """One record of a collection call: (result, how to undo it) for allOrNone."""

        def run() -> tuple[SaveResult, Callable[[], None] | None]:
            rtype = sobject or (record.get("attributes") or {}).get("type")
            name = org.canonical(str(rtype or ""))
            if name is None:
                failure = err("INVALID_TYPE", "Must send a concrete entity type.")
                return SaveResult(None, False, [failure]), None
            fields = {k: v for k, v in record.items() if k != "attributes"}
            if lock_row():
                return SaveResult(None, False, [locked(fields.get("id") or fields.get("Id"))]), None
            if kind == "create":
                if "id" in fields or "Id" in fields:
                    failure = err("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
                    return SaveResult(None, False, [failure]), None
                result = org.create(name, fields, user_id=user_id)
                return result, forget(name, result.id)
            if kind == "update":
                record_id = str(fields.pop("id", None) or fields.pop("Id", "") or "")
                before = copy.deepcopy(org.row(name, record_id))
                return org.update(name, record_id, fields, user_id=user_id), restore(name, before)
            key = org.field_of(name, ext)
            value = fields.pop(key["name"] if key else ext, None)
            existing = org.matches(name, key["name"], value) if key else []
            before = copy.deepcopy(existing[0]) if len(existing) == 1 else None
            result = org.upsert(name, ext, value, fields, user_id=user_id)
            return result, forget(name, result.id) if result.created else restore(name, before)

        return run

    @api.post("/composite/sobjects")
    @api.post("/composite/sobjects/")
    async def collection_create(version: str, request: Request) -> list[dict[str, Any]]:
        s = await session(request)
        records, all_or_none = collection_records(await json_body(request))
        results = apply_all([write_op("create", None, r, s.user_id) for r in records], all_or_none)
        return [r.body() for r in results]

    @api.patch("/composite/sobjects")
    @api.patch("/composite/sobjects/")
    async def collection_update(version: str, request: Request) -> list[dict[str, Any]]:
        s = await session(request)
        records, all_or_none = collection_records(await json_body(request))
        results = apply_all([write_op("update", None, r, s.user_id) for r in records], all_or_none)
        return [r.body() for r in results]

    @api.patch("/composite/sobjects/{name}/{ext_field}")
    async def collection_upsert(
        version: str, name: str, ext_field: str, request: Request
    ) -> list[dict[str, Any]]:
        s = await session(request)
        canonical = obj_or_404(name)
        records, all_or_none = collection_records(await json_body(request))
        results = apply_all(
            [write_op("upsert", canonical, r, s.user_id, ext_field) for r in records], all_or_none
        )
        return [r.body(with_created=True) for r in results]

    @api.delete("/composite/sobjects")
    @api.delete("/composite/sobjects/")
    async def collection_delete(version: str, request: Request) -> list[dict[str, Any]]:
        s = await session(request)
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if len(ids) > 200:
            raise Reply(
                400,
                [
                    {
                        "message": "Maximum number of records allowed in a request is 200",
                        "errorCode": "EXCEEDED_ID_LIMIT",
                    }
                ],
            )
        all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"

        def op(record_id: str) -> Any:
            def run() -> tuple[SaveResult, Any]:
                found = org.find(record_id)
                if found is None:
                    return SaveResult(
                        to18(record_id),
                        False,
                        [
                            err(
                                "MALFORMED_ID" if to18(record_id) is None else "ENTITY_IS_DELETED",
                                "invalid cross reference id",
                            )
                        ],
                    ), None
                name, row = found
                before = copy.deepcopy(row)
                result = org.delete(name, record_id, user_id=s.user_id)
                return result, (lambda: org.records[name].__setitem__(row["Id"], before))

            return run

        return [r.body() for r in apply_all([op(i) for i in ids], all_or_none)]

    add_bulk_routes(api, org, session, pace=lambda: knobs.bulk_rows_per_second)
    app.include_router(api)
    app.include_router(admin_router(org, knobs))
    add_holds(
        app,
        holds,
        lambda: JSONResponse(
            [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}], 503
        ),
    )

    # --- OAuth 2.0 --------------------------------------------------------------------------------

    def identity_url(user_id: str) -> str:
        return f"{base['login']}/id/{org.id}/{user_id}"

    def token_body(client_id: str, user_id: str, scope: str, with_refresh: bool) -> dict[str, Any]:
        app_ = oauth.apps[client_id]
        access = f"{org.id[:15]}!AQ{secrets.token_urlsafe(40)}"
        issued = str(int(org.clock() * 1000))
        sessions[access] = Session(user_id, org.clock())
        ident = identity_url(user_id)
        signature = base64.b64encode(
            hmac.new(app_["secret"].encode(), (ident + issued).encode(), hashlib.sha256).digest()
        ).decode()
        body: dict[str, Any] = {
            "access_token": access,
            "signature": signature,
            "scope": scope,
            "instance_url": base["instance"],
            "id": ident,
            "token_type": "Bearer",
            "issued_at": issued,
        }
        if with_refresh:
            refresh = secrets.token_urlsafe(40)
            oauth.refresh[refresh] = {"client_id": client_id, "user_id": user_id, "scope": scope}
            body["refresh_token"] = refresh
        return body

    def token_error(error: str, description: str) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description}, 400)

    @app.post("/services/oauth2/token")
    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id = form.get("client_id", "")
        app_ = oauth.apps.get(client_id)
        if app_ is None:
            return token_error("invalid_client_id", "client identifier invalid")
        grant = form.get("grant_type")
        with org.lock:
            if grant == "authorization_code":
                if form.get("client_secret") != app_["secret"]:
                    return token_error("invalid_client", "invalid client credentials")
                code = oauth.codes.pop(form.get("code", ""), None)
                if (
                    code is None
                    or code["client_id"] != client_id
                    or code["expires_at"] < org.clock()
                ):
                    return token_error("invalid_grant", "invalid authorization code")
                if form.get("redirect_uri") != code["redirect_uri"]:
                    return token_error("invalid_grant", "redirect_uri must match configuration")
                if code.get("challenge"):
                    verifier = form.get("code_verifier")
                    if not verifier:
                        return token_error("invalid_grant", "invalid code verifier")
                    digest = (
                        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                        .rstrip(b"=")
                        .decode()
                    )
                    if digest != code["challenge"]:
                        return token_error("invalid_request", "invalid code verifier")
                return JSONResponse(token_body(client_id, code["user_id"], code["scope"], True))
            if grant == "refresh_token":
                grant_ = oauth.refresh.get(form.get("refresh_token", ""))
                if grant_ is None or grant_["client_id"] != client_id:
                    return token_error("invalid_grant", "expired access/refresh token")
                if "client_secret" in form and form["client_secret"] != app_["secret"]:
                    return token_error("invalid_client", "invalid client credentials")
                return JSONResponse(
                    token_body(client_id, grant_["user_id"], grant_["scope"], False)
                )
        return token_error("unsupported_grant_type", "grant type not supported")

    @app.post("/services/oauth2/revoke")
    async def revoke(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        token_ = form.get("token") or request.query_params.get("token", "")
        with org.lock:
            if token_ in sessions:
                sessions[token_].revoked = True
            elif oauth.refresh.pop(token_, None) is None:
                return token_error("unsupported_token_type", "this token type is not supported")
        return Response(status_code=200)

    def authorize_problem(params: dict[str, str]) -> str | None:
        app_ = oauth.apps.get(params.get("client_id", ""))
        if app_ is None:
            return "error=invalid_client_id&error_description=client identifier invalid"
        if params.get("redirect_uri") not in app_["redirect_uris"]:
            return (
                "error=redirect_uri_mismatch&error_description="
                "redirect_uri must match configuration"
            )
        if params.get("response_type") != "code":
            return "error=unsupported_response_type"
        return None

    @app.get("/services/oauth2/authorize")
    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        problem = authorize_problem(params)
        if problem:
            return refusal_page("OAuth Error", problem)
        return consent_page(
            "Allow Access?", "An app asks to access this org.", params, "allow", "deny"
        )

    @app.post("/services/oauth2/authorize")
    async def authorize_decision(request: Request) -> Response:
        params = {k: str(v) for k, v in (await request.form()).items()}
        problem = authorize_problem(params)
        if problem:
            return refusal_page("OAuth Error", problem)
        back: dict[str, str] = {}
        if params.get("decision") == "deny":
            back.update(error="access_denied", error_description="end-user denied authorization")
        else:
            code = "aPrx" + secrets.token_urlsafe(30)
            oauth.codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "user_id": org.integration_user,
                "scope": params.get("scope") or "api refresh_token",
                "challenge": params.get("code_challenge"),
                "expires_at": org.clock() + 900,
            }
            back["code"] = code
        if "state" in params:
            back["state"] = params["state"]
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", 302)

    @app.get("/id/{org_id}/{user_id}")
    @app.get("/services/oauth2/userinfo")
    async def identity(request: Request, org_id: str = "", user_id: str = "") -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        s = sessions.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if s is None or s.revoked:
            raise Reply(403, "Bad_OAuth_Token")
        user = org.records["User"][s.user_id]
        return {
            "id": identity_url(s.user_id),
            "organization_id": org.id,
            "user_id": s.user_id,
            "username": user["Username"],
            "email": user["Email"],
            "display_name": user["Name"],
            "active": user["IsActive"],
            "urls": {"rest": f"{base['instance']}/services/data/v{{version}}/"},
        }

    return app


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


__all__ = ["SalesforceKnobs", "build_app", "schema"]
