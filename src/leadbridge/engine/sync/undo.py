"""Undo a run from its journal: updates get their before-image written back, records the run
created are deleted (and unlinked), hub values the run changed are restored.

A CRM field someone changed again after the run is left alone and reported: undo restores
what the run did, it never overwrites a newer edit.

An undo sticks: the hub still holds the values that were pushed, so the next push would send
them again. The links are marked `undone` instead: restored values are not resent until the
hub's values change, and undone creates are not made again but by a manual push
(`leadbridge push <e-mail>`), as permanent failures wait for `errors retry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update

from leadbridge.engine.sync.apply import payload_hash
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.resolve import same
from leadbridge.hub.deals import from_json
from leadbridge.hub.edits import edit
from leadbridge.hub.store import by_ids, chunks
from leadbridge.hub.tables import (
    Company,
    CrmRecord,
    Deal,
    JournalEntry,
    Person,
    SyncRun,
    utcnow,
)


class UndoRefused(Exception):
    pass


@dataclass
class UndoReport:
    restored: int = 0
    deleted: int = 0
    hub_restored: int = 0
    kept_newer: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def undo_run(ctx: SyncContext, run_id: int) -> UndoReport:
    with ctx.hub.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.workspace_id != ctx.workspace_id:
            raise UndoRefused(f"no run {run_id}")
        entries = list(
            s.scalars(
                select(JournalEntry)
                .where(JournalEntry.run_id == run_id, JournalEntry.undone_at.is_(None))
                .order_by(JournalEntry.id.desc())
            )
        )
        s.expunge_all()
    if not entries:
        raise UndoRefused(f"run {run_id} wrote nothing that is not undone already")
    report = UndoReport()
    remote = [e for e in entries if e.target == "remote"]
    by_object: dict[tuple[str, str], list[JournalEntry]] = {}
    for e in remote:
        by_object.setdefault((e.object, e.op), []).append(e)
    done: list[int] = []
    held: dict[tuple[str, str], dict[str, Any]] = {}  # (object, id) -> values not to resend
    for (obj, op), group in by_object.items():
        if op == "update":
            current = await _current(ctx, obj, [e.record_id for e in group], group)
            writes: list[tuple[Any, dict[str, Any]]] = []
            for e in group:
                now = current.get(e.record_id, {})
                values = {}
                for k, before in (e.before or {}).items():
                    if same(now.get(k), (e.after or {}).get(k)):
                        values[k] = before
                    else:
                        report.kept_newer.append(f"{obj} {e.record_id}.{k}")
                if values:
                    writes.append((e, {"Id": e.record_id, **values}))
                else:
                    done.append(e.id)
            results = await ctx.connector.write(obj, "update", writes) if writes else []
            for result in results:
                entry: JournalEntry = result.ref
                if result.ok:
                    report.restored += 1
                    done.append(entry.id)
                    restored = {k for k in result_values(writes, entry) if k != "Id"}
                    held[(obj, entry.record_id)] = {k: (entry.after or {}).get(k) for k in restored}
                else:
                    report.failed.append(f"{obj} {entry.record_id}: {result.error}")
        else:
            results = await ctx.connector.write(
                obj, "delete", [(e, {"Id": e.record_id}) for e in group]
            )
            gone = []
            for result in results:
                entry = result.ref
                if result.ok or _gone(result.error):
                    report.deleted += 1
                    done.append(entry.id)
                    gone.append(entry.record_id)
                else:
                    report.failed.append(f"{obj} {entry.record_id}: {result.error}")
            with ctx.hub.session() as s:
                for link in ctx.links.of_remote(s, obj, gone).values():
                    link.remote_id, link.status, link.pushed = None, "undone", None
                    link.failed_hash = None
                    link.last_error = f"created by run {run_id}, deleted by its undo"
                s.execute(
                    delete(CrmRecord).where(
                        CrmRecord.workspace_id == ctx.workspace_id,
                        CrmRecord.remote_system == ctx.system,
                        CrmRecord.remote_scope == ctx.scope,
                        CrmRecord.object == obj,
                        CrmRecord.remote_id.in_(gone),
                    )
                )
    with ctx.hub.session() as s:
        hub = [e for e in entries if e.target == "hub"]
        records = {
            (kind, hub_id): record
            for kind, model in (("person", Person), ("company", Company), ("deal", Deal))
            for hub_id, record in by_ids(
                s, model, [int(e.record_id) for e in hub if e.object == kind]
            ).items()
        }
        for e in hub:
            record = records.get((e.object, int(e.record_id)))
            if record is not None:
                before = dict(e.before or {})
                edit(s, record, from_json(before) if e.object == "deal" else before, origin="sync")
                report.hub_restored += 1
            done.append(e.id)
        for chunk in chunks(done):
            s.execute(
                update(JournalEntry).where(JournalEntry.id.in_(chunk)).values(undone_at=utcnow())
            )
    await _refresh_snapshots(ctx, remote)
    with ctx.hub.session() as s:
        for obj in {key[0] for key in held}:
            ids = [rid for kind, rid in held if kind == obj]
            for rid, link in ctx.links.of_remote(s, obj, ids).items():
                link.status, link.failed_hash = "undone", payload_hash(held[(obj, rid)])
    return report


def result_values(writes: list[tuple[Any, dict[str, Any]]], entry: JournalEntry) -> dict[str, Any]:
    return next(values for ref, values in writes if ref is entry)


async def _current(
    ctx: SyncContext, obj: str, ids: list[str], group: list[JournalEntry]
) -> dict[str, dict[str, Any]]:
    """The CRM's values now, to leave newer edits alone."""
    fields = sorted({k for e in group for k in (e.before or {})})
    return {r.id: r.fields for r in await ctx.connector.read_ids(obj, fields, ids)}


async def _refresh_snapshots(ctx: SyncContext, entries: list[JournalEntry]) -> None:
    """After undo, both sides hold the before-image: that is the agreed state again."""
    updates = [e for e in entries if e.op == "update"]
    with ctx.hub.session() as s:
        for obj in {e.object for e in updates}:
            mine = [e for e in updates if e.object == obj]
            ids = [e.record_id for e in mine]
            links, rows = ctx.links.of_remote(s, obj, ids), ctx.mirror.get(s, obj, ids)
            for e in mine:
                before = e.before or {}
                if (link := links.get(e.record_id)) is not None:
                    link.pushed = {**(link.pushed or {}), **before}
                if (row := rows.get(e.record_id)) is not None:
                    row.fields = {**row.fields, **before}


def _gone(error: Exception | None) -> bool:
    """A record that is deleted already: undoing its create is done."""
    return getattr(error, "code", None) in ("ENTITY_IS_DELETED", "NOT_FOUND", "OBJECT_NOT_FOUND")
