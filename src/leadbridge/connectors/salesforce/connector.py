"""Salesforce for the engine: validated writes with one result per record, and reads by a
compound (SystemModstamp, Id) cursor that never skips a record.

Writes: every record is checked against the cached describe before anything is sent (unknown
or read-only field, required field missing on create, restricted picklist value, string too
long, malformed e-mail) — such a record fails alone, with the allowed values in the hint, and
costs no API call. The rest go out in sObject Collections of up to 200 (allOrNone false, so one
bad record fails alone); a record Salesforce could not lock is sent again, alone with the other
locked ones, a few times.

Reads: each run re-reads from `cursor - overlap` up to the run's start (`cap`), ordered by
(SystemModstamp, Id). Ties at one millisecond and late commits (a transaction that stamped its
rows before our last read but committed after it) both fall inside the overlap; records already
seen come again, harmlessly (the engine's writes are idempotent on (Id, SystemModstamp)). A
complete read moves the cursor up to at least `cap - overlap`, so the next run re-reads at most
two overlaps before its own start, not everything since the org's last busy hour.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email

from leadbridge.connectors.base import (
    Cursor,
    JobLedger,
    JobOutcome,
    RemoteJob,
    RemoteRecord,
    WriteResult,
)
from leadbridge.connectors.errors import ConnectorError, PermanentError, TransientError
from leadbridge.connectors.salesforce.bulk import BulkIngest, job_outcome, run_job
from leadbridge.connectors.salesforce.client import (
    COLLECTION_MAX,
    HINTS,
    SalesforceClient,
    error_for,
)
from leadbridge.connectors.salesforce.describe import required_on_create

Op = Literal["create", "update", "upsert", "delete"]
LOCK_RETRIES = 5  # then the record is handed back as transient: a later run retries it


@dataclass(frozen=True)
class Page:
    records: list[RemoteRecord]
    cursor: Cursor


def soql_datetime(value: datetime) -> str:
    """Second precision, rounded down: the overlap and the re-read cover the rest."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _typed(kind: str, value: str) -> Any:
    if value == "":
        return None
    if kind == "boolean":
        return value.lower() == "true"
    if kind == "int":
        return int(float(value))
    if kind in ("double", "currency", "percent"):
        return float(value)
    return value


def parse_sf_datetime(value: str) -> datetime:
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text)


