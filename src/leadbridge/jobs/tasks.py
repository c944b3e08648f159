"""The sync's tasks as the CLI and the scheduler run them: each under the connection's lease
(so runs of one connection never overlap, across processes too), composed from the engine's
steps. A push refreshes the mirror first (a pull that only reads) when it may create records,
so that dedup sees what the CRM holds; the push itself first settles the batch jobs an earlier
run left open.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadbridge.engine.activities.push import ActivityReport, push_activities
from leadbridge.engine.deals.run import DealReport, sync_deals
from leadbridge.engine.leadpush.run import JOB as LEAD_PUSH_JOB
from leadbridge.engine.leadpush.run import LeadPush, Progress, RunReport
from leadbridge.engine.sync import outbox
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.pull import PullReport, pull
from leadbridge.engine.sync.push import PushReport, check_push, push
from leadbridge.engine.sync.undo import UndoReport, undo_run
from leadbridge.jobs.crm_lease import crm_lease
from leadbridge.jobs.lease import held


async def pull_task(ctx: SyncContext, *, manual: bool = False) -> PullReport:
    async with crm_lease(ctx):
        return await pull(ctx, manual=manual)


async def deals_task(ctx: SyncContext) -> DealReport:
    """The deal sync of a CRM sync, under the connection's lease (engine/deals)."""
    async with crm_lease(ctx):
        return await sync_deals(ctx)


async def push_task(
    ctx: SyncContext,
    *,
    person_ids: Sequence[int] | None = None,
    company_ids: Sequence[int] | None = None,
    manual: bool = False,
    refresh: bool = True,
    allow_duplicates: bool = False,
    campaign: str | None = None,
) -> PushReport:
    async with crm_lease(ctx):
        check_push(ctx, manual=manual)
        if refresh:  # fresh match keys for dedup, and repair of interrupted creates
            await pull(ctx, write_back=False)
        return await push(
            ctx,
            person_ids=person_ids,
            company_ids=company_ids,
            manual=manual,
            allow_duplicates=allow_duplicates,
            campaign=campaign,
        )


async def drain_task(ctx: SyncContext) -> PushReport | None:
    """What people changed since this sync's last drain, coalesced into one push run."""
    async with crm_lease(ctx):
        batch = outbox.next_batch(ctx)
        if batch is None:
            return None
        report = await push_task(
            ctx,
            person_ids=batch.person_ids,
            company_ids=batch.company_ids,
            refresh=batch.needs_refresh,
        )
        outbox.passed(ctx, batch.last)
        return report


async def push_all_task(ctx: SyncContext) -> PushReport:
    """Every hub record under the rules (the schedule's backstop after each pull: records that
    never changed since connecting, and anything a crashed run left); the outbox up to here
    counts as drained."""
    async with crm_lease(ctx):
        last = outbox.newest(ctx)
        report = await push_task(ctx, refresh=False)
        outbox.passed(ctx, last)
        return report


async def activity_push_task(ctx: SyncContext) -> ActivityReport | None:
    """The activities this CRM has not got yet, when the policy pushes activities and the
    initial pull has linked the people they go on; None when there is nothing to do."""
    if not ctx.policy.activities.enabled or not ctx.initial_pull_done():
        return None
    async with crm_lease(ctx):
        return await push_activities(ctx)


async def undo_task(ctx: SyncContext, run_id: int) -> UndoReport:
    """Undo writes to the CRM too: never beside a pull or push of the same connection."""
    async with crm_lease(ctx):
        return await undo_run(ctx, run_id)


async def lead_push_task(push: LeadPush, progress: Progress | None = None) -> RunReport:
    """A lead push run under its connection's lease."""
    connection = push.connection
    async with held(
        push.hub,
        f"{LEAD_PUSH_JOB}:{connection.id}",
        busy=f"{LEAD_PUSH_JOB} of connection {connection.name!r} is already running",
        connection_id=connection.id,
    ):
        return await push.run(progress)
