"""What the pages and the REST API do beyond reading the hub: run a job, plan, explain, undo,
lint. Each is the engine's own function under the connection's lease (jobs/tasks.py), so the
web never has a second implementation of any of them.

A job started from the web runs as a task of the server's loop: the request waits for it a
little (most runs finish in seconds) and otherwise answers that it is still running; the runs
list shows its progress either way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from leadbridge.engine.leadpush.run import JOB as LEAD_PUSH_JOB
from leadbridge.engine.leadpush.run import LeadPush
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems import CRM_SYSTEMS, LEAD_PUSH_SYSTEMS
from leadbridge.hub.connections import ConnectionNotFound
from leadbridge.hub.tables import SyncRun
from leadbridge.jobs.tasks import lead_push_task, pull_task, push_task, undo_task
from leadbridge.policy.crm import CrmSync, PolicyFile, UnknownSync
from leadbridge.web.state import WebState

CRM_JOBS = ("pull", "push")
WAIT_SECONDS = 20.0


class OperationRefused(ValueError):
    """A request the hub cannot carry out as asked (no such sync, no connection…)."""


@dataclass(frozen=True)
class JobOutcome:
    job: str
    sync: str
    finished: bool
    run_id: int | None = None
    status: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "sync": self.sync,
            "finished": self.finished,
            "run_id": self.run_id,
            "status": self.status,
            "counts": self.counts,
            "message": self.message,
        }


def policy_of(state: WebState) -> PolicyFile:
    return state.policy if state.policy is not None else PolicyFile()


def crm_sync(state: WebState, name: str | None) -> CrmSync:
    try:
        return policy_of(state).sync(name)
    except UnknownSync as exc:
        raise OperationRefused(str(exc)) from None


def crm_syncs(state: WebState) -> dict[str, CrmSync]:
    """The policy's syncs whose connection exists (with a CRM kind)."""
    existing = {c.name for c in state.connections.all() if c.kind in CRM_SYSTEMS}
    return {n: s for n, s in policy_of(state).syncs.items() if s.connection in existing}


def sync_of_run(state: WebState, run: SyncRun) -> str | None:
    """The policy sync a CRM run belongs to (by its connection)."""
    names = {c.id: c.name for c in state.connections.all()}
    connection = names.get(run.connection_id or -1)
    return next((n for n, s in crm_syncs(state).items() if s.connection == connection), None)


@contextlib.asynccontextmanager
async def crm_context(state: WebState, sync: str | None) -> AsyncIterator[SyncContext]:
    """The sync's context, its HTTP client closed afterwards."""
    try:
        ctx = sync_context(state.hub, state.connections, crm_sync(state, sync))
    except ConnectionNotFound as exc:
        raise OperationRefused(str(exc)) from None
    try:
        yield ctx
    finally:
        await ctx.connector.aclose()


async def _crm_job(state: WebState, job: str, sync: str) -> JobOutcome:
    async with crm_context(state, sync) as ctx:
        if job == "pull":
            pulled = await pull_task(ctx, manual=True)
            return JobOutcome(job, sync, True, pulled.run_id, "succeeded", dict(pulled.counts))
        pushed = await push_task(ctx)
        status = "partial" if pushed.counts.get("failed") else "succeeded"
        return JobOutcome(job, sync, True, pushed.run_id, status, dict(pushed.counts))


async def _lead_push(state: WebState, connection: str | None) -> JobOutcome:
    try:
        info = state.connections.get(connection, kind="apollo")
    except ConnectionNotFound as exc:
        raise OperationRefused(str(exc)) from None
    report = await lead_push_task(LeadPush(state.hub, state.connections, info))
    return JobOutcome(
        LEAD_PUSH_JOB,
        info.name,
        True,
        report.run_id,
        report.status,
        dict(report.counts),
        report.message,
    )


def jobs_known(state: WebState) -> list[tuple[str, str]]:
    """(job, sync or connection) pairs a user can start now."""
    out = [(job, name) for name in crm_syncs(state) for job in CRM_JOBS]
    out += [(LEAD_PUSH_JOB, c.name) for c in state.connections.all() if c.kind in LEAD_PUSH_SYSTEMS]
    return out


