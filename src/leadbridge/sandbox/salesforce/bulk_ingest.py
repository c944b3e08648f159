"""Bulk API 2.0 ingest processing without HTTP: the uploaded CSV read and checked, each column
planned (a field, or a parent by external id), rows applied through the org's own DML with
per-row successful / failed / unprocessed results (run on a worker thread by bulk.py).

Points the reference leaves unconfirmed take the stricter reading and say so (marked K).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from leadbridge.sandbox.salesforce.bulk_jobs import NULL_CELL, Job, OrgLike, stamp


class JobFailure(Exception):
    """The whole job fails (state Failed, errorMessage); its rows stay unprocessed."""


# --- ingest ---------------------------------------------------------------------------------


def read_uploads(job: Job) -> Iterator[list[str]]:
    """Rows of every upload; each upload opens with the same header row (which sets job.header)."""
    for number, raw in enumerate(job.uploads):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise JobFailure("InvalidBatch : The uploaded content is not valid UTF-8") from None
        first_break = text.find("\n")
        crlf = first_break > 0 and text[first_break - 1] == "\r"
        if first_break >= 0 and crlf != (job.line_ending == "CRLF"):
            raise JobFailure(
                "ClientInputError : LineEnding is invalid on user data. Current LineEnding "
                f"setting is {job.line_ending}"
            )
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=job.delimiter, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                continue
            if number == 0:
                job.header = header
            elif header != job.header:
                raise JobFailure(
                    "InvalidBatch : Every upload of a job must have the same header row"
                )
            for cells in reader:
                if cells and any(cells):
                    yield cells
        except csv.Error as exc:
            raise JobFailure(f"InvalidBatch : Failed to parse the CSV data: {exc}") from None


@dataclass(frozen=True)
class Target:
    """What one header column writes: a field, or a parent found by its external id."""

    header: str
    field: str  # the field written: LastName, or AccountId for Account.Ext__c
    parent: str | None = None  # Account
    parent_key: str | None = None  # Ext__c


def plan_columns(org: OrgLike, job: Job) -> list[Target]:
    describe = org.describe(job.object)
    fields = {f["name"].lower(): f for f in describe["fields"]}
    relations = {
        f["relationshipName"].lower(): f
        for f in describe["fields"]
        if f.get("relationshipName") and f.get("referenceTo")
    }
    targets = []
    for header in job.header:
        name = header.strip()
        f = fields.get(name.lower())
        if f is not None:
            targets.append(Target(header, f["name"]))
            continue
        rel, _, key = name.partition(".")
        ref = relations.get(rel.lower()) if key else None
        parent = (
            next((org.canonical(t) for t in ref["referenceTo"] if org.canonical(t)), None)
            if ref
            else None
        )
        key_field = None
        if parent is not None:
            key_field = next(
                (
                    p
                    for p in org.describe(parent)["fields"]
                    if p["name"].lower() == key.lower()
                    and (p.get("externalId") or p.get("idLookup"))
                ),
                None,
            )
        if ref is None or parent is None or key_field is None:
            raise JobFailure(f"InvalidBatch : Field name not found : {header}")
        targets.append(Target(header, ref["name"], parent, key_field["name"]))
    return targets


class KeyIndex:
    """Live (not deleted) records of one object by one field's value, case-insensitively, so
    50,000 upserts or relationship look-ups stay linear. Built once per job; every hit is
    checked against the row again, so a change made meanwhile is never acted on blindly."""

    def __init__(self, org: OrgLike, sobject: str, key_field: str) -> None:
        self.org, self.sobject, self.field = org, sobject, key_field
        self.ids: dict[str, list[str]] = {}
        with org.lock:
            for row in org.rows(sobject):
                if not row.get("IsDeleted") and row.get(key_field) not in (None, ""):
                    self.ids.setdefault(str(row[key_field]).lower(), []).append(row["Id"])

    def find(self, value: str) -> list[str]:
        wanted = value.lower()
        live = []
        for record_id in self.ids.get(wanted, []):
            row = self.org.row(self.sobject, record_id)
            if (
                row
                and not row.get("IsDeleted")
                and str(row.get(self.field) or "").lower() == wanted
            ):
                live.append(record_id)
        return live

    def add(self, value: str, record_id: str) -> None:
        self.ids.setdefault(value.lower(), []).append(record_id)


@dataclass
class RowResult:
    id: str | None
    success: bool
    created: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)


def row_error(code: str, message: str, fields: list[str] | None = None) -> RowResult:
    return RowResult(
        None, False, errors=[{"statusCode": code, "message": message, "fields": fields or []}]
    )


def error_cell(result: Any) -> str:
    """sf__Error: CODE:message:Field1,Field2 -- (no fields: CODE:message:--)."""
    e = result.errors[0]
    fields = ",".join(e.get("fields") or [])
    return f"{e['statusCode']}:{e['message']}:{fields + ' ' if fields else ''}--"


class IngestRun:
    """Applies one ingest job's rows through the org's own DML, one result per row."""

    def __init__(self, org: OrgLike, job: Job) -> None:
        self.org, self.job = org, job
        self.targets = plan_columns(org, job)
        self.parents = {
            (t.parent, t.parent_key): KeyIndex(org, t.parent, t.parent_key)
            for t in self.targets
            if t.parent and t.parent_key
        }
        ext = job.external_id
        self.upsert_index = (
            KeyIndex(org, job.object, ext)
            if job.operation == "upsert" and ext and ext.lower() != "id"
            else None
        )

    def fields_of(self, cells: list[str]) -> dict[str, Any] | RowResult:
        fields: dict[str, Any] = {}
        for target, cell in zip(self.targets, cells, strict=False):
            if cell == "":
                continue  # an empty cell changes nothing
            if cell == NULL_CELL:
                fields[target.field] = None
            elif target.parent and target.parent_key:
                found = self.parents[(target.parent, target.parent_key)].find(cell)
                if len(found) != 1:
                    return row_error(
                        "INVALID_FIELD" if not found else "DUPLICATE_EXTERNAL_ID",
                        f"Foreign key external ID: {cell} not found for field {target.parent_key} "
                        f"in entity {target.parent}"
                        if not found
                        else f"{target.parent_key}: more than one record found for external id "
                        f"field: {found}",
                        [target.field] if found else [],
                    )
                fields[target.field] = found[0]
            else:
                fields[target.field] = cell
        return fields

    def apply(self, cells: list[str]) -> Any:
        if len(cells) != len(self.targets):
            return row_error(
                "INVALID_FIELD",
                f"Row has {len(cells)} columns but the header has {len(self.targets)}",  # (K)
            )
        fields = self.fields_of(cells)
        if isinstance(fields, RowResult):
            return fields
        org, job, user = self.org, self.job, self.job.created_by
        op = job.operation
        if op in ("delete", "hardDelete"):
            record_id = str(fields.get("Id") or "")
            if not record_id:
                return row_error("MISSING_ARGUMENT", "Id not specified in a delete call")  # (K)
            result = org.delete(job.object, record_id, user_id=user)
            if result.success and op == "hardDelete":
                hard = getattr(org, "hard_delete", None)
                if hard is not None:
                    hard(job.object, result.id)
                else:  # skip the recycle bin: the row leaves the store altogether
                    with org.lock:
                        org.records[job.object].pop(result.id, None)
            return result
        if op == "insert":
            return org.create(job.object, fields, user_id=user)
        if op == "update":
            record_id = str(fields.pop("Id", "") or "")
            if not record_id:
                return row_error("MISSING_ARGUMENT", "Id not specified in an update call")  # (K)
            return org.update(job.object, record_id, fields, user_id=user)
        return self.upsert(fields)

    def upsert(self, fields: dict[str, Any]) -> Any:
        org, job, user = self.org, self.job, self.job.created_by
        ext = str(job.external_id)
        key = next((k for k in fields if k.lower() == ext.lower()), ext)
        value = fields.pop(key, None)
        if self.upsert_index is None:  # keyed by Id: update that record, or create without one
            if value:
                return org.update(job.object, str(value), fields, user_id=user)
            return org.create(job.object, fields, user_id=user)
        if value in (None, ""):
            return row_error(
                "MISSING_ARGUMENT", f"{key} not specified", [key]
            )  # every upsert row needs its key (K)
        with org.lock:  # look-up and write as one step against concurrent REST writes
            found = self.upsert_index.find(str(value))
            if len(found) > 1:
                return row_error(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{key}: more than one record found for external id field: {found}",
                    [key],
                )
            if found:
                return org.update(job.object, found[0], fields, user_id=user)
            result = org.create(job.object, {**fields, key: value}, user_id=user)
            if result.success:
                self.upsert_index.add(str(value), result.id)
            return result


def process_ingest(org: OrgLike, job: Job, pace: Callable[[], float] = lambda: 0.0) -> None:
    """UploadComplete -> InProgress -> JobComplete (rows may fail one by one) or Failed.
    `pace` (rows per second, 0 for no pause) slows a job down for tests that need it running."""
    with job.lock:
        if job.state != "UploadComplete":
            return  # aborted before the worker started
        job.state = "InProgress"
        job.modstamp = stamp(org.now())
    started = time.monotonic()
    rows: list[list[str]] = []
    try:
        rows = list(read_uploads(job))
        run = IngestRun(org, job)
        for index, cells in enumerate(rows):
            if (rate := pace()) > 0:
                time.sleep(1 / rate)
            result = run.apply(cells)
            job.processed = index + 1
            if result.success:
                job.successful.append(
                    [result.id or "", "true" if result.created else "false", *cells]
                )
            else:
                job.failed_count += 1
                job.failed.append([result.id or "", error_cell(result), *cells])
        state = "JobComplete"
    except JobFailure as exc:
        job.error_message = str(exc)
        job.unprocessed = rows[job.processed :] if rows else []
        state = "Failed"
    job.processing_ms = int((time.monotonic() - started) * 1000)
    with job.lock:
        job.state = state
        job.modstamp = stamp(org.now())


def unprocessed_rows(job: Job) -> list[list[str]]:
    """Rows never applied: all of them for an aborted job, the rest for a failed one."""
    if job.state == "Aborted" and not job.processed:
        rows: list[list[str]] = []
        try:
            rows = list(read_uploads(job))
        except JobFailure:
            pass
        return rows
    return job.unprocessed
