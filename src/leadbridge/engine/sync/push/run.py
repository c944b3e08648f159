"""A push run: the plan applied, companies first (a new person may need its company's id),
then people by variant; values the rules give the CRM land in the hub.

The run reads the mirror as it is: the caller (jobs.tasks) refreshes it with a pull first when
records are new to the CRM, so that dedup sees what the CRM holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update

from leadbridge.engine.sync.apply import JOB, Write, write, write_hub
from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.engine.sync.inflight import settle_jobs
from leadbridge.engine.sync.push.campaign import check_campaign, join_campaign
from leadbridge.engine.sync.push.decide import Decision
from leadbridge.engine.sync.push.plan import PushPlan, plan_pages
from leadbridge.engine.sync.push.removals import apply_removals
from leadbridge.engine.sync.values import to_hub
from leadbridge.hub.links import SETTLED
from leadbridge.hub.store import by_ids, chunks, log_error, open_error_records, resolve_errors
from leadbridge.hub.tables import Company, Person, RecordLink


@dataclass
class PushReport:
    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    plan: PushPlan | None = None


def check_push(ctx: SyncContext, *, manual: bool) -> None:
    """Why a push may not run now, as SyncRefused."""
    if manual and not ctx.policy.push.enabled:
        raise SyncRefused("push is disabled in the policy (push.enabled: false)")
    if not manual and ctx.in_setup_window():
        raise SyncRefused(
            f"the setup window is open until {ctx.setup_until():%Y-%m-%d %H:%M} UTC: "
            "run `leadbridge activate`, then `leadbridge pull`, before pushing"
        )
    if not ctx.initial_pull_done():  # no dedup against the CRM before it: creates would double
        raise SyncRefused(
            f"the initial pull has not finished: run `leadbridge pull` first, so that records "
            f"{ctx.label} already has are linked, not created twice (after the setup window, or "
            "`leadbridge activate`)"
        )


async def push(
    ctx: SyncContext,
    *,
    person_ids: Sequence[int] | None = None,
    company_ids: Sequence[int] | None = None,
    manual: bool = False,
    allow_duplicates: bool = False,
    campaign: str | None = None,
) -> PushReport:
    """`campaign` (else the policy's `campaign:`): the people pushed join it (campaign.py)."""
    check_push(ctx, manual=manual)
    campaign = campaign or ctx.policy.campaign
    if campaign:
        check_campaign(ctx, person_ids)
    report = PushReport(ctx.start_run("crm_push_manual" if manual else "crm_push"))
    counts: dict[str, int] = {}
    try:
        # Jobs an earlier run left open first: what they created is linked, not created again
        # (their calls count for this run).
        counts.update(await settle_jobs(ctx))
        report.plan = PushPlan([], [])
        for page in plan_pages(
            ctx,
            person_ids=person_ids,
            company_ids=company_ids,
            manual=manual,
            allow_duplicates=allow_duplicates,
        ):
            await _apply(ctx, report.run_id, page, counts)
            confirm(ctx, page)
            report.plan.add(page, keep_in_sync=False)  # a run's memory: what it did, not all
        if report.plan.fingerprint and not manual:  # a new one, and all planned under it
            ctx.save_state(plan_fingerprint=report.plan.fingerprint)
        if campaign:
            await join_campaign(ctx, report.run_id, campaign, counts, person_ids)
    except BaseException as exc:
        ctx.finish_run(report.run_id, "failed", counts, str(exc) or type(exc).__name__)
        raise
    report.counts = counts
    status = "partial" if counts.get("failed") else "succeeded"
    ctx.finish_run(report.run_id, status, counts)
    return report


def confirm(ctx: SyncContext, page: PushPlan) -> None:
    """Links of records the page found in sync are marked so as of when it was planned: the
    next full plan passes them by until the record, its company or the mirror moves."""
    if not page.confirm or page.planned_at is None:
        return
    with ctx.hub.session() as s:
        for ids in chunks(page.confirm):
            s.execute(
                update(RecordLink)
                .where(RecordLink.id.in_(ids), RecordLink.status.in_(SETTLED))
                .values(last_synced_at=page.planned_at)
            )


GOING = ("delete", "unlink")  # hub deletions reaching the CRM


def _bump(counts: dict[str, int], key: str, n: int) -> None:
    if n:
        counts[key] = counts.get(key, 0) + n


def _write_of(d: Decision, as_of: datetime | None) -> Write:
    assert d.stream is not None
    return Write(
        d.hub_object,
        d.hub_id,
        d.stream,
        d.values,
        remote_id=d.remote_id,
        adopt=d.action == "link",
        snapshot=d.snapshot,
        as_of=as_of,
    )


async def _apply(ctx: SyncContext, run_id: int, the_plan: PushPlan, counts: dict[str, int]) -> None:
    errors = [d for d in (*the_plan.companies, *the_plan.people) if d.action == "error"]
    _resolve_gone(ctx, the_plan)
    if errors:
        # A plan error that is already in the log (an ambiguity nobody has merged yet) is a
        # known problem held back, not a new failure of this run: its entry is bumped.
        with ctx.hub.session() as s:
            new = sum(
                log_error(
                    s,
                    workspace_id=ctx.workspace_id,
                    job=JOB,
                    error_class="permanent",
                    message=d.reason,
                    run_id=run_id,
                    connection_id=ctx.connection.id,
                    hub_object=d.hub_object,
                    hub_id=d.hub_id,
                    hint=d.hint,
                )
                for d in errors
            )
        _bump(counts, "failed", new)
        _bump(counts, "held", len(errors) - new)
    company = ctx.company()
    companies: dict[int, Decision] = {
        d.hub_id: d for d in the_plan.companies if d.action in ("create", "link", "update")
    }
    for d in the_plan.people:
        if (
            d.action == "create"
            and d.account is not None
            and d.account.action in ("create", "link")
        ):
            companies.setdefault(d.account.hub_id, d.account)
    befores = _befores(ctx, [*companies.values(), *the_plan.people])
    company_ids: dict[int, str] = {}
    label = company.many()
    if companies:
        writes = [_write_of(d, the_plan.planned_at) for d in companies.values()]
        for w in writes:
            w.before = befores.get((company.name, w.remote_id or ""), {})
        outcome = await write(ctx, run_id, company.name, writes)
        company_ids = {hub_id: rid for (_, hub_id), rid in outcome.done.items()}
        _bump(counts, f"{label}_created", outcome.created)
        _bump(counts, f"{label}_updated", outcome.updated + outcome.adopted)
        _bump(counts, "failed", outcome.failed)
    for stream in ctx.people():
        relation = stream.company
        writes = []
        for d in the_plan.people:
            if d.stream != stream.name or d.action not in ("create", "link", "update"):
                continue
            w = _write_of(d, the_plan.planned_at)
            w.before = befores.get((stream.name, w.remote_id or ""), {})
            if d.action == "create" and relation is not None and relation.field and d.account:
                remote_company = company_ids.get(d.account.hub_id) or d.account.remote_id
                if not remote_company:
                    _bump(counts, "failed", 1)  # the company failed: its error is logged
                    continue
                w.values = {**w.values, relation.field: remote_company}
            writes.append(w)
        if writes:
            outcome = await write(ctx, run_id, stream.name, writes)
            kind = stream.many()
            _bump(counts, f"{kind}_created", outcome.created)
            _bump(counts, f"{kind}_updated", outcome.updated + outcome.adopted)
            _bump(counts, "failed", outcome.failed)
    removals = [d for d in (*the_plan.companies, *the_plan.people) if d.action in GOING]
    if removals:
        for key, n in (await apply_removals(ctx, run_id, removals)).items():
            _bump(counts, key, n)
    _bump(counts, "skipped", sum(1 for d in the_plan.people if d.action == "skip"))
    _bump(counts, "hub_updated", _take_crm_values(ctx, run_id, the_plan))


def _resolve_gone(ctx: SyncContext, the_plan: PushPlan) -> None:
    """Open entries of records the plan no longer finds wrong (an ambiguity merged away, a
    record now linked by a pull) are resolved; a failed write's entry stays until the record
    is written or `errors retry`."""
    planned = {(d.hub_object, d.hub_id) for d in (*the_plan.companies, *the_plan.people)}
    erring = {
        (d.hub_object, d.hub_id)
        for d in (*the_plan.companies, *the_plan.people)
        if d.action == "error"
    }
    with ctx.hub.session() as s:
        logged = open_error_records(s, ctx.workspace_id, JOB, ctx.connection.id)
        gone = (logged & planned) - erring
        if not gone:
            return
        failing = {(link.hub_object, link.hub_id) for link in ctx.links.with_status(s, ("error",))}
        for kind in {kind for kind, _ in gone}:
            ids = sorted(hub_id for k, hub_id in gone - failing if k == kind)
            resolve_errors(s, ctx.workspace_id, JOB, kind, ids)


def _take_crm_values(ctx: SyncContext, run_id: int, the_plan: PushPlan) -> int:
    """Values the write rules give the CRM (it owns the field, or changed it last) land in the
    hub, journaled like a pull's."""
    decisions = [d for d in (*the_plan.companies, *the_plan.people) if d.hub]
    if not decisions:
        return 0
    changed = 0
    with ctx.hub.session() as s:
        _, to_hub_user = ctx.users.owners(s)
        records = {
            (kind, hub_id): record
            for kind, model in (("company", Company), ("person", Person))
            for hub_id, record in by_ids(
                s, model, [d.hub_id for d in decisions if d.hub_object == kind]
            ).items()
        }
        for d in decisions:
            record = records.get((d.hub_object, d.hub_id))
            if record is not None:
                changed += bool(write_hub(s, run_id, record, to_hub(d.hub, to_hub_user), None))
    return changed


def _befores(
    ctx: SyncContext, decisions: Sequence[Decision]
) -> dict[tuple[str, str], dict[str, Any]]:
    wanted: dict[str, list[str]] = {}
    for d in decisions:
        if d.remote_id and d.stream:
            wanted.setdefault(d.stream, []).append(d.remote_id)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with ctx.hub.session() as s:
        for kind, ids in wanted.items():
            for rid, row in ctx.mirror.get(s, kind, ids).items():
                out[(kind, rid)] = dict(row.fields)
    return out