class SalesforceConnector:
    def __init__(
        self,
        client: SalesforceClient,
        *,
        overlap: timedelta = timedelta(minutes=5),
        bulk_threshold: int = 2000,
    ) -> None:
        self.client = client
        self.overlap = overlap
        # Above this many records a write goes through Bulk API 2.0 (reference: ~2,000).
        self.bulk_threshold = bulk_threshold
        self.ingest = BulkIngest(client.api)

    async def job_outcome(
        self, job: RemoteJob, records: Sequence[tuple[Any, dict[str, Any]]], *, wait: float
    ) -> JobOutcome:
        """A job a ledger recorded, looked at again: still running after `wait` seconds, or
        finished with one result per record (`records` as given to `write`)."""
        return await job_outcome(self.ingest, job, records, wait=wait)

    # --- validation before sending ---------------------------------------------------------------

    async def validate(self, sobject: str, values: dict[str, Any], op: Op) -> list[PermanentError]:
        describe = await self.client.describe(sobject)
        fields = {f["name"].lower(): f for f in describe["fields"]}
        problems: list[PermanentError] = []
        for key, value in values.items():
            f = fields.get(key.lower())
            if f is None:
                problems.append(
                    PermanentError(
                        f"{sobject} has no field {key}",
                        field=key,
                        code="INVALID_FIELD",
                        hint=HINTS["INVALID_FIELD"],
                    )
                )
                continue
            writable = f["createable"] if op in ("create", "upsert") else f["updateable"]
            if key.lower() != "id" and not writable:
                problems.append(
                    PermanentError(
                        f"{sobject}.{f['name']} is read-only",
                        field=f["name"],
                        code="INVALID_FIELD_FOR_INSERT_UPDATE",
                        hint=HINTS["INVALID_FIELD_FOR_INSERT_UPDATE"],
                    )
                )
                continue
            if value is None or value == "":
                continue
            problem = self._value_problem(sobject, f, value)
            if problem:
                problems.append(problem)
        if op == "create":
            given = {k.lower() for k, v in values.items() if v not in (None, "")}
            missing = [n for n in required_on_create(describe) if n.lower() not in given]
            if missing:
                problems.append(
                    PermanentError(
                        f"required fields are missing: {', '.join(missing)}",
                        field=missing[0],
                        code="REQUIRED_FIELD_MISSING",
                        hint=HINTS["REQUIRED_FIELD_MISSING"],
                    )
                )
        return problems

    def _value_problem(self, sobject: str, f: dict[str, Any], value: Any) -> PermanentError | None:
        kind, name = f["type"], f["name"]
        if kind in ("picklist", "multipicklist") and f.get("restrictedPicklist"):
            allowed = [p["value"] for p in f["picklistValues"] if p.get("active", True)]
            parts = str(value).split(";") if kind == "multipicklist" else [str(value)]
            bad = [p for p in parts if p not in allowed]
            if bad:
                return PermanentError(
                    f"{sobject}.{name}: {bad[0]!r} is not a value of the restricted picklist",
                    field=name,
                    code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    hint=f"allowed values: {', '.join(allowed)}",
                )
        if isinstance(value, str) and f.get("length") and len(value) > f["length"]:
            return PermanentError(
                f"{sobject}.{name}: {len(value)} characters, at most {f['length']}",
                field=name,
                code="STRING_TOO_LONG",
                hint=HINTS["STRING_TOO_LONG"],
            )
        if kind == "email":
            try:
                validate_email(str(value), check_deliverability=False)
            except EmailNotValidError:
                return PermanentError(
                    f"{sobject}.{name}: {value!r} is not an e-mail address",
                    field=name,
                    code="INVALID_EMAIL_ADDRESS",
                    hint=HINTS["INVALID_EMAIL_ADDRESS"],
                )
        return None

    # --- writes ---------------------------------------------------------------------------------

    async def write(
        self,
        sobject: str,
        op: Op,
        records: Sequence[tuple[Any, dict[str, Any]]],
        *,
        ext_id: str | None = None,
        ledger: JobLedger | None = None,
    ) -> list[WriteResult]:
        """(ref, values) in, one WriteResult per input out, in input order. For update and
        delete the values carry "Id"; for upsert they carry the external id field. A Bulk job
        is recorded in `ledger` before its upload (bulk.py)."""
        results: dict[int, WriteResult] = {}
        pending: list[tuple[int, Any, dict[str, Any]]] = []
        for index, (ref, values) in enumerate(records):
            problems = (
                []
                if op == "delete"
                else await self.validate(
                    sobject, {k: v for k, v in values.items() if k not in ("Id", ext_id)}, op
                )
            )
            if problems:
                results[index] = WriteResult(ref, values.get("Id"), error=problems[0])
            else:
                pending.append((index, ref, values))
        if len(pending) > self.bulk_threshold:
            found, pending = await run_job(self.ingest, sobject, op, pending, ext_id, ledger)
            results.update(found)
        for attempt in range(LOCK_RETRIES + 1):
            if not pending:
                break
            if attempt:
                await asyncio.sleep(0.05 * attempt)  # let the other transaction finish
            locked: list[tuple[int, Any, dict[str, Any]]] = []
            for start in range(0, len(pending), COLLECTION_MAX):
                chunk = pending[start : start + COLLECTION_MAX]
                answers = await self._send(sobject, op, [v for _, _, v in chunk], ext_id)
                for (index, ref, values), answer in zip(chunk, answers, strict=True):
                    result = self._result(ref, values, answer)
                    if (
                        isinstance(result.error, TransientError)
                        and result.error.code == "UNABLE_TO_LOCK_ROW"
                    ):
                        locked.append((index, ref, values))
                    results[index] = result
            pending = locked
        return [results[i] for i in range(len(records))]

    async def read_all(
        self, sobject: str, fields: Sequence[str]
    ) -> AsyncIterator[list[RemoteRecord]]:
        """An initial load through a Bulk API 2.0 query job (CSV pages), typed by describe."""
        describe = await self.client.describe(sobject)
        kinds = {f["name"]: f["type"] for f in describe["fields"]}
        names = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
        soql = f"SELECT {', '.join(names)} FROM {sobject}"
        async for page in self.client.bulk_query(soql):
            records = []
            for row in csv.DictReader(io.StringIO(page)):
                typed = {k: _typed(kinds.get(k, "string"), v) for k, v in row.items()}
                stamp = (
                    parse_sf_datetime(row["SystemModstamp"]) if row.get("SystemModstamp") else None
                )
                records.append(RemoteRecord(sobject, row["Id"], typed, modified_at=stamp))
            yield records

    async def _send(
        self, sobject: str, op: Op, batch: list[dict[str, Any]], ext_id: str | None
    ) -> list[dict[str, Any]]:
        if op == "delete":
            ids = ",".join(str(v["Id"]) for v in batch)
            return await self.client.collection(
                "DELETE", "composite/sobjects/", params={"ids": ids, "allOrNone": "false"}
            )
        body = {
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": sobject},
                    **({"id": v["Id"]} if op == "update" else {}),
                    **{k: v for k, v in v.items() if not (op == "update" and k == "Id")},
                }
                for v in batch
            ],
        }
        if op == "create":
            return await self.client.collection("POST", "composite/sobjects/", body)
        if op == "update":
            return await self.client.collection("PATCH", "composite/sobjects/", body)
        return await self.client.collection("PATCH", f"composite/sobjects/{sobject}/{ext_id}", body)

    def _result(self, ref: Any, values: dict[str, Any], answer: dict[str, Any]) -> WriteResult:
        if answer.get("success"):
            return WriteResult(
                ref, answer.get("id"), created=bool(answer.get("created", False)), record=answer
            )
        errors = answer.get("errors") or [{}]
        e = errors[0]
        error: ConnectorError = error_for(
            e.get("statusCode"), str(e.get("message", "")), list(e.get("fields") or [])
        )
        return WriteResult(ref, answer.get("id") or values.get("Id"), error=error, record=answer)

    # --- reads --------------------------------------------------------------------------------

    async def read_changed(
        self, sobject: str, fields: Sequence[str], cursor: Cursor, cap: datetime
    ) -> AsyncIterator[Page]:
        names = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
        where = [f"SystemModstamp <= {soql_datetime(cap + timedelta(seconds=1))}"]
        if cursor.modified_at is not None:
            where.append(f"SystemModstamp >= {soql_datetime(cursor.modified_at - self.overlap)}")
        soql = (
            f"SELECT {', '.join(names)} FROM {sobject} WHERE {' AND '.join(where)} "
            "ORDER BY SystemModstamp, Id"
        )
        position = cursor
        async for rows in self.client.query(soql):
            records = []
            for row in rows:
                stamp = parse_sf_datetime(row["SystemModstamp"])
                if stamp > cap:
                    continue  # committed after the run started: the next run takes it
                records.append(RemoteRecord(sobject, row["Id"], row, modified_at=stamp))
                if position.modified_at is None or (stamp, row["Id"]) > (
                    position.modified_at,
                    position.last_id or "",
                ):
                    position = Cursor(stamp, row["Id"])
            yield Page(records, position)
        floor = cap - self.overlap
        if position.modified_at is None or position.modified_at < floor:
            # A complete read up to `cap` saw everything stamped before `cap - overlap`: the
            # cursor catches up, so a quiet org is not re-read from its last burst forever.
            yield Page([], Cursor(floor, None))

    async def read_deleted(self, sobject: str, since: datetime) -> list[RemoteRecord]:
        """Deleted and merged-away records (merge losers carry MasterRecordId), via queryAll."""
        has_master = any(
            f["name"] == "MasterRecordId" for f in (await self.client.describe(sobject))["fields"]
        )
        fields = "Id, SystemModstamp" + (", MasterRecordId" if has_master else "")
        soql = (
            f"SELECT {fields} FROM {sobject} "
            f"WHERE IsDeleted = true AND SystemModstamp >= {soql_datetime(since)}"
        )
        out: list[RemoteRecord] = []
        async for rows in self.client.query(soql, include_deleted=True):
            out.extend(
                RemoteRecord(
                    sobject, r["Id"], r, parse_sf_datetime(r["SystemModstamp"]), deleted=True
                )
                for r in rows
            )
        return out
