"""Applying planned writes: batched through the connector, one result per record, and each
success journaled with the values it replaced (for `undo`), snapshotted on its link (for echo
suppression) and copied into the mirror (for dedup before the next pull).

Creates write an intent link before the call (what is sent, kept with it): a run killed between
the remote's answer and our commit leaves the intent, and the next run adopts the record instead
of creating it again — matched by its keys and values where the system creates plainly, handed
back by the system where it dedupes or upserts. A batch job is recorded with its intents before
it can write (ledger.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from leadbridge.connectors.base import RemoteRecord, WriteResult
from leadbridge.connectors.errors import ConnectorError, PermanentError
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.failures import Failed, RetryRules, payload_hash, record_failure
from leadbridge.engine.sync.ledger import IntentLedger
from leadbridge.hub.edits import HubRecord, edit, get_field, hub_object
from leadbridge.hub.store import resolve_errors
from leadbridge.hub.tables import JournalEntry, RecordLink, utcnow

JOB = "crm_sync"


@dataclass
class Write:
    hub_object: str
    hub_id: int
    stream: str
    values: dict[str, Any]
    remote_id: str | None = None  # None: a create
    before: dict[str, Any] = field(default_factory=dict)
    adopt: bool = False  # the link is new: the record was found, not created
    snapshot: dict[str, Any] = field(default_factory=dict)  # comparable remote values, if known
    # When the values were read from the hub: the link is in sync as of then, not as of the
    # write, so an edit made while the run was on its way is not taken for synced.
    as_of: datetime | None = None


@dataclass
class Outcome:
    done: dict[tuple[str, int], str] = field(default_factory=dict)  # (object, id) -> remote id
    failed: int = 0
    created: int = 0
    adopted: int = 0
    updated: int = 0


class _Links:
    """The links of one batch of writes, loaded in one query per hub object; a write with
    none gets a pending one (the create intent)."""

    def __init__(self, s: Session, ctx: SyncContext, stream: str, writes: Sequence[Write]):
        self.s, self.ctx, self.stream = s, ctx, stream
        self.found: dict[tuple[str, int], RecordLink] = {}
        for kind in {w.hub_object for w in writes}:
            ids = [w.hub_id for w in writes if w.hub_object == kind]
            for hub_id, links in ctx.links.of_hub(s, kind, ids).items():
                if stream in links:
                    self.found[(kind, hub_id)] = links[stream]

    def __call__(self, w: Write) -> RecordLink:
        key = (w.hub_object, w.hub_id)
        if key not in self.found:
            self.found[key] = self.ctx.links.add(
                self.s, w.hub_object, w.hub_id, w.stream, status="pending"
            )
        return self.found[key]


def failure(
    s: Session,
    ctx: SyncContext,
    run_id: int,
    w: Write,
    link: RecordLink,
    exc: ConnectorError,
    rules: RetryRules | None = None,
    job: str = JOB,
) -> None:
    where = Failed(job, ctx.workspace_id, ctx.connection.id, w.stream)
    record_failure(s, where, run_id, link, w.values, exc, rules or RetryRules(backoff=False))


async def write(
    ctx: SyncContext,
    run_id: int,
    stream: str,
    writes: Sequence[Write],
    *,
    rules: RetryRules | None = None,
    job: str = JOB,
) -> Outcome:
    """Creates and updates of one stream; adopted links with nothing to change cost no call."""
    out = Outcome()
    creates = [w for w in writes if w.remote_id is None]
    updates = [w for w in writes if w.remote_id is not None and w.values]
    adopt_only = [w for w in writes if w.remote_id is not None and not w.values]
    earlier: set[tuple[str, int]] = set()  # intents an earlier run left: a dedupe hit is ours
    if creates:  # the intent rows, committed before the call
        with ctx.hub.session() as s:
            intents = _Links(s, ctx, stream, creates)
            for w in creates:
                link = intents(w)
                if link.remote_id is None:
                    unconfirmed = link.status == "pending" or (
                        link.status == "error" and link.error_class != "permanent"
                    )
                    if unconfirmed and link.last_run_id not in (None, run_id):
                        earlier.add((w.hub_object, w.hub_id))
                    # What is sent, kept with the intent: a record created without a match key
                    # (a person whose unverified e-mail is not pushed) is still recognised.
                    link.status, link.pushed = "pending", dict(w.values)
                    link.last_run_id = run_id
    results: list[tuple[Write, WriteResult]] = []
    ledger = IntentLedger(ctx, run_id, [(w.hub_object, w.hub_id) for w in creates])
    if creates:
        records = [(i, w.values) for i, w in enumerate(creates)]
        answers = await ctx.connector.write(stream, "create", records, ledger=ledger)
        results += zip(creates, answers, strict=True)
    if updates:
        records = [(i, {"Id": w.remote_id, **w.values}) for i, w in enumerate(updates)]
        results += zip(updates, await ctx.connector.write(stream, "update", records), strict=True)
    now = utcnow()
    with ctx.hub.session() as s:
        link_of = _Links(s, ctx, stream, writes)
        # A remote record already linked to another hub record (two hub records that the
        # remote's dedupe took for one, or an update that landed on the record its target was
        # merged into): never relinked, never a second link to it.
        answered = [
            str(r.remote_id) for w, r in results if r.ok and str(r.remote_id) != w.remote_id
        ]
        linked_to = ctx.links.of_remote(s, stream, answered)
        for w in adopt_only:
            linked(run_id, w, link_of(w), str(w.remote_id), "adopted")
            out.done[(w.hub_object, w.hub_id)] = str(w.remote_id)
        mirror: list[RemoteRecord] = []
        journal: list[dict[str, Any]] = []  # write-only rows: one executemany, not ORM objects
        for w, result in results:
            link = link_of(w)
            if not result.ok:
                assert result.error is not None
                failure(s, ctx, run_id, w, link, result.error, rules, job)
                out.failed += 1
                continue
            remote_id = str(result.remote_id)
            other = linked_to.get(remote_id)
            if other is not None and (other.hub_object, other.hub_id) != (w.hub_object, w.hub_id):
                taken = PermanentError(
                    f"{ctx.label} {stream} {remote_id} is already linked to hub "
                    f"{other.hub_object} {other.hub_id}",
                    hint=f"two hub {w.hub_object} records resolve to one {ctx.label} record: "
                    "merge the duplicates in the hub",
                )
                failure(s, ctx, run_id, w, link, taken, rules, job)
                out.failed += 1
                continue
            status = _status(ctx, w, result, (w.hub_object, w.hub_id) in earlier)
            if status == "adopted" and w.remote_id is None:
                # Found by the system's dedupe: not ours to delete on undo; what it held before
                # our values is the before-image.
                w.before = dict(result.record or {})
                w.remote_id = remote_id
            linked(run_id, w, link, remote_id, status)
            linked_to[remote_id] = link
            journal.append(journal_row(ctx, run_id, w, remote_id, now, created=status == "created"))
            mirror.append(RemoteRecord(stream, remote_id, dict(w.values), modified_at=None))
            out.done[(w.hub_object, w.hub_id)] = remote_id
            setattr(out, status, getattr(out, status) + 1)
        if journal:
            s.execute(insert(JournalEntry), journal)
        ledger.finished(s)
        ctx.store_mirror(s, mirror, run_id, read=False)
        for kind in {hub_object for hub_object, _ in out.done}:
            ids = [hub_id for hub_object, hub_id in out.done if hub_object == kind]
            resolve_errors(s, ctx.workspace_id, job, kind, ids)
    return out


def _status(ctx: SyncContext, w: Write, result: WriteResult, earlier: bool) -> str:
    """created / adopted / updated. A plain create can only have created its record. A create
    the system deduped or upserted (a HubSpot contact by its e-mail) onto an existing record
    adopted it, unless that record is ours: made by an earlier run's lost answer (its intent)
    or by a resend of this very call (the connector says so: `created`)."""
    if w.remote_id is not None:
        return "adopted" if w.adopt else "updated"
    if ctx.catalog.plain_create(ctx.stream(w.stream), w.values) or result.created or earlier:
        return "created"
    return "adopted"


def journal_row(
    ctx: SyncContext,
    run_id: int,
    w: Write,
    remote_id: str,
    now: datetime,
    *,
    created: bool | None = None,
) -> dict[str, Any]:
    """A remote write with the values it replaced (none for a create), for `undo`."""
    created = w.remote_id is None if created is None else created
    return {
        "workspace_id": ctx.workspace_id,
        "run_id": run_id,
        "target": "remote",
        "remote_system": ctx.system,
        "remote_scope": ctx.scope,
        "object": w.stream,
        "record_id": remote_id,
        "op": "create" if created else "update",
        "before": None if created else {k: w.before.get(k) for k in w.values},
        "after": w.values,
        "created_at": now,
    }


def linked(run_id: int, w: Write, link: RecordLink, remote_id: str, status: str) -> None:
    link.remote_id = remote_id
    if link.status != "created":  # a record we created stays "created" through its updates
        link.status = status
    link.pushed = {**(link.pushed or {}), **w.snapshot, **w.values}
    link.payload_hash = payload_hash(w.values)
    link.error_class = link.last_error = link.failed_hash = None
    link.attempts = 0
    link.next_attempt_at = None
    link.remote_job_id = None
    link.last_run_id = run_id
    link.last_synced_at = w.as_of or utcnow()


def write_hub(
    s: Session, run_id: int, record: HubRecord, changes: dict[str, Any], at: Any
) -> list[str]:
    """A value the CRM owns (or won) lands in the hub, journaled, and is not pushed back."""
    before = {k: get_field(record, k) for k in changes}
    changed = edit(s, record, changes, origin="sync", at=at)
    if changed:
        s.add(
            JournalEntry(
                workspace_id=record.workspace_id,
                run_id=run_id,
                target="hub",
                object=hub_object(record),
                record_id=str(record.id),
                op="update",
                before={k: _plain(before[k]) for k in changed},
                after={k: _plain(changes[k]) for k in changed},
            )
        )
    return changed


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


__all__ = ["JOB", "Outcome", "Write", "failure", "linked", "payload_hash", "write", "write_hub"]
