"""The real-time path: hub changes since this sync's position in the outbox, coalesced into one
push of the records they touched. The position moves only after the push ran."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.push.decide import active_link
from leadbridge.engine.systems import CRM_SYSTEMS
from leadbridge.hub import outbox


@dataclass(frozen=True)
class OutboxBatch:
    person_ids: list[int]
    company_ids: list[int]
    last: int  # the newest item taken: the position once pushed
    # A record new to the CRM needs fresh match keys; a new owner needs fresh users (one
    # deactivated since the last pull would make the CRM refuse the whole write).
    needs_refresh: bool


def consumer(ctx: SyncContext) -> str:
    return outbox.consumer_of(ctx.connection.id)


def next_batch(ctx: SyncContext) -> OutboxBatch | None:
    with ctx.hub.session() as s:
        after = outbox.position(s, ctx.workspace_id, consumer(ctx))
        items = outbox.since(s, ctx.workspace_id, after)
        if not items:
            return None
        person_ids = sorted({i.hub_id for i in items if i.hub_object == "person"})
        company_ids = sorted({i.hub_id for i in items if i.hub_object == "company"})
        owner_moved = any("owner_id" in (i.fields or []) for i in items)
    refresh = _has_unlinked(ctx, person_ids, company_ids) or (
        owner_moved and any(m.writes_owner for _, m in ctx.maps())
    )
    return OutboxBatch(person_ids, company_ids, items[-1].id, refresh)


def waiting(ctx: SyncContext) -> bool:
    with ctx.hub.session() as s:
        after = outbox.position(s, ctx.workspace_id, consumer(ctx))
        return bool(outbox.since(s, ctx.workspace_id, after, limit=1))


def newest(ctx: SyncContext) -> int:
    with ctx.hub.session() as s:
        return outbox.newest(s, ctx.workspace_id)


def passed(ctx: SyncContext, last: int) -> None:
    """This sync has pushed everything up to `last`; what every CRM connection has passed is
    pruned (a connection that has not read yet holds its items)."""
    readers = [outbox.consumer_of(c.id) for c in ctx.connections.all() if c.kind in CRM_SYSTEMS]
    with ctx.hub.session() as s:
        outbox.advance(s, ctx.workspace_id, consumer(ctx), last, readers)


def _has_unlinked(ctx: SyncContext, person_ids: Sequence[int], company_ids: Sequence[int]) -> bool:
    people, company = ctx.person_names(), [ctx.company().name]
    with ctx.hub.session() as s:
        person_links = ctx.links.of_hub(s, "person", person_ids)
        company_links = ctx.links.of_hub(s, "company", company_ids)
    return any(not active_link(person_links.get(i, {}), people) for i in person_ids) or any(
        not active_link(company_links.get(i, {}), company) for i in company_ids
    )
