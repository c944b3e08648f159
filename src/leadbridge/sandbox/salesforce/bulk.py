"""Bulk API 2.0 over the org's own DML: ingest jobs (insert, update, upsert, delete,
hardDelete) from CSV with per-row successful / failed / unprocessed results, and query jobs
with locator paging (reference §4, and simple-salesforce's bulk2 client).

Jobs are processed when the upload is closed (state UploadComplete -> JobComplete, or Failed);
a client polling the job sees it finished on its first poll.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.ids import make_id
from leadbridge.sandbox.salesforce.org import Org, SaveResult

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
INGEST_OPS = ("insert", "update", "upsert", "delete", "hardDelete")
MAX_UPLOAD = 150 * 1024 * 1024
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


@dataclass
class Job:
    info: dict[str, Any]
    data: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # query results, API-shaped


def bad_request(code: str, message: str, status: int = 400) -> Response:
    return JSONResponse([{"errorCode": code, "message": message}], status)


def csv_text(
    header: list[str], rows: list[list[str]], delimiter: str = ",", ending: str = "\n"
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=ending, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def add_bulk_routes(api: APIRouter, org: Org, session: Callable[[Request], Awaitable[Any]]) -> None:
    jobs: dict[str, Job] = {}
    counter = iter(range(1, 10**9))

    def new_job(kind: str, body: dict[str, Any], user_id: str, version: str) -> Job:
        job_id = make_id("750", next(counter) + 7000)
        now = soql.format_value("datetime", org.now())
        info = {
            "id": job_id,
            "operation": body.get("operation"),
            "object": body.get("object"),
            "createdById": user_id,
            "createdDate": now,
            "systemModstamp": now,
            "state": "Open" if kind == "ingest" else "UploadComplete",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "lineEnding": body.get("lineEnding", "LF"),
            "columnDelimiter": body.get("columnDelimiter", "COMMA"),
            "jobType": "V2Ingest" if kind == "ingest" else "V2Query",
        }
        if kind == "ingest":
            info["contentUrl"] = f"services/data/v{version}/jobs/ingest/{job_id}/batches"
            if body.get("externalIdFieldName"):
                info["externalIdFieldName"] = body["externalIdFieldName"]
        else:
            info["query"] = body.get("query")
        jobs[job_id] = Job(info)
        return jobs[job_id]

    def job_or_none(job_id: str, kind: str) -> Job | None:
        job = jobs.get(job_id)
        if job is None or job.info["jobType"] != ("V2Ingest" if kind == "ingest" else "V2Query"):
            return None
        return job

    def finish(job: Job, processed: int, failed: int, error: str | None = None) -> None:
        job.info.update(
            state="Failed" if error else "JobComplete",
            numberRecordsProcessed=processed,
            numberRecordsFailed=failed,
            retries=0,
            totalProcessingTime=1,
            apiActiveProcessingTime=1,
            apexProcessingTime=0,
            systemModstamp=soql.format_value("datetime", org.now()),
        )
        if error:
            job.info["errorMessage"] = error

    def process_ingest(job: Job, user_id: str) -> None:
        info = job.info
        delimiter = DELIMITERS.get(info["columnDelimiter"], ",")
        reader = csv.reader(io.StringIO("".join(job.data)), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            finish(job, 0, 0, "InvalidBatch : No data in the uploaded content")
            return
        job.header = header
        sobject, op, ext = info["object"], info["operation"], info.get("externalIdFieldName")
        unknown = [h for h in header if "." not in h and org.field_of(sobject, h) is None]
        if unknown:
            finish(job, 0, 0, f"InvalidBatch : Field name not found : {unknown[0]}")
            return
        processed = failed = 0
        for cells in reader:
            if not cells:
                continue
            processed += 1
            values = dict(zip(header, cells, strict=False))
            result = apply_row(sobject, op, ext, values, user_id)
            if result.success:
                job.successful.append(
                    [result.id or "", "true" if result.created else "false", *cells]
                )
            else:
                failed += 1
                e = result.errors[0]
                fields = ",".join(e.get("fields") or [])
                job.failed.append(
                    [result.id or "", f"{e['statusCode']}:{e['message']}:{fields} --", *cells]
                )
        finish(job, processed, failed)

    def apply_row(
        sobject: str, op: str, ext: str | None, values: dict[str, str], user_id: str
    ) -> SaveResult:
        # An empty cell leaves a field as it is; #N/A sets it to null.
        fields: dict[str, Any] = {
            k: (None if v == "#N/A" else v) for k, v in values.items() if v != ""
        }
        if op in ("delete", "hardDelete"):
            result = org.delete(sobject, str(fields.get("Id", "")), user_id=user_id)
            if result.success and op == "hardDelete":
                org.records[sobject].pop(result.id or "", None)
            return result
        if op == "insert":
            return org.create(sobject, fields, user_id=user_id)
        if op == "update":
            record_id = str(fields.pop("Id", ""))
            return org.update(sobject, record_id, fields, user_id=user_id)
        key = ext or "Id"
        value = fields.pop(key, None)
        return org.upsert(sobject, key, value, fields, user_id=user_id)

    @api.post("/jobs/ingest")
    @api.post("/jobs/ingest/")
    async def create_ingest(version: str, request: Request) -> Response:
        s = await session(request)
        body = await request.json()
        if body.get("operation") not in INGEST_OPS:
            return bad_request(
                "INVALIDJOB", f"InvalidJob : Invalid operation: {body.get('operation')}"
            )
        if not body.get("object") or org.canonical(str(body["object"])) is None:
            return bad_request(
                "INVALIDENTITY", f"Entity '{body.get('object')}' is not supported by the Bulk API."
            )
        if body["operation"] == "upsert" and not body.get("externalIdFieldName"):
            return bad_request("INVALIDJOB", "InvalidJob : External ID was blank for upsert")
        body["object"] = org.canonical(str(body["object"]))
        return JSONResponse(new_job("ingest", body, s.user_id, version).info)

    @api.put("/jobs/ingest/{job_id}/batches")
    @api.put("/jobs/ingest/{job_id}/batches/")
    async def upload(version: str, job_id: str, request: Request) -> Response:
        await session(request)
        job = job_or_none(job_id, "ingest")
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        if job.info["state"] != "Open":
            return bad_request("INVALIDJOBSTATE", f"Job {job_id} is not open for upload")
        raw = await request.body()
        if len(raw) + sum(len(d) for d in job.data) > MAX_UPLOAD:
            return bad_request("EXCEEDED_MAX_SIZE", "Upload exceeds the 150 MB limit")
        job.data.append(raw.decode("utf-8"))
        return Response(status_code=201)

    @api.patch("/jobs/{kind}/{job_id}")
    @api.patch("/jobs/{kind}/{job_id}/")
    async def set_state(version: str, kind: str, job_id: str, request: Request) -> Response:
        s = await session(request)
        job = job_or_none(job_id, kind)
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        wanted = (await request.json()).get("state")
        state = job.info["state"]
        if wanted == "Aborted" and state in ("Open", "UploadComplete", "InProgress"):
            job.info["state"] = "Aborted"
        elif wanted == "UploadComplete" and kind == "ingest" and state == "Open":
            job.info["state"] = "UploadComplete"
            reply = dict(job.info)
            with org.lock:
                process_ingest(job, s.user_id)
            return JSONResponse(reply)
        else:
            return bad_request(
                "INVALIDJOBSTATE",
                f"Cannot change the state of job {job_id} from {state} to {wanted}",
            )
        return JSONResponse(job.info)

    @api.get("/jobs/{kind}/{job_id}")
    @api.get("/jobs/{kind}/{job_id}/")
    async def get_job(version: str, kind: str, job_id: str, request: Request) -> Response:
        await session(request)
        job = job_or_none(job_id, kind)
        return JSONResponse(job.info if job else NOT_FOUND, 200 if job else 404)

    @api.delete("/jobs/{kind}/{job_id}")
    async def delete_job(version: str, kind: str, job_id: str, request: Request) -> Response:
        await session(request)
        job = job_or_none(job_id, kind)
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        if job.info["state"] not in ("JobComplete", "Aborted", "Failed"):
            return bad_request("INVALIDJOBSTATE", "Only finished jobs can be deleted")
        jobs.pop(job_id)
        return Response(status_code=204)

    @api.get("/jobs/ingest/{job_id}/{result_type}")
    @api.get("/jobs/ingest/{job_id}/{result_type}/")
    async def ingest_results(
        version: str, job_id: str, result_type: str, request: Request
    ) -> Response:
        await session(request)
        job = job_or_none(job_id, "ingest")
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        kind = result_type.lower()
        if kind == "successfulresults":
            text = csv_text(["sf__Id", "sf__Created", *job.header], job.successful)
        elif kind == "failedresults":
            text = csv_text(["sf__Id", "sf__Error", *job.header], job.failed)
        elif kind == "unprocessedrecords":
            text = csv_text(job.header or [], []) if job.header else ""
        else:
            return JSONResponse(NOT_FOUND, 404)
        return Response(text, media_type="text/csv")

    @api.post("/jobs/query")
    @api.post("/jobs/query/")
    async def create_query(version: str, request: Request) -> Response:
        s = await session(request)
        body = await request.json()
        if body.get("operation") not in ("query", "queryAll"):
            return bad_request(
                "INVALIDJOB", f"InvalidJob : Invalid operation: {body.get('operation')}"
            )
        try:
            parsed = soql.parse(str(body.get("query") or ""))
            if parsed.offset:
                raise soql.SoqlError(
                    "INVALIDJOB", "InvalidJob : OFFSET is not supported in Bulk queries"
                )
            with org.lock:
                records, _ = soql.execute(
                    parsed,
                    org,
                    include_deleted=body["operation"] == "queryAll",
                    api_version=version,
                )
        except soql.SoqlError as exc:
            return bad_request(exc.error_code, exc.message)
        body["object"] = parsed.sobject
        job = new_job("query", body, s.user_id, version)
        job.header, job.rows = parsed.fields, records
        finish(job, len(records), 0)
        return JSONResponse(
            {
                k: v
                for k, v in job.info.items()
                if k not in ("numberRecordsProcessed", "numberRecordsFailed")
            }
            | {"state": "UploadComplete"}
        )

    @api.get("/jobs/query/{job_id}/results")
    @api.get("/jobs/query/{job_id}/results/")
    async def query_results(version: str, job_id: str, request: Request) -> Response:
        await session(request)
        job = job_or_none(job_id, "query")
        if job is None:
            return JSONResponse(NOT_FOUND, 404)
        if job.info["state"] != "JobComplete":
            return bad_request("JOB_NOT_COMPLETE", "The job is not complete", 412)
        try:
            start = int(request.query_params.get("locator") or 0)
            size = int(request.query_params.get("maxRecords") or 50_000)
        except ValueError:
            return bad_request("INVALIDLOCATOR", "invalid locator")
        chunk = job.rows[start : start + size]
        following = start + len(chunk)
        rows = [[flat(r, path) for path in job.header] for r in chunk]
        delimiter = DELIMITERS.get(job.info["columnDelimiter"], ",")
        ending = "\r\n" if job.info["lineEnding"] == "CRLF" else "\n"
        headers = {
            "Sforce-Locator": str(following) if following < len(job.rows) else "null",
            "Sforce-NumberOfRecords": str(len(chunk)),
        }
        return Response(
            csv_text(job.header, rows, delimiter, ending), media_type="text/csv", headers=headers
        )


def flat(record: dict[str, Any], path: str) -> str:
    """A dotted column (Account.Name) of an API-shaped record, as Bulk CSV writes it."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        match = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(match) if match else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
