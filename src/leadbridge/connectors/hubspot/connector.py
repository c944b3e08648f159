"""HubSpot for the engine (the connector protocol of connectors.base): validated writes with
one result per record through the batch endpoints, and reads (reads.py).

Writes: every record is checked against the portal's properties (connectors.validate, then
HubSpot's own rules in schema.py) before anything is sent: a record that cannot be written
fails alone, with the allowed values in its hint, and costs no API call. The rest go out in
batches of ≤ 100 (a few batches at once, under the rate limiter), each input with its own trace
id so that one bad input fails alone; answers are matched to inputs by id, e-mail or values,
never by position (writes.py); one WriteResult per input, in input order.

    op       contacts                                   companies
    create   with an e-mail: create, the contact        create (sent once; the engine's
             holding a taken e-mail handed back         intent matches it by domain/name)
             (created or adopted); else as companies
    update   batch update by "Id"                       batch update by "Id"
    upsert   batch upsert by e-mail (`id_property`)     only by a unique property given
    delete   batch archive (restorable for 90 days)     batch archive

A contact's `associatedcompanyid` is never sent as a property: it becomes the primary company
association (inline on create, else associations v4; "" removes it: associations.py).

HubSpot has no server-side batch jobs: `ledger` is never used, and `job_outcome` answers any
job as finished with every record not processed (NotProcessedError), so the caller sends them
again (see job_outcome).
"""

from __future__ import annotations

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
from leadbridge.connectors.errors import NotProcessedError, PermanentError, TransientError
from leadbridge.connectors.http import CallCounter
from leadbridge.connectors.hubspot import activities, campaigns, deal_links, reads
from leadbridge.connectors.hubspot.catalog import (
    CATALOG,
    COMPANY_FIELD,
    CONTACTS,
    DEAL_COMPANY,
    DEAL_CONTACTS,
    DEALS,
    OWNERS,
)
from leadbridge.connectors.hubspot.client import BATCH_MAX, HINTS, HubSpotClient
from leadbridge.connectors.hubspot.matching import UNSET, Item, chunks, sent_signature, wire
from leadbridge.connectors.hubspot.schema import object_schema, owners_schema, value_problems
from leadbridge.connectors.hubspot.writes import Send, Writes
from leadbridge.connectors.validate import problems
from leadbridge.policy.schema import ObjectSchema

WRITABLE = ("contacts", "companies", "deals")


