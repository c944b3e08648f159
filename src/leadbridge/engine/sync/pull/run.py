"""Pull: remote records into the mirror (each page with its cursor, in one transaction), then
into the hub under the write rules.

- Streams in the catalog's read order: users (owners), companies, then people, the winning
  person variant first (a contact before a lead).
- A person with a record in two person streams keeps the winning one (the lead is not linked).
- A record converted into others (a lead into a contact and an account) is followed: its hub
  person moves to the new record; nothing is recreated.
- Records that look duplicated in the CRM are flagged on the hub record and in the log, never
  merged.
- The write rules run here: CRM-owned values flow into the hub; auto-fill and overwrite send
  the hub's values back (journaled, so `undo` can restore them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leadbridge.connectors.catalog import Stream
from leadbridge.engine.sync.apply import Write, write
from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.engine.sync.cursors import load_cursor, save_cursor
from leadbridge.hub.userlinks import RemoteUser

CHUNK = 500  # mirror rows reconciled per transaction
DELETED_MARGIN = timedelta(minutes=10)


@dataclass
class PullReport:
    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    names: dict[str, int] | None = None  # company name key -> company id, built once a run

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def pull_fields(ctx: SyncContext, stream: Stream) -> list[str]:
    """What a read of the stream takes: its roles and event fields, the mapped fields, and the
    source field set on create (read back, it tells our creates apart)."""
    mapped: list[str] = []
    if stream.kind != "user":
        mapped = [f.crm for f in ctx.object_map(stream).fields]
        push = ctx.policy.push
        source = push.account_source if stream.kind == "company" else push.people_source
        if source is not None:
            mapped.append(source.field)
    return stream.fields_to_read(mapped)


async def pull(ctx: SyncContext, *, manual: bool = False, write_back: bool = True) -> PullReport:
    """`write_back=False` (the refresh before a push) reads only: the push run itself then
    sends the hub's values, so they are journaled under that run."""
    if manual and ctx.in_setup_window():
        raise SyncRefused(
            f"the setup window is open until {ctx.setup_until():%Y-%m-%d %H:%M} UTC: set the "
            "policy, then run `leadbridge activate` to start syncing now"
        )
    initial = not ctx.initial_pull_done()
    if initial:
        ctx.save_state(initial_pull="running")
    report = PullReport(ctx.start_run("crm_pull"))
    try:
        await _pull(ctx, report, write_back, manual=manual)
    except Exception as exc:
        ctx.finish_run(report.run_id, "failed", report.counts, str(exc))
        raise
    if initial:
        ctx.save_state(initial_pull="done")
    ctx.finish_run(report.run_id, "succeeded", report.counts)
    return report


async def _pull(
    ctx: SyncContext, report: PullReport, write_back: bool, *, manual: bool = False
) -> None:
    from leadbridge.engine.sync.pull.reconcile import reconcile

    cap = ctx.clock()
    order = ctx.catalog.read_order()
    deletions_due, deletions_since = _deletions(ctx, cap, manual)
    for stream in order:
        with ctx.hub.session() as s:
            cursor = load_cursor(s, ctx, stream.name)
        async for page in ctx.connector.read_changed(
            stream.name, pull_fields(ctx, stream), cursor, cap
        ):
            with ctx.hub.session() as s:  # the page and its cursor, together
                ctx.store_mirror(s, page.records, report.run_id)
                save_cursor(s, ctx, stream.name, page.cursor)
            report.add(f"read_{stream.one()}", len(page.records))
            if ctx.progress and page.records:
                ctx.progress(stream.name, len(page.records))
        since = deletions_since or cursor.modified_at
        if deletions_due and stream.kind != "user" and since is not None:
            # Deletions and merges (a search or query never shows them): since the last read,
            # with a margin for stamps that lag (an initial load has nothing to unlink).
            gone = await ctx.connector.read_deleted(stream.name, since - DELETED_MARGIN)
            with ctx.hub.session() as s:
                ctx.store_mirror(s, gone, report.run_id)
            report.add(f"read_deleted_{stream.one()}", len(gone))
    if deletions_due:
        ctx.save_state(deletions_read_at=cap.isoformat())
    writes: dict[str, list[Write]] = {}
    for stream in order:
        if stream.kind == "user":
            with ctx.hub.session() as s:
                take_users(s, ctx, stream)
            continue
        with ctx.hub.session() as s:
            ids = ctx.mirror.pending(s, stream.name)
        for start in range(0, len(ids), CHUNK):
            with ctx.hub.session() as s:
                chunk = reconcile(s, ctx, report, stream, ids[start : start + CHUNK])
            writes.setdefault(stream.name, []).extend(chunk)
    for name, items in writes.items():
        if items and write_back:
            outcome = await write(ctx, report.run_id, name, items)
            report.add("crm_updated", outcome.updated)
            report.add("failed", outcome.failed)
    # Everything the CRM held at `cap` (less the time its reads may lag behind its writes) is
    # in the hub now: a create sent before that and not found did not land, and may be sent
    # again (push/plan.py).
    ctx.save_state(read_through=(cap - ctx.catalog.read_lag).isoformat())


def _deletions(ctx: SyncContext, cap: datetime, manual: bool) -> tuple[bool, datetime | None]:
    """Whether this pull reads deletions (a scheduled one at most every
    `pull.deletions_minutes`), and from when: the last read's cap (None: never read, each
    stream from its cursor)."""
    value = ctx.state().get("deletions_read_at")
    last = datetime.fromisoformat(value) if value else None
    every = timedelta(minutes=ctx.policy.pull.deletions_minutes)
    due = last is None or manual or cap - last >= every
    return due, last


def take_users(s: Session, ctx: SyncContext, stream: Stream) -> None:
    """The users read since the last pull, into the user links (hub users made for new reps)."""
    rows = ctx.mirror.get(s, stream.name, ctx.mirror.pending(s, stream.name))
    for row in rows.values():
        row.pending = False
    users = []
    for row in rows.values():
        active = stream.value(row.fields, "active")
        users.append(
            RemoteUser(
                row.remote_id,
                stream.value(row.fields, "email"),
                stream.value(row.fields, "first_name"),
                stream.value(row.fields, "last_name"),
                active=True if active is None else bool(active),
            )
        )
    if users:
        ctx.users.sync(s, users, complete=False, create_hub_users=True)
