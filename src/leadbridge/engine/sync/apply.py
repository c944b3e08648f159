"""Applying planned CRM writes: batched through the connector, one result per record, and each
success journaled with the values it replaced (for `undo`), snapshotted on its link (for echo
suppression) and copied into the mirror (for dedup before the next pull).

Creates write an intent link before the call: a run killed between Salesforce's answer and
our commit leaves the intent, and the next run's match by e-mail/domain adopts the record
instead of creating it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from leadbridge.connectors.base import RemoteRecord, WriteResult
from leadbridge.connectors.errors import ConnectorError, PermanentError
from leadbridge.engine.sync.context import SYSTEM, CrmContext
from leadbridge.engine.sync.ledger import IntentLedger
from leadbridge.hub.edits import HubRecord, edit, get_field, hub_object
from leadbridge.hub.store import log_error, resolve_errors
from leadbridge.hub.tables import JournalEntry, RecordLink, utcnow

JOB = "crm_sync"


def payload_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Write:
    hub_object: str
    hub_id: int
    sobject: str
    values: dict[str, Any]
    remote_id: str | None = None  # None: a create
    before: dict[str, Any] = field(default_factory=dict)
    adopt: bool = False  # the link is new: the record was found, not created
    snapshot: dict[str, Any] = field(default_factory=dict)  # comparable CRM values, if known


@dataclass
class Outcome:
    done: dict[tuple[str, int], str] = field(default_factory=dict)  # (object, id) -> remote id
    failed: int = 0
    created: int = 0
    updated: int = 0


class _Links:
    """The links of one batch of writes, loaded in one query per hub object; a write with
    none gets a pending one (the create intent)."""

    def __init__(self, s: Session, ctx: CrmContext, sobject: str, writes: Sequence[Write]):
        self.s, self.ctx, self.sobject = s, ctx, sobject
        self.found: dict[tuple[str, int], RecordLink] = {}
        for kind in {w.hub_object for w in writes}:
            ids = [w.hub_id for w in writes if w.hub_object == kind]
            for hub_id, links in ctx.links(s, kind, ids).items():
                if sobject in links:
                    self.found[(kind, hub_id)] = links[sobject]

    def __call__(self, w: Write) -> RecordLink:
        key = (w.hub_object, w.hub_id)
        if key not in self.found:
            self.found[key] = self.ctx.add_link(
                self.s, w.hub_object, w.hub_id, w.sobject, status="pending"
            )
        return self.found[key]


def failure(
    s: Session, ctx: CrmContext, run_id: int, w: Write, link: RecordLink, exc: ConnectorError
) -> None:
    permanent = isinstance(exc, PermanentError)
    link.remote_job_id = None
    link.status = "error"
    link.error_class = "permanent" if permanent else "transient"
    link.last_error = str(exc)
    link.attempts = (link.attempts or 0) + 1
    link.last_run_id = run_id
    if permanent:
        link.failed_hash = payload_hash(w.values)
        log_error(
            s,
            workspace_id=ctx.workspace_id,
            job=JOB,
            error_class="permanent",
            message=f"{w.sobject}: {exc.message}",
            run_id=run_id,
            connection_id=ctx.connection.id,
            hub_object=w.hub_object,
            hub_id=w.hub_id,
            remote_id=w.remote_id,
            field=getattr(exc, "field", None),
            hint=getattr(exc, "hint", None),
        )
    else:
        link.next_attempt_at = utcnow() + timedelta(minutes=min(60, 2 ** (link.attempts or 1)))


async def write(ctx: CrmContext, run_id: int, sobject: str, writes: Sequence[Write]) -> Outcome:
    """Creates and updates of one object; adopted links with nothing to change cost no call."""
    out = Outcome()
    creates = [w for w in writes if w.remote_id is None]
    updates = [w for w in writes if w.remote_id is not None and w.values]
    adopt_only = [w for w in writes if w.remote_id is not None and not w.values]
    if creates:  # the intent rows, committed before the call
        with ctx.hub.session() as s:
            intents = _Links(s, ctx, sobject, creates)
            for w in creates:
                link = intents(w)
                if link.remote_id is None:
                    # What is sent, kept with the intent: a record created without a match key
                    # (a person whose unverified e-mail is not pushed) is still recognised.
                    link.status, link.pushed = "pending", dict(w.values)
    results: list[tuple[Write, WriteResult]] = []
    ledger = IntentLedger(ctx, run_id, [(w.hub_object, w.hub_id) for w in creates])
    if creates:
        results += zip(
            creates,
            await ctx.connector.write(
                sobject, "create", [(i, w.values) for i, w in enumerate(creates)], ledger=ledger
            ),
            strict=True,
        )
    if updates:
        results += zip(
            updates,
            await ctx.connector.write(
                sobject,
                "update",
                [(i, {"Id": w.remote_id, **w.values}) for i, w in enumerate(updates)],
            ),
            strict=True,
        )
    now = utcnow()
    with ctx.hub.session() as s:
        link_of = _Links(s, ctx, sobject, writes)
        for w in adopt_only:
            link = link_of(w)
            linked(run_id, w, link, str(w.remote_id), "adopted")
            out.done[(w.hub_object, w.hub_id)] = str(w.remote_id)
        mirror: list[RemoteRecord] = []
        journal: list[dict[str, Any]] = []  # write-only rows: one executemany, not ORM objects
        for w, result in results:
            link = link_of(w)
            if not result.ok:
                assert result.error is not None
                failure(s, ctx, run_id, w, link, result.error)
                out.failed += 1
                continue
            remote_id = str(result.remote_id)
            created = w.remote_id is None
            linked(
                run_id,
                w,
                link,
                remote_id,
                "created" if created else ("adopted" if w.adopt else "updated"),
            )
            journal.append(journal_row(ctx, run_id, w, remote_id, now))
            mirror.append(RemoteRecord(sobject, remote_id, dict(w.values), modified_at=None))
            out.done[(w.hub_object, w.hub_id)] = remote_id
            if created:
                out.created += 1
            else:
                out.updated += 1
        if journal:
            s.execute(insert(JournalEntry), journal)
        ledger.finished(s)
        ctx.store_mirror(s, mirror, run_id, read=False)
        for kind in {hub_object for hub_object, _ in out.done}:
            ids = [hub_id for hub_object, hub_id in out.done if hub_object == kind]
            resolve_errors(s, ctx.workspace_id, JOB, kind, ids)
    return out


def journal_row(
    ctx: CrmContext, run_id: int, w: Write, remote_id: str, now: datetime
) -> dict[str, Any]:
    """A remote write with the values it replaced (none for a create), for `undo`."""
    created = w.remote_id is None
    return {
        "workspace_id": ctx.workspace_id,
        "run_id": run_id,
        "target": "remote",
        "remote_system": SYSTEM,
        "remote_scope": ctx.scope,
        "object": w.sobject,
        "record_id": remote_id,
        "op": "create" if created else "update",
        "before": None if created else {k: w.before.get(k) for k in w.values},
        "after": w.values,
        "created_at": now,
    }


def linked(
    run_id: int,
    w: Write,
    link: RecordLink,
    remote_id: str,
    status: str,
) -> None:
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
    link.last_synced_at = utcnow()


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