class HubSpotConnector:
    catalog = CATALOG

    def __init__(
        self,
        client: HubSpotClient,
        *,
        overlap: timedelta = timedelta(minutes=5),
        concurrency: int = 8,
    ) -> None:
        self.client = client
        self.overlap = overlap  # must exceed the search index's lag (seconds in practice)
        self.concurrency = concurrency  # batches in flight at once, all under the limiter
        self._schemas: dict[str, ObjectSchema] = {}
        self._owner_ids: tuple[str, ...] | None = None

    @property
    def calls(self) -> CallCounter:
        return self.client.calls

    campaign_word = "list"

    async def add_to_campaign(
        self, campaign: str, people: Sequence[tuple[Any, str, str]]
    ) -> list[WriteResult]:
        """People join a static list (campaigns.py)."""
        return await campaigns.add_to_campaign(self.client, campaign, people)

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- schema ------------------------------------------------------------------------------

    async def schema(self, stream: str) -> ObjectSchema:
        """The stream's properties, read once per connector (a run); the owner property's
        options are the portal's active owners."""
        if stream == OWNERS:
            return owners_schema()
        if stream not in self._schemas:
            properties = await self.client.properties(stream)
            if self._owner_ids is None:
                active = await self.client.owners(archived=False)
                self._owner_ids = tuple(str(o["id"]) for o in active)
            self._schemas[stream] = object_schema(stream, properties, self._owner_ids)
        return self._schemas[stream]

    async def deal_stages(self) -> list[DealStage]:
        """The stages of every deal pipeline (/crm/v3/pipelines/deals), in display order."""
        out: list[DealStage] = []
        pipelines = sorted(
            await self.client.deal_pipelines(), key=lambda p: p.get("displayOrder", 0)
        )
        for pipeline in pipelines:
            if pipeline.get("archived"):
                continue
            stages = sorted(pipeline.get("stages") or [], key=lambda s: s.get("displayOrder", 0))
            for stage in stages:
                if stage.get("archived"):
                    continue
                meta = stage.get("metadata") or {}
                chance = meta.get("probability")
                closed = str(meta.get("isClosed", "false")).lower() == "true"
                out.append(
                    DealStage(
                        str(pipeline["id"]),
                        str(pipeline.get("label") or pipeline["id"]),
                        str(stage["id"]),
                        str(stage.get("label") or stage["id"]),
                        float(chance) if chance not in (None, "") else None,
                        closed,
                        closed and chance not in (None, "") and float(chance) >= 1.0,
                    )
                )
        return out

    def forget_schemas(self) -> None:
        self._schemas.clear()
        self._owner_ids = None

    async def job_outcome(
        self, job: RemoteJob, records: Sequence[tuple[Any, dict[str, Any]]], *, wait: float
    ) -> JobOutcome:
        """HubSpot has no batch jobs and this connector never records one, so a job handed
        here is not HubSpot's: nothing of it was processed, every record is to be sent again
        (safe: a contact with an e-mail is handed back, not duplicated)."""
        error = NotProcessedError(f"HubSpot has no batch jobs: {job.id} was never processed")
        return JobOutcome(
            "NotProcessed", True, [WriteResult(ref, error=error) for ref, _ in records]
        )

    # --- writes ------------------------------------------------------------------------------

    # --- activities (activities.py) ------------------------------------------------------------

    def activity_object(self, kind: str) -> str:
        return activities.activity_object(kind)

    def activity_batch(self) -> int:
        return BATCH_MAX

    async def activity_setup(self, sequence_subtype: bool = False) -> str | None:
        return await activities.missing_key(self.client, sequence_subtype)

    async def write_activities(self, items: list[tuple[Any, ActivityOut]]) -> list[WriteResult]:
        """Engagements in batches of 100 per type, associations inline."""
        results: dict[int, WriteResult] = {}
        for kind in activities.ENGAGEMENTS:
            mine = [(i, ref, a) for i, (ref, a) in enumerate(items)
                    if activities.activity_object(a.kind) == kind]  # fmt: skip
            for start in range(0, len(mine), BATCH_MAX):
                chunk = mine[start : start + BATCH_MAX]
                answers = await activities.create(self.client, kind, [(i, a) for i, _, a in chunk])
                for (i, ref, _), answer in zip(chunk, answers, strict=True):
                    results[i] = WriteResult(ref, answer.remote_id, answer.created, answer.error)
        return [results[i] for i in range(len(items))]

    async def write(
        self,
        stream: str,
        op: Op,
        records: Sequence[tuple[Any, dict[str, Any]]],
        *,
        ledger: JobLedger | None = None,
        id_property: str | None = None,
    ) -> list[WriteResult]:
        """(ref, values) in, one WriteResult per input out, in input order. Update and delete
        carry the record's id as "Id"; upsert matches on `id_property` (contacts: "email")."""
        if stream not in WRITABLE:
            refused = PermanentError(f"HubSpot {stream} are read-only", code="READ_ONLY_OBJECT")
            return [WriteResult(ref, error=refused) for ref, _ in records]
        if stream == DEALS and op != "delete":
            plain, links = deal_links.split(records)
            written = await self._write(stream, op, plain, id_property)
            return await deal_links.associate(self.client, written, links)
        return await self._write(stream, op, records, id_property)

    async def _write(
        self,
        stream: str,
        op: Op,
        records: Sequence[tuple[Any, dict[str, Any]]],
        id_property: str | None,
    ) -> list[WriteResult]:
        schema = await self.schema(stream)
        if op == "upsert" and id_property is None and stream == CONTACTS:
            id_property = "email"
        items: list[Item] = []
        failed: dict[int, WriteResult] = {}
        for index, (ref, values) in enumerate(records):
            item, problem = self._prepare(stream, op, index, ref, values, id_property)
            if problem is not None:
                failed[index] = WriteResult(ref, item.record_id, error=problem)
            else:
                items.append(item)

        def check(item: Item) -> PermanentError | None:
            return None if op == "delete" else self._check(schema, op, item)

        writes = Writes(self.client, stream, schema, self.concurrency, check)
        await self._send(writes, op, items, id_property)
        for item in items:
            failed[item.index] = item.result or WriteResult(
                item.ref, item.record_id, error=TransientError("no answer for this record")
            )
        return [failed[index] for index in range(len(records))]

    def _prepare(
        self,
        stream: str,
        op: Op,
        index: int,
        ref: Any,
        values: dict[str, Any],
        id_property: str | None,
    ) -> tuple[Item, PermanentError | None]:
        """The record as an Item; what makes it unsendable in any batch (no id, no key)."""
        values = dict(values)
        record_id = values.pop("Id", None)
        company = values.pop(COMPANY_FIELD, UNSET) if stream == CONTACTS else UNSET
        item = Item(
            index,
            ref,
            {k: wire(v) for k, v in values.items()},
            str(record_id) if record_id not in (None, "") else None,
            UNSET if company is UNSET else wire(company),
            trace=str(index),
            values=values,
        )
        if op in ("update", "delete") and item.record_id is None:
            return item, PermanentError(f"a HubSpot {op} needs the record's id as Id")
        if op == "upsert" and not (id_property and item.props.get(id_property)):
            return item, PermanentError(
                f"an upsert of HubSpot {stream} needs a unique property to match on"
                + (f": {id_property} is empty" if id_property else ""),
                field=id_property,
                code="NO_UNIQUE_KEY",
                hint=HINTS["NO_UNIQUE_KEY"] if stream != CONTACTS else None,
            )
        return item, None

    def _check(self, schema: ObjectSchema, op: Op, item: Item) -> PermanentError | None:
        """The values against the portal's properties, just before the record's batch goes
        out (checking 50,000 records up front would hold back the first call by seconds)."""
        found = problems(schema, item.values, op, HINTS) + value_problems(schema, item.values, op)
        if item.company not in (UNSET, "") and not str(item.company).isdigit():
            found.append(
                PermanentError(
                    f"{COMPANY_FIELD} {item.company!r} is not a HubSpot company id",
                    field=COMPANY_FIELD,
                    code="INVALID_ASSOCIATION",
                    hint=HINTS["INVALID_ASSOCIATION"],
                )
            )
        return found[0] if found else None

    async def _send(
        self, writes: Writes, op: Op, items: list[Item], id_property: str | None
    ) -> None:
        jobs: list[tuple[list[Item], Send]] = []
        if op == "delete":
            jobs = [(b, writes.archive) for b in chunks(items, _by_id, BATCH_MAX)]
        elif op == "update":
            jobs = [(b, writes.update) for b in chunks(items, _by_id, BATCH_MAX)]
        elif op == "upsert":
            prop = str(id_property)

            async def upsert(batch: list[Item]) -> None:
                await writes.upsert(batch, prop)

            key = lambda i: i.props[prop].strip().lower()  # noqa: E731
            jobs = [(b, upsert) for b in chunks(items, key, BATCH_MAX)]
        else:
            keyed = [i for i in items if writes.type == CONTACTS and i.email]
            plain = [i for i in items if not (writes.type == CONTACTS and i.email)]
            jobs = [(b, writes.create_keyed) for b in chunks(keyed, _by_email, BATCH_MAX)]
            signature = lambda i: sent_signature(writes.schema, i)  # noqa: E731
            jobs += [(b, writes.create) for b in chunks(plain, signature, BATCH_MAX)]
        await writes.run(jobs)
        if op in ("update", "upsert"):
            await writes.set_companies([i for i in items if i.result is not None and i.result.ok])

    # --- reads (reads.py) --------------------------------------------------------------------

    async def read_changed(
        self, stream: str, fields: Sequence[str], cursor: Cursor, cap: datetime
    ) -> AsyncIterator[Page]:
        """See reads.py. Owners have no cursor: every one is read each time."""
        if stream == OWNERS:
            records = await reads.read_owners(self.client)
            position = cursor
            for r in records:
                if r.modified_at is not None and position.after(r.modified_at, r.id):
                    position = Cursor(r.modified_at, r.id)
            yield Page(records, position)
            return
        async for page in reads.read_changed(
            self.client, stream, self._props(stream, fields), cursor, cap, self.overlap
        ):
            if stream == DEALS:
                await deal_links.fill(self.client, page.records)
            yield page

    async def read_ids(
        self, stream: str, fields: Sequence[str], ids: Sequence[str]
    ) -> list[RemoteRecord]:
        if stream == OWNERS:
            wanted = set(ids)
            return [r for r in await reads.read_owners(self.client) if r.id in wanted]
        found = await reads.read_ids(self.client, stream, self._props(stream, fields), ids)
        if stream == DEALS:
            await deal_links.fill(self.client, found)
        return found

    @staticmethod
    def _props(stream: str, fields: Sequence[str]) -> list[str]:
        """The properties to read: a deal's company and contacts are associations."""
        return [f for f in fields if not (stream == DEALS and f in (DEAL_COMPANY, DEAL_CONTACTS))]

    def read_all(self, stream: str, fields: Sequence[str]) -> AsyncIterator[list[RemoteRecord]]:
        return reads.read_all(self.client, stream, fields)

    async def read_deleted(self, stream: str, since: datetime) -> list[RemoteRecord]:
        return await reads.read_deleted(self.client, stream, since)


def _by_id(item: Item) -> str:
    return str(item.record_id)


def _by_email(item: Item) -> str:
    return item.email