async def start_job(
    state: WebState, job: str, sync: str | None, wait: float = WAIT_SECONDS
) -> JobOutcome:
    """Start `job` (pull, push, apollo-push) of a sync (or Apollo connection); its outcome when
    it ends within `wait` seconds, else `finished` false (the runs list shows it)."""
    if job == LEAD_PUSH_JOB:
        work = _lead_push(state, sync)
    elif job in CRM_JOBS:
        name = sync or next(iter(crm_syncs(state)), None)
        if name is None:
            raise OperationRefused("no CRM sync has a connection yet: connect one first")
        crm_sync(state, name)  # an unknown sync is refused before anything starts
        work = _crm_job(state, job, name)
    else:
        raise OperationRefused(f"unknown job {job!r}; jobs: pull, push, {LEAD_PUSH_JOB}")
    task = asyncio.ensure_future(work)
    state.jobs.add(task)
    task.add_done_callback(state.jobs.discard)
    done, _ = await asyncio.wait({task}, timeout=wait)
    if not done:
        return JobOutcome(job, sync or "", False, message="still running; see the runs list")
    return task.result()  # its exception (a lease held, a refusal) goes to the caller


@dataclass(frozen=True)
class PlanRow:
    record: str
    action: str
    reason: str
    detail: str


async def plan_rows(state: WebState, sync: str) -> tuple[list[PlanRow], dict[str, int]]:
    """What a run would do now: the CRM push classifier or the lead push's plan."""
    if sync in {c.name for c in state.connections.all() if c.kind in LEAD_PUSH_SYSTEMS}:
        push = LeadPush(state.hub, state.connections, state.connections.get(sync))
        plan = push.plan()
        rows = [
            PlanRow(
                f"company {i.lead_id} ({i.domain or 'no domain'})", i.action.value, i.reason, ""
            )
            for i in plan.items
        ]
        return rows, dict(plan.counts())
    from leadbridge.engine.sync.push import plan as crm_plan

    async with crm_context(state, sync) as ctx:
        the_plan = crm_plan(ctx)
    rows = [
        PlanRow(f"{d.hub_object} {d.hub_id}", str(d.action), d.reason, d.describe())
        for d in (*the_plan.companies, *the_plan.people)
    ]
    return rows, the_plan.counts()


async def explain_person(state: WebState, person_id: int) -> list[str]:
    """Per CRM sync, what a push would do with this person and why."""
    from leadbridge.engine.sync.push import plan as crm_plan

    out = []
    for name in crm_syncs(state):
        async with crm_context(state, name) as ctx:
            decisions = crm_plan(ctx, person_ids=[person_id], company_ids=[])
        out += [f"{name}: {d.describe()}" for d in decisions.people]
    return out


def explain_company(state: WebState, company_id: int) -> list[dict[str, Any]]:
    """Per lead-push connection, every criterion of the qualification and the action."""
    out = []
    for c in state.connections.all():
        if c.kind not in LEAD_PUSH_SYSTEMS:
            continue
        items = LeadPush(state.hub, state.connections, c).plan(lead_ids=[company_id]).items
        for item in items:
            out.append(
                {
                    "connection": c.name,
                    "action": item.action.value,
                    "reason": item.reason,
                    "remote_id": item.remote_id,
                    "checks": [
                        {"name": ch.name, "passed": ch.passed, "detail": ch.detail}
                        for ch in item.checks
                    ],
                }
            )
    return out


async def undo(state: WebState, run_id: int) -> dict[str, Any]:
    with state.hub.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.workspace_id != state.hub.workspace_id:
            raise OperationRefused(f"no run {run_id}")
        sync = sync_of_run(state, run)
    if sync is None:
        raise OperationRefused(f"run {run_id} is not a run of a CRM sync; it cannot be undone")
    async with crm_context(state, sync) as ctx:
        report = await undo_task(ctx, run_id)
    return {
        "run_id": run_id,
        "restored": report.restored,
        "deleted": report.deleted,
        "hub_restored": report.hub_restored,
        "kept_newer": report.kept_newer,
        "failed": report.failed,
    }


async def lint(state: WebState, sync: str) -> dict[str, list[str]]:
    from leadbridge.engine.sync.lint import check

    async with crm_context(state, sync) as ctx:
        report = await check(ctx)
    return {"errors": report.errors, "warnings": report.warnings, "notes": report.notes}
