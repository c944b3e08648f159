"""Bulk API 2.0 jobs without HTTP: the job record and its JSON views, CSV out, and the
processing of query jobs against an org (run on a worker thread by bulk.py); ingest jobs are
processed by bulk_ingest.py.

Facts from reference §4 and simple-salesforce's bulk2 client. Points the reference leaves
unconfirmed take the stricter reading and say so where they are decided (marked K).
"""

from __future__ import annotations

import csv
import io
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from leadbridge.sandbox.salesforce import soql

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")
FINISHED = ("JobComplete", "Failed", "Aborted")
NULL_CELL = "#N/A"  # sets a field to null; an empty cell leaves it as it is


class SaveResultLike(Protocol):
    id: str | None
    success: bool
    created: bool
    errors: list[dict[str, Any]]


class OrgLike(Protocol):
    """The org store's face that Bulk needs (leadbridge.sandbox.salesforce.org.Org)."""

    lock: Any
    records: dict[str, dict[str, dict[str, Any]]]  # sobject -> id -> row (hardDelete only)

    def canonical(self, sobject: str) -> str | None: ...
    def describe(self, sobject: str) -> dict[str, Any]: ...
    def rows(self, sobject: str) -> Any: ...
    def row(self, sobject: str, record_id: str) -> dict[str, Any] | None: ...
    def now(self) -> datetime: ...
    def create(self, sobject: str, fields: dict[str, Any], *, user_id: str | None) -> Any: ...
    def update(
        self, sobject: str, record_id: str, fields: dict[str, Any], *, user_id: str | None
    ) -> Any: ...
    def upsert(
        self,
        sobject: str,
        ext_field: str,
        ext_value: Any,
        fields: dict[str, Any],
        *,
        user_id: str | None,
    ) -> Any: ...
    def delete(self, sobject: str, record_id: str, *, user_id: str | None) -> Any: ...


def stamp(moment: datetime) -> str:
    return str(soql.format_value("datetime", moment))


@dataclass
class Job:
    id: str
    kind: str  # ingest | query
    operation: str
    object: str
    created_by: str
    created: str
    api_version: str
    line_ending: str = "LF"
    column_delimiter: str = "COMMA"
    external_id: str | None = None
    query: str | None = None
    state: str = "Open"
    modstamp: str = ""
    error_message: str | None = None
    processed: int = 0
    failed_count: int = 0
    processing_ms: int = 0
    uploads: list[bytes] = field(default_factory=list)
    upload_bytes: int = 0
    header: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # query: CSV header
    results: list[list[str]] = field(default_factory=list)  # query: CSV rows
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.column_delimiter]

    @property
    def newline(self) -> str:
        return LINE_ENDINGS[self.line_ending]

    def created_view(self) -> dict[str, Any]:
        """The reply to create / close / abort: the job as it was set up."""
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp or self.created,
            "state": self.state,
        }
        if self.external_id:
            out["externalIdFieldName"] = self.external_id
        out |= {
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
        }
        if self.kind == "ingest":
            out["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
        out |= {"lineEnding": self.line_ending, "columnDelimiter": self.column_delimiter}
        return out

    def info_view(self) -> dict[str, Any]:
        """GET jobs/{kind}/{id}: the setup plus type, counters and timings."""
        out = self.created_view()
        out["jobType"] = "V2Ingest" if self.kind == "ingest" else "V2Query"
        out["numberRecordsProcessed"] = self.processed
        if self.kind == "ingest":
            out["numberRecordsFailed"] = self.failed_count
        out["retries"] = 0
        out["totalProcessingTime"] = self.processing_ms
        if self.kind == "ingest":
            out["apiActiveProcessingTime"] = self.processing_ms
            out["apexProcessingTime"] = 0
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out


def write_csv(header: list[str], rows: list[list[str]], delimiter: str, newline: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# --- query ----------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.endswith("+0000") and "T" in value:
        return value[:-5] + "Z"  # Bulk CSV writes UTC datetimes with Z (K)
    return str(value)


def flatten(record: dict[str, Any], header: str) -> str:
    """One dotted column (Account.Name) of an API-shaped record."""
    value: Any = record
    for part in header.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return csv_cell(value)


def process_query(org: OrgLike, job: Job, query: soql.Query) -> None:
    with job.lock:
        if job.state != "UploadComplete":
            return
        job.state = "InProgress"
    started = time.monotonic()
    try:
        with org.lock:  # a consistent snapshot, as a query job's results are
            records, _ = soql.execute(
                query,
                org,
                include_deleted=job.operation == "queryAll",
                api_version=job.api_version,
            )
            job.columns = soql.columns(query, org)
        job.results = [[flatten(r, h) for h in job.columns] for r in records]
        job.processed = len(records)
        state = "JobComplete"
    except soql.SoqlError as exc:
        job.error_message = exc.message
        state = "Failed"
    job.processing_ms = int((time.monotonic() - started) * 1000)
    with job.lock:
        if job.state == "InProgress":
            job.state = state
        job.modstamp = stamp(org.now())
