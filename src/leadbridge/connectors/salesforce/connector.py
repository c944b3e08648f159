"""Salesforce for the engine (the connector protocol of connectors.base): validated writes
with one result per record, through sObject Collections or Bulk API 2.0, and reads (reads.py).

Writes: every record is checked against the describe (connectors.validate) before anything is
sent: a record that cannot be written fails alone, with the allowed values in its hint, and
costs no API call. The rest go out in sObject Collections of up to 200 (allOrNone false, so one
bad record fails alone), or in one Bulk 2.0 job above `bulk_threshold` records (bulk.py); a
record Salesforce could not lock is sent again, alone with the other locked ones, a few times.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from leadbridge.connectors.activity import ActivityOut
from leadbridge.connectors.base import (
    Cursor,
    JobLedger,
    JobOutcome,
    Op,
    Page,
    RemoteJob,
    RemoteRecord,
    WriteResult,
)
from leadbridge.connectors.catalog import DealStage
from leadbridge.connectors.errors import ConnectorError, PermanentError, TransientError
from leadbridge.connectors.http import CallCounter
from leadbridge.connectors.salesforce import activities, campaigns, reads
from leadbridge.connectors.salesforce.bulk import BulkIngest, job_outcome, run_job
from leadbridge.connectors.salesforce.catalog import CATALOG
from leadbridge.connectors.salesforce.client import (
    COLLECTION_MAX,
    HINTS,
    SalesforceClient,
    error_for,
)
from leadbridge.connectors.salesforce.deals import deal_stages
from leadbridge.connectors.salesforce.schema import object_schema
from leadbridge.connectors.validate import problems
from leadbridge.policy.schema import ObjectSchema

LOCK_RETRIES = 5  # then the record is handed back as transient: a later run retries it


class SalesforceConnector:
    catalog = CATALOG

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
        self._schemas: dict[str, tuple[dict[str, Any], ObjectSchema]] = {}

    @property
    def calls(self) -> CallCounter:
        return self.client.calls

    async def aclose(self) -> None:
        await self.client.aclose()

    async def schema(self, stream: str) -> ObjectSchema:
        """Built once per describe (the client caches describes; a new one is a new schema)."""
        describe = await self.client.describe(stream)
        cached = self._schemas.get(stream)
        if cached is None or cached[0] is not describe:
            cached = (describe, object_schema(describe))
            self._schemas[stream] = cached
        return cached[1]

    async def deal_stages(self) -> list[DealStage]:
        """The org's opportunity stages (StageName's active values), in picklist order."""
        return deal_stages(await self.client.describe("Opportunity"))

    async def validate(self, sobject: str, values: dict[str, Any], op: Op) -> list[PermanentError]:
        return problems(await self.schema(sobject), values, op, HINTS)

    async def job_outcome(
        self, job: RemoteJob, records: Sequence[tuple[Any, dict[str, Any]]], *, wait: float
    ) -> JobOutcome:
        """A job a ledger recorded, looked at again: still running after `wait` seconds, or
        finished with one result per record (`records` as given to `write`)."""
        return await job_outcome(self.ingest, job, records, wait=wait)

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
                    result = self._result(ref, values, answer, op)
                    if (
                        isinstance(result.error, TransientError)
                        and result.error.code == "UNABLE_TO_LOCK_ROW"
                    ):
                        locked.append((index, ref, values))
                    results[index] = result
            pending = locked
        return [results[i] for i in range(len(records))]

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

    def _result(
        self, ref: Any, values: dict[str, Any], answer: dict[str, Any], op: Op
    ) -> WriteResult:
        if answer.get("success"):
            # Collections say `created` for upserts only: an insert that succeeded created.
            created = bool(answer.get("created", op == "create"))
            return WriteResult(ref, answer.get("id"), created=created, record=answer)
        errors = answer.get("errors") or [{}]
        e = errors[0]
        error: ConnectorError = error_for(
            e.get("statusCode"), str(e.get("message", "")), list(e.get("fields") or [])
        )
        return WriteResult(ref, answer.get("id") or values.get("Id"), error=error, record=answer)

    # --- activities (activities.py) ------------------------------------------------------------

    def activity_object(self, kind: str) -> str:
        return activities.activity_object(kind)

    def activity_batch(self) -> int:
        return COLLECTION_MAX

    async def activity_setup(self, sequence_subtype: bool = False) -> str | None:
        for sobject in ("Task", "Event"):
            problem = activities.missing_key(list((await self.schema(sobject)).fields), sobject)
            if problem:
                self.client.forget_describes()  # the next check sees the field once it is added
                return problem
        return None

    async def write_activities(self, items: list[tuple[Any, ActivityOut]]) -> list[WriteResult]:
        """Tasks and Events in collections of 200 (plain creates; a key sent twice hands back
        the record its first send made)."""
        results: dict[int, WriteResult] = {}
        for sobject in ("Task", "Event"):
            mine = [(i, ref, a) for i, (ref, a) in enumerate(items)
                    if activities.activity_object(a.kind) == sobject]  # fmt: skip
            if not mine:
                continue
            answers = await self.write(
                sobject, "create", [(i, activities.values_of(a)) for i, _, a in mine]
            )
            for (i, ref, _), answer in zip(mine, activities.handed_back(answers), strict=True):
                results[i] = WriteResult(ref, answer.remote_id, answer.created, answer.error)
        return [results[i] for i in range(len(items))]

    # --- campaigns (campaigns.py) ----------------------------------------------------------------

    campaign_word = "campaign"

    async def add_to_campaign(
        self, campaign: str, people: Sequence[tuple[Any, str, str]]
    ) -> list[WriteResult]:
        return await campaigns.add_to_campaign(self, campaign, people)

    # --- reads (reads.py) ------------------------------------------------------------------------

    def read_changed(
        self, sobject: str, fields: Sequence[str], cursor: Cursor, cap: datetime
    ) -> AsyncIterator[Page]:
        return reads.read_changed(self.client, sobject, fields, cursor, cap, self.overlap)

    async def read_ids(
        self, sobject: str, fields: Sequence[str], ids: Sequence[str]
    ) -> list[RemoteRecord]:
        return await reads.read_ids(self.client, sobject, fields, ids)

    def read_all(self, sobject: str, fields: Sequence[str]) -> AsyncIterator[list[RemoteRecord]]:
        return reads.read_all(self.client, sobject, fields)

    async def read_deleted(self, sobject: str, since: datetime) -> list[RemoteRecord]:
        return await reads.read_deleted(self.client, sobject, since)
