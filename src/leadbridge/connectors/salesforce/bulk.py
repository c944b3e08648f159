"""Bulk API 2.0 writes: one ingest job per call, recorded in a job ledger before its upload, and
read back by cells (a job's results keep the uploaded columns, not the order).

An ingest job lives on in Salesforce whatever happens to us: closed, it runs to the end; open,
it is never processed and expires. So the job is handed to the caller's `JobLedger` as soon as it
exists, before the upload: a run that dies (or gives up waiting) leaves it for the next run,
which calls `job_outcome` — an open job is aborted (nothing of it was written), a closed one is
waited for and its results read into the records it carried. No record of it is sent again
until then, which is what keeps a crash mid-job from creating everything twice.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from typing import Any

from leadbridge.connectors.base import JobLedger, JobOutcome, RemoteJob, WriteResult
from leadbridge.connectors.errors import ConnectorError, NotProcessedError, TransientError
from leadbridge.connectors.http import ApiClient
from leadbridge.connectors.salesforce.client import error_for

Entry = tuple[int, Any, dict[str, Any]]  # (input index, caller's ref, values)
FINISHED = ("JobComplete", "Failed", "Aborted")
RESULT_FILES = (
    ("successful", "successfulResults/"),
    ("failed", "failedResults/"),
    ("unprocessed", "unprocessedrecords/"),
)


def cell(value: Any) -> str:
    """A value as a Bulk CSV cell: null is #N/A (an empty cell would mean "leave it")."""
    if value is None:
        return "#N/A"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class BulkIngest:
    """The steps of one ingest job, each one call."""

    def __init__(self, api: ApiClient, *, poll: float = 0.2, max_wait: float = 1800.0) -> None:
        self.api = api
        self.poll = poll
        self.max_wait = max_wait

    async def open(self, sobject: str, operation: str, ext_id: str | None) -> str:
        body: dict[str, Any] = {
            "object": sobject,
            "operation": operation,
            "contentType": "CSV",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if ext_id:
            body["externalIdFieldName"] = ext_id
        return str((await self.api.json("POST", "jobs/ingest/", json=body))["id"])

    async def upload(self, job_id: str, text: str) -> None:
        """One upload per job: a resend after an answer lost on the way could be refused (or
        doubled), so a failed upload aborts the job (nothing of it was written)."""
        try:
            await self.api.request(
                "PUT",
                f"jobs/ingest/{job_id}/batches/",
                content=text.encode(),
                headers={"Content-Type": "text/csv; charset=UTF-8"},
                once=True,
            )
        except ConnectorError as exc:
            await self.abort(job_id)
            raise TransientError(
                f"bulk upload of job {job_id} failed ({exc}); the job was aborted, nothing "
                "of it was written"
            ) from exc

    async def close(self, job_id: str) -> None:
        try:
            await self.api.json(
                "PATCH", f"jobs/ingest/{job_id}/", json={"state": "UploadComplete"}, once=True
            )
        except ConnectorError:
            # The close may have landed with its answer lost: the job's state tells.
            if (await self.info(job_id))["state"] == "Open":
                await self.abort(job_id)
                raise

    async def info(self, job_id: str) -> dict[str, Any]:
        return dict(await self.api.json("GET", f"jobs/ingest/{job_id}/"))

    async def abort(self, job_id: str) -> None:
        try:
            await self.api.json("PATCH", f"jobs/ingest/{job_id}/", json={"state": "Aborted"})
        except ConnectorError:
            pass  # an open job nobody closes is never processed, and expires

    async def wait(self, job_id: str, max_wait: float | None = None) -> dict[str, Any]:
        """Poll until the job has finished; TransientError when it has not within max_wait."""
        limit = self.max_wait if max_wait is None else max_wait
        waited, poll = 0.0, self.poll
        while True:
            info = await self.info(job_id)
            if info["state"] in FINISHED:
                return info
            if waited >= limit:
                raise TransientError(
                    f"bulk job {job_id} still {info['state']} after {limit:.0f} s; the next run "
                    "reads its results"
                )
            await asyncio.sleep(poll)
            waited += poll
            poll = min(poll * 1.5, 10.0)

    async def results(self, job_id: str) -> dict[str, str]:
        out = {}
        for kind, path in RESULT_FILES:
            response = await self.api.request(
                "GET", f"jobs/ingest/{job_id}/{path}", headers={"Accept": "text/csv"}
            )
            out[kind] = response.text
        return out


def columns_of(op: str, entries: Sequence[Entry]) -> list[str]:
    return sorted({k for _, _, v in entries for k in v}) if op != "delete" else ["Id"]


def to_csv(columns: list[str], entries: Sequence[Entry]) -> str:
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(columns)
    for _, _, values in entries:
        writer.writerow([cell(values.get(c)) for c in columns])
    return lines.getvalue()


def read_back(
    answers: dict[str, str], columns: list[str], entries: Sequence[Entry]
) -> tuple[dict[int, WriteResult], list[Entry]]:
    """The rows of a finished job matched back to their inputs by their cells: results by input
    index, and the inputs to send again (unprocessed, locked, or missing from every file)."""
    by_cells: dict[tuple[str, ...], list[Entry]] = {}
    for entry in entries:
        by_cells.setdefault(tuple(cell(entry[2].get(c)) for c in columns), []).append(entry)
    results: dict[int, WriteResult] = {}
    retry: list[Entry] = []
    for kind, _ in RESULT_FILES:
        for row in csv.DictReader(io.StringIO(answers.get(kind, ""))):
            waiting = by_cells.get(tuple(row.get(c, "") for c in columns))
            if not waiting:
                continue
            index, ref, values = waiting.pop(0)
            if kind == "successful":
                results[index] = WriteResult(
                    ref, row["sf__Id"], created=row.get("sf__Created") == "true"
                )
                continue
            code, _, rest = (row.get("sf__Error") or "UNPROCESSED:not processed").partition(":")
            message, _, fields = rest.rpartition(":")
            if kind == "unprocessed" or code == "UNABLE_TO_LOCK_ROW":
                retry.append((index, ref, values))
                continue
            error = error_for(
                code, message or rest, [f for f in fields.strip(" -").split(",") if f]
            )
            results[index] = WriteResult(ref, row.get("sf__Id") or values.get("Id"), error=error)
    retry.extend(entry for left in by_cells.values() for entry in left)  # unanswered rows
    return results, retry


async def run_job(
    ingest: BulkIngest,
    sobject: str,
    op: str,
    entries: Sequence[Entry],
    ext_id: str | None,
    ledger: JobLedger | None,
) -> tuple[dict[int, WriteResult], list[Entry]]:
    """One ingest job to the end: results by input index, and the inputs to send again."""
    columns = columns_of(op, entries)
    operation = {"create": "insert"}.get(op, op)
    job_id = await ingest.open(sobject, operation, ext_id)
    if ledger is not None:
        job = RemoteJob(job_id, sobject, operation, {"columns": columns, "ext_id": ext_id})
        try:
            await ledger.opened(job, [ref for _, ref, _ in entries])
        except BaseException:
            await ingest.abort(job_id)  # unrecorded, it must not write anything
            raise
    await ingest.upload(job_id, to_csv(columns, entries))
    await ingest.close(job_id)
    info = await ingest.wait(job_id)
    if info["state"] != "JobComplete" and not info.get("numberRecordsProcessed"):
        # Failed (or aborted by someone) before writing a row: every record goes again.
        return {}, list(entries)
    return read_back(await ingest.results(job_id), columns, entries)


async def job_outcome(
    ingest: BulkIngest,
    job: RemoteJob,
    records: Sequence[tuple[Any, dict[str, Any]]],
    *,
    wait: float,
) -> JobOutcome:
    """A recorded job, looked at again by a later run (see the module docstring)."""
    entries = [(i, ref, values) for i, (ref, values) in enumerate(records)]
    try:
        info = await ingest.info(job.id)
    except ConnectorError as exc:
        if exc.status != 404:
            raise
        # Salesforce deletes finished jobs after 7 days: what it wrote is only in the org now.
        gone = _not_processed(entries, "the job no longer exists")
        return JobOutcome("Deleted", True, list(gone.values()))
    if info["state"] == "Open":  # never closed: abort it, nothing of it was written
        await ingest.abort(job.id)
        aborted = _not_processed(entries, "its upload was never closed; it was aborted")
        return JobOutcome("Aborted", True, list(aborted.values()))
    if info["state"] not in FINISHED:
        try:
            info = await ingest.wait(job.id, wait)
        except TransientError:
            return JobOutcome(str(info["state"]), False)
    columns = list(job.meta.get("columns") or columns_of(job.operation, entries))
    found, retry = read_back(await ingest.results(job.id), columns, entries)
    results = _not_processed(retry, f"job {job.id} did not write it")
    results.update(found)
    return JobOutcome(str(info["state"]), True, [results[i] for i in range(len(entries))])


def _not_processed(entries: Sequence[Entry], why: str) -> dict[int, WriteResult]:
    return {index: WriteResult(ref, error=NotProcessedError(why)) for index, ref, _ in entries}
