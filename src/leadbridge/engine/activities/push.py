"""The activity push run: activities the hub has and this CRM has not, decided by the policy
(select.decide), written through the connector in its batches, each exactly once.

Exactly once across a crash: before a batch is sent, each activity gets a create intent (a
pending link with its key); the connector writes the key into the record and a key sent again
hands back the record the first send made (connectors/activity.py). So a run killed between
the CRM's answer and our commit leaves intents that the next run simply sends again, and they
land on the records already made. A skipped activity gets no link: it is decided again on
every run (a person that reaches the CRM later takes its e-mails then).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from leadbridge.connectors.activity import ActivityOut, ActivityWriter
from leadbridge.connectors.base import WriteResult
from leadbridge.engine.activities.facts import HUB_OBJECT, Loaded, load, waiting
from leadbridge.engine.activities.select import Decision, decide
from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.engine.sync.failures import Failed, RetryRules, record_failure
from leadbridge.hub.store import resolve_errors
from leadbridge.hub.tables import RecordLink, utcnow

JOB = "activity_push"
PAGE = 1000  # activities read and decided per round
SEND_BATCHES = 5  # a send is this many of the connector's batches (its intents committed first)


@dataclass
class Planned:
    activity_id: int
    kind: str
    decision: Decision
    out: ActivityOut


@dataclass
class ActivityReport:
    run_id: int | None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> activities


def writer_of(ctx: SyncContext) -> ActivityWriter:
    if not hasattr(ctx.connector, "write_activities"):
        raise SyncRefused(f"{ctx.label} takes no activities")
    return cast(ActivityWriter, ctx.connector)


def decided(ctx: SyncContext, loaded: Sequence[Loaded]) -> list[Planned]:
    policy = ctx.policy.activities
    out = []
    for item in loaded:
        d = decide(item.facts, policy)
        activity = replace(item.out, title=d.title or "", sequence_subtype=d.sequence_subtype)
        out.append(Planned(item.activity.id, item.activity.kind, d, activity))
    return out


def plan(ctx: SyncContext, ids: Sequence[int] | None = None) -> list[Planned]:
    """What a push would do with each waiting activity (the dry run, `explain`)."""
    with ctx.hub.session() as s:
        return decided(ctx, load(s, ctx, waiting(s, ctx, ids)))


async def push_activities(ctx: SyncContext, ids: Sequence[int] | None = None) -> ActivityReport:
    if not ctx.policy.activities.enabled:
        return ActivityReport(None, {}, Counter({"activity push is off": 1}))
    writer = writer_of(ctx)
    with ctx.hub.session() as s:
        if not waiting(s, ctx, ids, limit=1):
            return ActivityReport(None)  # nothing waits: no run, no call
    missing = await writer.activity_setup(ctx.policy.activities.emails.sequence_subtype)
    if missing:
        raise SyncRefused(missing)
    report = ActivityReport(ctx.start_run(JOB))
    counts: Counter[str] = Counter()
    # Sends wait per remote object until they fill whole batches (a round of PAGE activities
    # holds some of each kind): one partial batch per object per run, not one per round.
    size = writer.activity_batch() * SEND_BATCHES
    waiting_to_send: dict[str, list[Planned]] = {}
    try:
        after = 0
        while True:
            with ctx.hub.session() as s:
                rows = waiting(s, ctx, ids, limit=PAGE, after=after)
                if not rows:
                    break
                after = max(a.id for a in rows)
                planned = decided(ctx, load(s, ctx, rows))
            for p in planned:
                if not p.decision.push:
                    report.skipped[p.decision.reason] += 1
                    counts["skipped"] += 1
                    continue
                queue = waiting_to_send.setdefault(writer.activity_object(p.kind), [])
                queue.append(p)
                if len(queue) >= size:
                    await _send(ctx, writer, report.run_id or 0, queue, counts)
                    queue.clear()
        for queue in waiting_to_send.values():
            if queue:
                await _send(ctx, writer, report.run_id or 0, queue, counts)
    except BaseException as exc:
        ctx.finish_run(report.run_id or 0, "failed", dict(counts), str(exc) or type(exc).__name__)
        raise
    report.counts = {k: v for k, v in counts.items() if v}
    status = "partial" if counts.get("failed") else "succeeded"
    ctx.finish_run(report.run_id or 0, status, report.counts)
    return report


async def _send(
    ctx: SyncContext,
    writer: ActivityWriter,
    run_id: int,
    batch: list[Planned],
    counts: Counter[str],
) -> None:
    with ctx.hub.session() as s:  # the intents, committed before the call
        links = _intents(s, ctx, writer, run_id, batch)
    items: list[tuple[Any, ActivityOut]] = [(p.activity_id, p.out) for p in batch]
    results = await writer.write_activities(items)
    now = utcnow()
    with ctx.hub.session() as s:
        by_id = {link.hub_id: link for link in _links(s, ctx, [p.activity_id for p in batch])}
        done: list[int] = []
        for p, result in zip(batch, results, strict=True):
            link = by_id.get(p.activity_id) or links[p.activity_id]
            link = s.merge(link)
            if result.ok:
                link.remote_id, link.status = str(result.remote_id), "created"
                link.last_run_id, link.last_synced_at = run_id, now
                link.error_class = link.last_error = None
                done.append(p.activity_id)
                counts[f"{p.kind}s_created" if p.kind != "summary" else "summaries_created"] += 1
            else:
                _failed(s, ctx, run_id, p, link, result)
                counts["failed"] += 1
        resolve_errors(s, ctx.workspace_id, JOB, HUB_OBJECT, done)


def _links(s: Any, ctx: SyncContext, ids: list[int]) -> list[RecordLink]:
    return [link for per in ctx.links.of_hub(s, HUB_OBJECT, ids).values() for link in per.values()]


def _intents(
    s: Any, ctx: SyncContext, writer: ActivityWriter, run_id: int, batch: list[Planned]
) -> dict[int, RecordLink]:
    existing = {link.hub_id: link for link in _links(s, ctx, [p.activity_id for p in batch])}
    out = {}
    for p in batch:
        link = existing.get(p.activity_id)
        if link is None:
            link = ctx.links.add(
                s, HUB_OBJECT, p.activity_id, writer.activity_object(p.kind), status="pending"
            )
        link.pushed = {"key": p.out.key, "title": p.out.title}
        link.last_run_id = run_id
        link.status = "pending"
        out[p.activity_id] = link
    s.flush()
    return out


def _failed(
    s: Any, ctx: SyncContext, run_id: int, p: Planned, link: RecordLink, result: WriteResult
) -> None:
    assert result.error is not None
    where = Failed(JOB, ctx.workspace_id, ctx.connection.id, link.remote_object)
    record_failure(s, where, run_id, link, dict(link.pushed or {}), result.error,
                   RetryRules(backoff=False))  # fmt: skip
