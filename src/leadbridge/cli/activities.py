"""The activity push from the command line: `push` runs it after the records' push, `plan`
lists what it would write and hold back, `explain activity:<id>` says why for one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from leadbridge.cli.context import console
from leadbridge.cli.crm import _closing, crm_ctx, fail

if TYPE_CHECKING:
    from leadbridge.engine.sync.context import SyncContext


def push_activities_now(ctx: SyncContext) -> None:
    """The activity push after the records' push (when the policy pushes activities)."""
    import asyncio

    from leadbridge.jobs.tasks import activity_push_task

    fresh = crm_ctx_like(ctx)
    report = asyncio.run(_closing(fresh, activity_push_task(fresh)))
    if report is None:
        return
    if report.run_id is None:
        console.print("activities: nothing waiting")
        return
    counts = report.counts
    console.print(
        f"activity push run {report.run_id}: "
        + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do")
    )
    for reason, n in report.skipped.most_common(5):
        console.print(f"  skipped {n}: {reason}", markup=False)
    if counts.get("failed"):
        console.print("see `leadbridge errors`")


def crm_ctx_like(ctx: SyncContext) -> SyncContext:
    """A new context of the same sync (the last one's HTTP client is closed)."""
    from leadbridge.engine.sync.session import sync_context

    return sync_context(ctx.hub, ctx.connections, ctx.policy)


def activity_plan_lines(ctx: SyncContext, *, show: int) -> list[str]:
    """The activities a push would write (by kind) and hold back (by reason)."""
    from collections import Counter

    from leadbridge.engine.activities.push import plan as activity_plan

    if not ctx.policy.activities.enabled:
        return []
    planned = activity_plan(ctx)
    if not planned:
        return ["activities: nothing waiting"]
    lines = []
    for p in [p for p in planned if p.decision.push][:show]:
        lines.append(f"activity {p.activity_id} ({p.kind}): push as {p.decision.title!r}")
    push = Counter(p.kind for p in planned if p.decision.push)
    held = Counter(p.decision.reason for p in planned if not p.decision.push)
    lines.append(
        "activities: "
        + (", ".join(f"push {n} {k}" for k, n in sorted(push.items())) or "none to push")
    )
    lines += [f"  skip {n}: {reason}" for reason, n in held.most_common()]
    return lines


def activity_explain_lines(policy_path: Path | None, sync: str | None, activity: int) -> list[str]:
    """Why one activity was or was not pushed (`explain activity:<id>`)."""
    from sqlalchemy import select

    from leadbridge.engine.activities.push import plan as activity_plan
    from leadbridge.hub.tables import Activity, RecordLink

    ctx = crm_ctx(policy_path, sync)
    with ctx.hub.session() as s:
        found = s.get(Activity, activity)
        if found is None or found.workspace_id != ctx.workspace_id:
            fail(f"no activity {activity} in the hub")
        link = s.scalar(
            select(RecordLink).where(
                *ctx.links.where(),
                RecordLink.hub_object == "activity",
                RecordLink.hub_id == activity,
            )
        )
        head = f"activity {activity} ({found.kind}, {found.source} {found.source_id})"
        if link is not None and link.remote_id:
            return [f"{head}: in {ctx.label} as {link.remote_object} {link.remote_id}"]
        if link is not None and link.failed_hash:
            return [f"{head}: refused by {ctx.label}: {link.last_error} (`leadbridge errors`)"]
    planned = activity_plan(ctx, [activity])
    if not planned:
        return [f"{head}: nothing to do"]
    p = planned[0]
    verb = f"push as {p.decision.title!r}" if p.decision.push else "skip"
    return [f"{head}: {verb}: {p.decision.reason}"]
