"""The pull half of a deal run: the deal stream read from its cursor (everything on enabling:
the state remembers whether the last run pulled), each page stored in the mirror with its
cursor and what it changed in the hub, in one transaction.

A CRM deal linked to a hub deal updates it (CRM-owned fields always; the others unless the hub
changed them since the last sync, to be pushed); an unlinked one adopts the hub deal of the
same name at the same company (or the hub deal whose create intent made it) or becomes a new
hub deal (hidden in mode `hide`). Its company and people come through their links. Hub changes
are journaled, so `undo` restores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.connectors.base import Cursor, RemoteRecord
from leadbridge.connectors.catalog import Stream
from leadbridge.engine.deals.plan import COLUMN, DealReport, hub_values, wire
from leadbridge.engine.deals.stages import Pipelines
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.cursors import load_cursor, save_cursor
from leadbridge.hub.deals import set_people
from leadbridge.hub.edits import changed_at, create, edit
from leadbridge.hub.tables import Deal, JournalEntry, RecordLink, utcnow


def _hub_people(s: Session, ctx: SyncContext, remote_ids: list[str]) -> list[int]:
    """Hub people linked to these CRM person records (any person stream)."""
    found: list[int] = []
    for name in ctx.person_names():
        found += [link.hub_id for link in ctx.links.of_remote(s, name, remote_ids).values()]
    return found


# --- pull -----------------------------------------------------------------------------------


async def pull(ctx: SyncContext, stream: Stream, stages: Pipelines, report: DealReport) -> None:
    assert report.run_id is not None
    full = not ctx.state().get("deals_pulling")
    with ctx.hub.session() as s:
        cursor = Cursor() if full else load_cursor(s, ctx, stream.name)
    cap = ctx.clock()
    async for page in ctx.connector.read_changed(
        stream.name, stream.fields_to_read([]), cursor, cap
    ):
        with ctx.hub.session() as s:  # the page, what it changed and its cursor, together
            ctx.store_mirror(s, page.records, report.run_id)
            _take(s, ctx, stream, stages, page.records, report)
            save_cursor(s, ctx, stream.name, page.cursor)
        report.add(f"read_{stream.one()}", len(page.records))
    ctx.save_state(deals_pulling=True)


def _take(
    s: Session,
    ctx: SyncContext,
    stream: Stream,
    stages: Pipelines,
    records: Sequence[RemoteRecord],
    report: DealReport,
) -> None:
    policy = ctx.policy.deals
    owned = {COLUMN.get(n, n) for n in policy.crm_owned}
    hide = policy.mode == "hide"
    live = [r for r in records if not r.deleted and r.event is None]
    report.add("deleted_in_crm_kept", len(records) - len(live))
    links = ctx.links.of_remote(s, stream.name, [r.id for r in live])
    _, to_hub = ctx.users.owners(s)
    company_of: dict[str, int] = {}
    if stream.company is not None:
        ids = [str(v) for r in live if (v := stream.value(r.fields, "company"))]
        company_of = {
            rid: link.hub_id
            for rid, link in ctx.links.of_remote(s, stream.company.target, ids).items()
        }
    now = utcnow()
    for r in live:
        values = hub_values(stream, r.fields, stages)
        people = _hub_people(s, ctx, values.pop("people", None) or [])
        if "owner" in values:
            owner = values.pop("owner")
            values["owner_id"] = to_hub.get(owner) if owner else None
        if "company" in values:
            company = values.pop("company")
            if company is None:
                values["company_id"] = None
            elif company in company_of:
                values["company_id"] = company_of[company]
        link = links.get(r.id)
        deal = s.get(Deal, link.hub_id) if link is not None else None
        if link is not None and deal is not None:
            stamps = changed_at(deal)
            since = link.last_synced_at
            changes = {
                k: v
                for k, v in values.items()
                if k in owned or since is None or (stamps.get(k) or since) <= since
            }
            before = {k: wire(getattr(deal, k)) for k in changes}
            done = edit(s, deal, changes, origin="sync", at=now)
            if done:
                _journal_hub(s, ctx, report, deal, before, done)
                report.add("hub_updated")
            deal.hidden = hide and deal.hidden
            set_people(s, deal, people)
            if len(changes) < len(values):  # hub changes still to push: not synced yet
                link.pushed = {k: v for k, v in r.fields.items() if k != "attributes"}
                continue
        else:
            deal = _match(s, ctx, stream, values)
            if deal is not None:  # the CRM is the source of truth for it from now on
                before = {k: wire(getattr(deal, k)) for k in values}
                done = edit(s, deal, values, origin="sync", at=now)
                if done:
                    _journal_hub(s, ctx, report, deal, before, done)
                report.add("hub_adopted")
            else:
                deal = create(
                    s, Deal(workspace_id=ctx.workspace_id, hidden=hide), values, origin="sync"
                )
                report.add("hub_created")
            set_people(s, deal, people)
            intent = ctx.links.of_hub(s, "deal", [deal.id]).get(deal.id, {}).get(stream.name)
            if link is None and intent is not None:  # a create whose answer was lost: it landed
                link = intent
                link.remote_id, link.status, link.last_error = r.id, "created", None
            elif link is None:
                link = ctx.links.add(s, "deal", deal.id, stream.name, r.id, run_id=report.run_id)
            else:
                link.hub_id = deal.id
        link.pushed = {k: v for k, v in r.fields.items() if k != "attributes"}
        link.last_synced_at, link.last_run_id = now, report.run_id


def _match(s: Session, ctx: SyncContext, stream: Stream, values: dict[str, Any]) -> Deal | None:
    """An unlinked hub deal of the same name at the same company: the CRM deal it was (or the
    one a create whose answer was lost made)."""
    name = values.get("name")
    if not name:
        return None
    query = select(Deal).where(Deal.workspace_id == ctx.workspace_id, Deal.name == name)
    if values.get("company_id") is not None:
        query = query.where(Deal.company_id == values["company_id"])
    linked = select(RecordLink.hub_id).where(
        *ctx.links.where(),
        RecordLink.hub_object == "deal",
        RecordLink.remote_object == stream.name,
        RecordLink.remote_id.is_not(None),  # a create intent is the deal it may have made
    )
    return s.scalar(query.where(Deal.id.not_in(linked)).order_by(Deal.id))


def _journal_hub(
    s: Session,
    ctx: SyncContext,
    report: DealReport,
    deal: Deal,
    before: dict[str, Any],
    changed: list[str],
) -> None:
    assert report.run_id is not None
    s.add(
        JournalEntry(
            workspace_id=ctx.workspace_id,
            run_id=report.run_id,
            target="hub",
            object="deal",
            record_id=str(deal.id),
            op="update",
            before={k: before.get(k) for k in changed},
            after={k: wire(getattr(deal, k)) for k in changed},
        )
    )
