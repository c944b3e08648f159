"""One deal sync run against a CRM: pull (modes that pull), then push (modes that push).

Pull: the deal stream is read from its cursor (everything on enabling: the state remembers
whether the last run pulled), each page stored in the mirror with its cursor; a CRM deal
linked to a hub deal updates it (CRM-owned fields always; the others unless the hub changed
them since the last sync, to be pushed), an unlinked one adopts the hub deal of the same name
at the same company or becomes a new hub deal (hidden in mode `hide`). Hub changes are
journaled, so `undo` restores them.

Push: the plan (plan.py) per hub deal; a refused stage is an error-log entry and no write; a
create writes its link as an intent first; every write is journaled with the values it
replaced, so `leadbridge undo RUN` restores them (and deletes what the run created).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.connectors.base import RemoteRecord
from leadbridge.connectors.catalog import DealStage, Stream
from leadbridge.connectors.errors import error_class_name
from leadbridge.engine.deals.plan import (
    COLUMN,
    JOB,
    DealFacts,
    DealPlanItem,
    DealReport,
    plan_deal,
)
from leadbridge.engine.deals.pull import pull
from leadbridge.engine.deals.stages import Pipelines
from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.hub.edits import changed_at
from leadbridge.hub.store import log_error, resolve_errors
from leadbridge.hub.tables import (
    Deal,
    DealPerson,
    JournalEntry,
    utcnow,
)


@runtime_checkable
class DealSource(Protocol):
    async def deal_stages(self) -> list[DealStage]: ...


def deal_stream(ctx: SyncContext) -> Stream:
    stream = ctx.catalog.deals
    if stream is None or not isinstance(ctx.connector, DealSource):
        raise SyncRefused(f"{ctx.label} has no deals this sync can reach")
    return stream


async def pipelines(ctx: SyncContext) -> Pipelines:
    deal_stream(ctx)
    return Pipelines.of(await cast(DealSource, ctx.connector).deal_stages(), ctx.label)


async def plan_deals(ctx: SyncContext, deal_ids: Sequence[int] | None = None) -> DealReport:
    """The push as it would go now (no write, no run)."""
    stream = deal_stream(ctx)
    report = DealReport(None, ctx.policy.deals.mode)
    stages = await pipelines(ctx)
    with ctx.hub.session() as s:
        report.plan = [
            plan_deal(f, stream, stages, ctx.policy.deals) for f in facts(s, ctx, deal_ids)
        ]
    return report


async def sync_deals(ctx: SyncContext) -> DealReport:
    stream = deal_stream(ctx)
    policy = ctx.policy.deals
    report = DealReport(None, policy.mode)
    if policy.mode == "off":
        ctx.save_state(deals_pulling=False)
        return report
    stages = await pipelines(ctx)
    report.run_id = ctx.start_run(JOB)
    try:
        if policy.pulls:
            await pull(ctx, stream, stages, report)
        else:
            ctx.save_state(deals_pulling=False)
        if policy.pushes:
            await _push(ctx, stream, stages, report)
    except Exception as exc:
        ctx.finish_run(report.run_id, "failed", report.counts, str(exc))
        raise
    bad = report.counts.get("refused", 0) + report.counts.get("failed", 0)
    ctx.finish_run(report.run_id, "partial" if bad else "succeeded", report.counts)
    return report


# --- facts ----------------------------------------------------------------------------------


def facts(s: Session, ctx: SyncContext, deal_ids: Sequence[int] | None = None) -> list[DealFacts]:
    stream = deal_stream(ctx)
    query = select(Deal).where(Deal.workspace_id == ctx.workspace_id).order_by(Deal.id)
    if deal_ids is not None:
        query = query.where(Deal.id.in_(list(deal_ids)))
    deals = list(s.scalars(query))
    links = ctx.links.of_hub(s, "deal", [d.id for d in deals])
    to_remote, _ = ctx.users.owners(s)
    people = _remote_people(s, ctx, stream, [d.id for d in deals])
    companies: dict[int, str] = {}
    if stream.company is not None:
        company_links = ctx.links.of_hub(
            s, "company", {d.company_id for d in deals if d.company_id}
        )
        for hub_id, by_object in company_links.items():
            link = by_object.get(stream.company.target)
            if link is not None and link.remote_id:
                companies[hub_id] = link.remote_id
    out = []
    for d in deals:
        link = links.get(d.id, {}).get(stream.name)
        stamps = changed_at(d)
        out.append(
            DealFacts(
                d.id,
                {
                    "name": d.name,
                    "amount": d.amount,
                    "close_date": d.close_date,
                    "stage": d.stage,
                    "pipeline": d.pipeline,
                    "owner": to_remote.get(d.owner_id) if d.owner_id else None,
                    "company": companies.get(d.company_id) if d.company_id else None,
                    "people": people.get(d.id, []),
                },
                {name: stamps.get(COLUMN.get(name, name)) for name in (*COLUMN, *_PLAIN)},
                d.hidden,
                link.remote_id if link else None,
                link.status if link else None,
                link.last_synced_at if link else None,
                dict(link.pushed or {}) if link else {},
            )
        )
    return out


_PLAIN = ("name", "amount", "close_date", "stage", "pipeline")


def _remote_people(
    s: Session, ctx: SyncContext, stream: Stream, deal_ids: list[int]
) -> dict[int, list[str]]:
    """deal id -> the CRM ids of its people linked to the CRM (where deals carry people)."""
    if stream.role("people") is None or not deal_ids:
        return {}
    pairs = list(
        s.execute(
            select(DealPerson.deal_id, DealPerson.person_id).where(DealPerson.deal_id.in_(deal_ids))
        )
    )
    links = ctx.links.of_hub(s, "person", {p for _, p in pairs})
    names = ctx.person_names()
    out: dict[int, list[str]] = {}
    for deal_id, person_id in pairs:
        linked = links.get(person_id, {})
        remote = next((linked[n].remote_id for n in names if n in linked), None)
        if remote:
            out.setdefault(deal_id, []).append(remote)
    return {k: sorted(v) for k, v in out.items()}


# --- push -----------------------------------------------------------------------------------


async def _push(ctx: SyncContext, stream: Stream, stages: Pipelines, report: DealReport) -> None:
    run_id = report.run_id
    assert run_id is not None
    with ctx.hub.session() as s:
        plan = [plan_deal(f, stream, stages, ctx.policy.deals) for f in facts(s, ctx)]
        report.plan = plan
        for item in plan:
            if item.action == "refused":
                report.add("refused")
                log_error(
                    s,
                    workspace_id=ctx.workspace_id,
                    job=JOB,
                    error_class="permanent",
                    message=f"{ctx.label} deal not written: {item.reason}",
                    run_id=run_id,
                    connection_id=ctx.connection.id,
                    hub_object="deal",
                    hub_id=item.deal_id,
                    remote_id=item.remote_id,
                    field=item.field,
                    hint="set the deal's stage to one of the CRM's (`leadbridge deals stages`)",
                )
            elif item.action == "create":  # the intent, before the call
                links = ctx.links.of_hub(s, "deal", [item.deal_id]).get(item.deal_id, {})
                if stream.name not in links:
                    ctx.links.add(s, "deal", item.deal_id, stream.name, status="pending")
    for op in ("create", "update"):
        batch = [i for i in plan if i.action == op]
        if not batch:
            continue
        befores = _befores(ctx, stream, batch) if op == "update" else {}
        writes: list[tuple[Any, dict[str, Any]]] = [
            (i, {**({"Id": i.remote_id} if op == "update" else {}), **i.values}) for i in batch
        ]
        results = await ctx.connector.write(stream.name, op, writes)
        now = utcnow()
        with ctx.hub.session() as s:
            by_deal = ctx.links.of_hub(s, "deal", [i.deal_id for i in batch])
            for result in results:
                item = cast(DealPlanItem, result.ref)
                link = by_deal.get(item.deal_id, {}).get(stream.name)
                assert link is not None
                if not result.ok or result.remote_id is None:
                    error = result.error
                    link.status, link.last_error = "error", str(error)
                    link.error_class = error_class_name(error) if error else "transient"
                    report.add("failed")
                    log_error(
                        s,
                        workspace_id=ctx.workspace_id,
                        job=JOB,
                        error_class=link.error_class,
                        message=f"{ctx.label} deal not written: {error}",
                        run_id=run_id,
                        connection_id=ctx.connection.id,
                        hub_object="deal",
                        hub_id=item.deal_id,
                        remote_id=item.remote_id,
                        field=getattr(error, "field", None),
                        hint=getattr(error, "hint", None),
                    )
                    continue
                rid = str(result.remote_id)
                link.remote_id, link.status, link.last_error = rid, f"{op}d", None
                link.pushed = {**(link.pushed or {}), **item.values}
                link.last_synced_at, link.last_run_id = now, run_id
                ctx.store_mirror(
                    s, [RemoteRecord(stream.name, rid, item.values)], run_id, read=False
                )
                s.add(
                    JournalEntry(
                        workspace_id=ctx.workspace_id,
                        run_id=run_id,
                        target="remote",
                        remote_system=ctx.system,
                        remote_scope=ctx.scope,
                        object=stream.name,
                        record_id=rid,
                        op=op,
                        before=befores.get(rid) if op == "update" else None,
                        after=dict(item.values),
                    )
                )
                resolve_errors(s, ctx.workspace_id, JOB, "deal", [item.deal_id], now)
                report.add(f"crm_{op}d")


def _befores(
    ctx: SyncContext, stream: Stream, batch: list[DealPlanItem]
) -> dict[str, dict[str, Any]]:
    """The CRM's values the updates replace, as last read or written (the mirror)."""
    with ctx.hub.session() as s:
        rows = ctx.mirror.get(s, stream.name, [str(i.remote_id) for i in batch])
        return {
            str(i.remote_id): {
                k: (rows[str(i.remote_id)].fields.get(k) if str(i.remote_id) in rows else None)
                for k in i.values
            }
            for i in batch
        }
