"""Reading Salesforce: by a compound (SystemModstamp, Id) cursor that never skips a record, by
ids, in bulk for an initial load, and the deleted. Conversions, merges and deletions come out as
events on the records (connectors.base.RemoteEvent).

Each run re-reads from `cursor - overlap` up to the run's start (`cap`), ordered by
(SystemModstamp, Id). Ties in one second and late commits (a transaction that stamped its rows
before our last read but committed after it) both fall inside the overlap; records already seen
come again, harmlessly (the engine's writes are idempotent on (Id, SystemModstamp)). A complete
read moves the cursor up to at least `cap - overlap`, so the next run re-reads at most two
overlaps before its own start, not everything since the org's last busy hour.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from leadbridge.connectors.base import Cursor, Page, RemoteEvent, RemoteRecord
from leadbridge.connectors.salesforce.client import SalesforceClient

IN_CHUNK = 200  # ids per `Id IN (…)`: well inside SOQL's 100,000-character limit


def soql_text(value: str) -> str:
    """A string literal for SOQL: backslashes and quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def soql_datetime(value: datetime) -> str:
    """Second precision, rounded down: the overlap and the re-read cover the rest."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_sf_datetime(value: str) -> datetime:
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text)


def event_of(sobject: str, row: dict[str, Any]) -> RemoteEvent | None:
    """A converted lead lives on as its contact and account; a deleted record carrying a
    MasterRecordId was merged into that master."""
    if row.get("IsDeleted"):
        master = row.get("MasterRecordId")
        return (
            RemoteEvent("merged", ((sobject, str(master)),)) if master else RemoteEvent("deleted")
        )
    if sobject == "Lead" and row.get("IsConverted"):
        into = tuple(
            (target, str(row[key]))
            for target, key in (
                ("Contact", "ConvertedContactId"),
                ("Account", "ConvertedAccountId"),
            )
            if row.get(key)
        )
        return RemoteEvent("converted", into)
    return None


def record(sobject: str, row: dict[str, Any], stamp: datetime | None) -> RemoteRecord:
    event = event_of(sobject, row)
    deleted = event is not None and event.kind in ("deleted", "merged")
    return RemoteRecord(sobject, row["Id"], row, modified_at=stamp, deleted=deleted, event=event)


async def read_changed(
    client: SalesforceClient,
    sobject: str,
    fields: Sequence[str],
    cursor: Cursor,
    cap: datetime,
    overlap: timedelta,
) -> AsyncIterator[Page]:
    names = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
    where = [f"SystemModstamp <= {soql_datetime(cap + timedelta(seconds=1))}"]
    if cursor.modified_at is not None:
        where.append(f"SystemModstamp >= {soql_datetime(cursor.modified_at - overlap)}")
    soql = (
        f"SELECT {', '.join(names)} FROM {sobject} WHERE {' AND '.join(where)} "
        "ORDER BY SystemModstamp, Id"
    )
    position = cursor
    async for rows in client.query(soql):
        records = []
        for row in rows:
            stamp = parse_sf_datetime(row["SystemModstamp"])
            if stamp > cap:
                continue  # committed after the run started: the next run takes it
            records.append(record(sobject, row, stamp))
            if position.modified_at is None or (stamp, row["Id"]) > (
                position.modified_at,
                position.last_id or "",
            ):
                position = Cursor(stamp, row["Id"])
        yield Page(records, position)
    floor = cap - overlap
    if position.modified_at is None or position.modified_at < floor:
        # A complete read up to `cap` saw everything stamped before `cap - overlap`: the
        # cursor catches up, so a quiet org is not re-read from its last burst forever.
        yield Page([], Cursor(floor, None))


async def read_ids(
    client: SalesforceClient, sobject: str, fields: Sequence[str], ids: Sequence[str]
) -> list[RemoteRecord]:
    """The records as they are now, one query per 200 ids."""
    names = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
    unique = list(dict.fromkeys(ids))
    out: list[RemoteRecord] = []
    for start in range(0, len(unique), IN_CHUNK):
        chunk = ", ".join(soql_text(i) for i in unique[start : start + IN_CHUNK])
        soql = f"SELECT {', '.join(names)} FROM {sobject} WHERE Id IN ({chunk})"
        async for rows in client.query(soql):
            out.extend(record(sobject, row, _stamp(row.get("SystemModstamp"))) for row in rows)
    return out


async def read_all(
    client: SalesforceClient, sobject: str, fields: Sequence[str]
) -> AsyncIterator[list[RemoteRecord]]:
    """An initial load through a Bulk API 2.0 query job (CSV pages), typed by describe."""
    describe = await client.describe(sobject)
    kinds = {f["name"]: f["type"] for f in describe["fields"]}
    names = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
    soql = f"SELECT {', '.join(names)} FROM {sobject}"
    async for page in client.bulk_query(soql):
        records = []
        for row in csv.DictReader(io.StringIO(page)):
            typed = {k: _typed(kinds.get(k, "string"), v) for k, v in row.items()}
            records.append(record(sobject, typed, _stamp(row.get("SystemModstamp"))))
        yield records


async def read_deleted(
    client: SalesforceClient, sobject: str, since: datetime
) -> list[RemoteRecord]:
    """Deleted and merged-away records (merge losers carry MasterRecordId), via queryAll."""
    describe = await client.describe(sobject)
    has_master = any(f["name"] == "MasterRecordId" for f in describe["fields"])
    fields = "Id, SystemModstamp, IsDeleted" + (", MasterRecordId" if has_master else "")
    soql = (
        f"SELECT {fields} FROM {sobject} "
        f"WHERE IsDeleted = true AND SystemModstamp >= {soql_datetime(since)}"
    )
    out: list[RemoteRecord] = []
    async for rows in client.query(soql, include_deleted=True):
        out.extend(record(sobject, r, _stamp(r.get("SystemModstamp"))) for r in rows)
    return out


def _stamp(value: Any) -> datetime | None:
    return parse_sf_datetime(value) if isinstance(value, str) and value else None


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
