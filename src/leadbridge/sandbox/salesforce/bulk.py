"""Bulk API 2.0 for the Salesforce sandbox: ingest jobs (insert, update, upsert, delete,
hardDelete) from CSV with per-row successful / failed / unprocessed results, and query jobs
with locator paging. The job logic lives in bulk_jobs.py and bulk_ingest.py; this module is
the HTTP face.

How to mount it (app.py): on the APIRouter whose prefix is "/services/data/v{version}",

    api.include_router(bulk_router(org, session=session))

`session` is the app's own async auth check (Request -> an object with `.user_id`; it raises
the app's 401 reply itself). Without it every call acts as `org.integration_user`. The routes
are "/jobs/ingest..." and "/jobs/query..."; the API version comes from the path.

Jobs run on a worker thread once their upload is closed (ingest) or as soon as they are
created (query): UploadComplete -> InProgress -> JobComplete | Failed, as a polling client
sees in Salesforce. `runner` replaces the thread (a test can run jobs inline).
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from leadbridge.sandbox import jsonbody
from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.bulk_ingest import process_ingest, unprocessed_rows
from leadbridge.sandbox.salesforce.bulk_jobs import (
    DELIMITERS,
    FINISHED,
    INGEST_OPERATIONS,
    LINE_ENDINGS,
    QUERY_OPERATIONS,
    Job,
    OrgLike,
    process_query,
    stamp,
    write_csv,
)
from leadbridge.sandbox.salesforce.ids import make_id

SessionCheck = Callable[[Request], Awaitable[Any]]
Runner = Callable[[Callable[[], None]], None]
Pace = Callable[[], float]  # ingest rows applied per second now (0: no pause)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # 150 MB after base64, so 100 MB of raw CSV per job
DEFAULT_PAGE = 50_000  # simple-salesforce's default maxRecords
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def on_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="bulk-job", daemon=True).start()


def error(code: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse([{"errorCode": code, "message": message}], status)


def encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")  # 10000 -> MTAwMDA


def decode_locator(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except ValueError:
        return None
    return int(text) if text.isdigit() else None


def bulk_router(
    org: OrgLike,
    *,
    session: SessionCheck | None = None,
    runner: Runner = on_thread,
    pace: Pace = lambda: 0.0,
) -> APIRouter:
    router = APIRouter()
    jobs: dict[str, Job] = {}
    numbers = itertools.count(1)

    async def user_of(request: Request) -> str:
        if session is None:
            return str(getattr(org, "integration_user", "005000000000000AAA"))
        return str((await session(request)).user_id)

    def version_of(request: Request) -> str:
        return str(request.path_params.get("version", "59.0"))

    async def json_body(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = jsonbody.parse(await request.body() or b"null")
        except jsonbody.BadJson as exc:
            return error("JSON_PARSER_ERROR", f"The request body is not valid JSON: {exc}")
        if not isinstance(body, dict):
            return error("JSON_PARSER_ERROR", "The request body must be a JSON object")
        return body

    def format_problem(body: dict[str, Any]) -> JSONResponse | None:
        if body.get("contentType", "CSV") != "CSV":
            return error("INVALIDJOB", f"InvalidJob : Invalid contentType: {body['contentType']}")
        if body.get("columnDelimiter", "COMMA") not in DELIMITERS:
            return error(
                "INVALIDJOB", f"InvalidJob : Invalid columnDelimiter: {body['columnDelimiter']}"
            )
        if body.get("lineEnding", "LF") not in LINE_ENDINGS:
            return error("INVALIDJOB", f"InvalidJob : Invalid lineEnding: {body['lineEnding']}")
        return None

    def new_job(kind: str, body: dict[str, Any], user: str, version: str, obj: str) -> Job:
        job_id = make_id("750", 7000 + next(numbers))
        job = Job(
            id=job_id,
            kind=kind,
            operation=str(body["operation"]),
            object=obj,
            created_by=user,
            created=stamp(org.now()),
            api_version=version,
            line_ending=str(body.get("lineEnding", "LF")),
            column_delimiter=str(body.get("columnDelimiter", "COMMA")),
            external_id=body.get("externalIdFieldName") if body["operation"] == "upsert" else None,
            query=body.get("query"),
            state="Open" if kind == "ingest" else "UploadComplete",
        )
        jobs[job_id] = job
        return job

    def find(kind: str, job_id: str) -> Job | None:
        job = jobs.get(job_id)
        return job if job is not None and job.kind == kind else None

    # --- ingest ---------------------------------------------------------------------------

    @router.post("/jobs/ingest")
    @router.post("/jobs/ingest/")
    async def create_ingest(request: Request) -> Response:
        user = await user_of(request)
        body = await json_body(request)
        if isinstance(body, JSONResponse):
            return body
        operation = body.get("operation")
        if operation not in INGEST_OPERATIONS:
            return error("INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        obj = org.canonical(str(body.get("object") or ""))
        if obj is None:
            return error(
                "INVALIDENTITY",
                f"InvalidEntity : Entity '{body.get('object')}' is not supported by the Bulk API.",
            )
        problem = format_problem(body)
        if problem is not None:
            return problem
        if operation == "upsert":
            ext = str(body.get("externalIdFieldName") or "")
            if not ext:
                return error("INVALIDJOB", "InvalidJob : External ID was blank for upsert")
            f = next(
                (x for x in org.describe(obj)["fields"] if x["name"].lower() == ext.lower()), None
            )
            if f is None or not (f.get("externalId") or f.get("idLookup")):
                # Refused when the job is created rather than when it runs: the stricter (K).
                return error(
                    "INVALIDJOB",
                    f"InvalidJob : Field name provided, {ext} is not an External ID or indexed "
                    f"field for {obj}",
                )
            body["externalIdFieldName"] = f["name"]
        job = new_job("ingest", body, user, version_of(request), obj)
        return JSONResponse(job.created_view())

    @router.get("/jobs/ingest")
    @router.get("/jobs/ingest/")
    async def list_ingest(request: Request) -> Response:
        await user_of(request)
        records = [j.info_view() for j in jobs.values() if j.kind == "ingest"]
        return JSONResponse({"done": True, "records": records, "nextRecordsUrl": None})

    @router.put("/jobs/ingest/{job_id}/batches")
    @router.put("/jobs/ingest/{job_id}/batches/")
    async def upload(job_id: str, request: Request) -> Response:
        await user_of(request)
        job = find("ingest", job_id)
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        content_type = request.headers.get("content-type", "text/csv")
        if not content_type.lower().startswith("text/csv"):
            return error(
                "INVALIDCONTENTTYPE", f"Content type {content_type} is not supported: use text/csv"
            )  # (K)
        declared = int(request.headers.get("content-length") or 0)
        if job.upload_bytes + declared > MAX_UPLOAD_BYTES:
            return error("EXCEEDED_MAX_SIZE", "Job data exceeds the 100 MB limit for one job")
        raw = await request.body()
        with job.lock:
            if job.state != "Open":
                return error(
                    "INVALIDJOBSTATE",
                    f"Job {job_id} is {job.state}: data can be uploaded only to an Open job",
                )
            if job.uploads:  # one upload per job (reference); the wording is the one seen (K)
                return error(
                    "INVALIDJOBSTATE",
                    f"Found multiple contents for job: <{job_id}>, please 'Close' / 'Abort' / "
                    "'Delete' the current Job then create a new Job and make sure you only do "
                    "'PUT' once on a given Job.",
                )
            if job.upload_bytes + len(raw) > MAX_UPLOAD_BYTES:
                return error("EXCEEDED_MAX_SIZE", "Job data exceeds the 100 MB limit for one job")
            job.uploads.append(raw)
            job.upload_bytes += len(raw)
        return Response(status_code=201)

    @router.get("/jobs/ingest/{job_id}/{result}")
    @router.get("/jobs/ingest/{job_id}/{result}/")
    async def ingest_results(job_id: str, result: str, request: Request) -> Response:
        await user_of(request)
        job = find("ingest", job_id)
        kind = result.lower()
        if job is None or kind not in ("successfulresults", "failedresults", "unprocessedrecords"):
            return JSONResponse(NOT_FOUND, 404)
        if job.state not in FINISHED:
            return error("JOB_NOT_COMPLETE", f"Job {job_id} is {job.state}", 412)
        unprocessed = unprocessed_rows(job) if kind == "unprocessedrecords" else []
        # Results come back in the job's own delimiter and line ending (K).
        header, sep, newline = job.header, job.delimiter, job.newline
        if kind == "successfulresults":
            text = write_csv(["sf__Id", "sf__Created", *header], job.successful, sep, newline)
        elif kind == "failedresults":
            text = write_csv(["sf__Id", "sf__Error", *header], job.failed, sep, newline)
        else:
            text = write_csv(header, unprocessed, sep, newline) if header else ""
        return Response(text, media_type="text/csv")

    # --- query ----------------------------------------------------------------------------

    @router.post("/jobs/query")
    @router.post("/jobs/query/")
    async def create_query(request: Request) -> Response:
        user = await user_of(request)
        body = await json_body(request)
        if isinstance(body, JSONResponse):
            return body
        operation = body.get("operation")
        if operation not in QUERY_OPERATIONS:
            return error("INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        problem = format_problem(body)
        if problem is not None:
            return problem
        try:
            parsed = soql.parse(str(body.get("query") or ""))
            if parsed.offset is not None:
                raise soql.SoqlError("INVALIDJOB", "InvalidJob : OFFSET is not supported")  # (K)
            if parsed.count or parsed.aggregates:
                raise soql.SoqlError(
                    "INVALIDJOB", "InvalidJob : Aggregate queries are not supported"
                )  # (K)
            with org.lock:
                soql.columns(parsed, org)  # unknown object, field or filter type: refused now
        except soql.SoqlError as exc:
            return error(exc.error_code, exc.message)
        obj = org.canonical(parsed.sobject) or parsed.sobject
        job = new_job("query", body, user, version_of(request), obj)
        reply = job.created_view()
        runner(lambda: process_query(org, job, parsed))
        return JSONResponse(reply)

    @router.get("/jobs/query")
    @router.get("/jobs/query/")
    async def list_query(request: Request) -> Response:
        await user_of(request)
        records = [j.info_view() for j in jobs.values() if j.kind == "query"]
        return JSONResponse({"done": True, "records": records, "nextRecordsUrl": None})

    @router.get("/jobs/query/{job_id}/results")
    @router.get("/jobs/query/{job_id}/results/")
    async def query_results(job_id: str, request: Request) -> Response:
        await user_of(request)
        job = find("query", job_id)
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        if job.state != "JobComplete":
            return error("JOB_NOT_COMPLETE", f"Job {job_id} is {job.state}", 412)
        params = request.query_params
        start = decode_locator(params["locator"]) if params.get("locator") else 0
        if start is None or start > len(job.results):
            return error("INVALID_QUERY_LOCATOR", f"Invalid locator: {params.get('locator')}")
        size_text = params.get("maxRecords") or str(DEFAULT_PAGE)
        if not size_text.isdigit() or int(size_text) < 1:
            return error("INVALIDPARAMETER", f"maxRecords must be a positive integer: {size_text}")
        chunk = job.results[start : start + int(size_text)]
        following = start + len(chunk)
        headers = {
            "Sforce-Locator": encode_locator(following) if following < len(job.results) else "null",
            "Sforce-NumberOfRecords": str(len(chunk)),
        }
        text = write_csv(job.columns, chunk, job.delimiter, job.newline)
        return Response(text, media_type="text/csv", headers=headers)

    # --- both kinds: info, state changes, delete ---------------------------------------------

    for kind in ("ingest", "query"):
        add_job_routes(router, kind, org, find, jobs, user_of, runner, pace)
    return router


def add_job_routes(
    router: APIRouter,
    kind: str,
    org: OrgLike,
    find: Callable[[str, str], Job | None],
    jobs: dict[str, Job],
    user_of: Callable[[Request], Awaitable[str]],
    runner: Runner,
    pace: Pace,
) -> None:
    async def info(job_id: str, request: Request) -> Response:
        await user_of(request)
        job = find(kind, job_id)
        return JSONResponse(job.info_view()) if job else JSONResponse(NOT_FOUND, 404)

    async def change_state(job_id: str, request: Request) -> Response:
        await user_of(request)
        job = find(kind, job_id)
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        try:
            wanted = jsonbody.parse(await request.body() or b"{}").get("state")
        except (jsonbody.BadJson, AttributeError):
            return error("JSON_PARSER_ERROR", "The request body is not valid JSON")
        with job.lock:
            current = job.state
            allowed = {
                ("ingest", "Open", "UploadComplete"),
                ("ingest", "Open", "Aborted"),
                ("ingest", "UploadComplete", "Aborted"),
                ("query", "UploadComplete", "Aborted"),
                ("query", "InProgress", "Aborted"),
            }
            if (kind, current, wanted) not in allowed:
                return error(
                    "INVALIDJOBSTATE",
                    f"Job {job_id} cannot change from state {current} to {wanted}",  # (K)
                )
            job.state = str(wanted)
            job.modstamp = stamp(org.now())
            reply = job.created_view()
        if wanted == "UploadComplete":
            runner(lambda: process_ingest(org, job, pace))
        return JSONResponse(reply)

    async def delete(job_id: str, request: Request) -> Response:
        await user_of(request)
        job = find(kind, job_id)
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        if job.state not in ("UploadComplete", *FINISHED):
            return error(
                "INVALIDJOBSTATE",
                f"Job {job_id} is {job.state}: only a job in state UploadComplete, JobComplete, "
                "Aborted or Failed can be deleted",
            )
        jobs.pop(job_id, None)
        return Response(status_code=204)

    base = f"/jobs/{kind}/{{job_id}}"
    for path in (base, base + "/"):
        router.add_api_route(path, info, methods=["GET"])
        router.add_api_route(path, change_state, methods=["PATCH"])
        router.add_api_route(path, delete, methods=["DELETE"])


def add_bulk_routes(
    api: APIRouter, org: OrgLike, session: SessionCheck, pace: Pace = lambda: 0.0
) -> None:
    """What app.py calls; the same as including bulk_router(org, session=session, pace=pace)."""
    api.include_router(bulk_router(org, session=session, pace=pace))
