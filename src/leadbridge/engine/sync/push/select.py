"""Which hub records a full push must plan: the ones that may have something to send, selected in
SQL, a page of ids at a time (keyset on id), so the backstop push costs what changed, not what
the hub holds, and its memory stays flat as the hub grows.

A tombstone (deleted in the hub) is quiet once no link of it is left in play. Otherwise a record
is *quiet* — in sync when it was last written or confirmed, and nothing moved since —
when it has a link to a remote record, every link it has is settled (a status that is neither
pending, error nor undone, no batch job that may still be writing it), and for each link:
the record was not edited after the link was last in sync (`last_synced_at`), nor was its
company (a person's company name travels with it), and the mirror did not read a change of the
remote record after it. Everything else is planned: unlinked records, held ones, changed ones.

What else can change a decision is the policy and the owner mapping: the plan's fingerprint
(plan.py) makes the next full push plan everything when either changed.

The sync's scope (policy/scope.py) is SQL here too, the one place it is decided: a person
outside it with no link of this sync is never planned (a full plan counts them), so a large
prospecting database costs a count, not a plan per person per run.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.hub.links import SETTLED
from leadbridge.hub.tables import DETACHED, Company, CrmRecord, Person, PersonTag, RecordLink
from leadbridge.policy.crm import NO_STAGE
from leadbridge.policy.scope import Persona, SyncScope

PAGE = 20_000  # records planned (and written) at a time: bounds a full push's memory


def _model(hub_object: str) -> type[Person] | type[Company]:
    return Person if hub_object == "person" else Company


@dataclass(frozen=True)
class _Where:
    workspace_id: int
    system: str
    scope: str


def _links_of(
    ctx: _Where, hub_object: str, record_id: InstrumentedAttribute[int]
) -> list[ColumnElement[bool]]:
    return [
        RecordLink.workspace_id == ctx.workspace_id,
        RecordLink.remote_system == ctx.system,
        RecordLink.remote_scope == ctx.scope,
        RecordLink.hub_object == hub_object,
        RecordLink.hub_id == record_id,
    ]


def quiet(ctx: SyncContext, hub_object: str) -> ColumnElement[bool]:
    """The condition on a Person (or Company) row that makes planning it pointless."""
    return _quiet(ctx.workspace_id, ctx.system, ctx.scope, hub_object)


@functools.lru_cache(maxsize=64)
def _quiet(workspace_id: int, system: str, scope: str, hub_object: str) -> ColumnElement[bool]:
    # Built once per sync: the expression costs milliseconds to build, a run reads pages often.
    ctx = _Where(workspace_id, system, scope)
    model = _model(hub_object)
    mirror_moved = exists().where(
        CrmRecord.workspace_id == ctx.workspace_id,
        CrmRecord.remote_system == ctx.system,
        CrmRecord.remote_scope == ctx.scope,
        CrmRecord.object == RecordLink.remote_object,
        CrmRecord.remote_id == RecordLink.remote_id,
        CrmRecord.changed_at > RecordLink.last_synced_at,
    )
    stale = [
        RecordLink.status.not_in(SETTLED),
        RecordLink.remote_id.is_(None),
        RecordLink.remote_job_id.is_not(None),
        RecordLink.last_synced_at.is_(None),
        model.updated_at > RecordLink.last_synced_at,
        mirror_moved,
    ]
    if model is Person:
        company = aliased(Company)
        # Two levels down, so correlated by hand: left to itself SQLAlchemy would give this
        # subquery its own FROM people and scan the table for every link.
        stale.append(
            exists()
            .where(company.id == Person.company_id, company.updated_at > RecordLink.last_synced_at)
            .correlate_except(company)
        )
    links = _links_of(ctx, hub_object, model.id)
    linked = exists().where(*links)
    # A link out of play (the CRM record deleted, or unlinked) is not settled: the plan says
    # why such a record is not sent.
    unsettled = exists().where(*links, or_(*stale))
    live = exists().where(
        *links, RecordLink.status.not_in(DETACHED), RecordLink.remote_id.is_not(None)
    )
    return or_(
        and_(model.deleted_at.is_(None), linked, not_(unsettled)),
        and_(model.deleted_at.is_not(None), not_(live)),  # a tombstone with nothing to remove
    )


def _tagged(tags: list[str]) -> ColumnElement[bool]:
    return exists().where(PersonTag.person_id == Person.id, PersonTag.tag.in_(tags))


def _persona(rule: Persona) -> ColumnElement[bool]:
    """A persona as a condition on a Person row: every condition given, any value of each."""
    conditions: list[ColumnElement[bool]] = []
    if rule.title_contains:
        title = func.lower(func.coalesce(Person.title, ""))
        conditions.append(
            or_(*(title.contains(t.lower(), autoescape=True) for t in rule.title_contains))
        )
    # Never NULL (a NULL column in `IN` is neither true nor false): NOT of the scope must
    # hold for everyone outside it, or they would be neither planned nor counted.
    if rule.stages:
        stage = and_(Person.stage.is_not(None), Person.stage.in_(rule.stages))
        conditions.append(or_(stage, Person.stage.is_(None)) if NO_STAGE in rule.stages else stage)
    if rule.lead_statuses:
        statuses = Person.lead_status.in_(rule.lead_statuses)
        conditions.append(and_(Person.lead_status.is_not(None), statuses))
    if rule.tags:
        conditions.append(_tagged(rule.tags))
    return and_(*conditions)


def in_scope(scope: SyncScope) -> ColumnElement[bool]:
    """The condition on a Person row of matching the scope (any of its tags and personas)."""
    try:
        rules = scope.rules()
    except KeyError as exc:
        raise SyncRefused(f"scope: {exc.args[0]}") from None
    matches = [_persona(rule) for rule in rules.values()]
    if scope.tags:
        matches.append(_tagged(scope.tags))
    return or_(*matches) if matches else false()


def outside_scope(ctx: SyncContext) -> ColumnElement[bool] | None:
    """The condition on a Person row of being left out by the sync's scope: live, no link of
    this sync (a linked person keeps syncing, whatever its scope), not matching it. None when
    the sync has no scope."""
    scope = ctx.policy.scope
    if not scope.restricted:
        return None
    where = _Where(ctx.workspace_id, ctx.system, ctx.scope)
    linked = exists().where(*_links_of(where, "person", Person.id))
    return and_(Person.deleted_at.is_(None), not_(linked), not_(in_scope(scope)))


def pages(
    ctx: SyncContext, hub_object: str, *, everything: bool, size: int = PAGE
) -> Iterator[list[int]]:
    """Ids to plan, `size` at a time in id order: the records that are not quiet (all of them
    when `everything`), people outside the sync's scope left out. Each page is read in its own
    transaction: the caller writes between pages."""
    model = _model(hub_object)
    after = 0
    condition = [] if everything else [not_(quiet(ctx, hub_object))]
    outside = outside_scope(ctx) if hub_object == "person" else None
    if outside is not None:
        condition.append(not_(outside))
    while True:
        with ctx.hub.session() as s:
            ids = list(
                s.scalars(
                    select(model.id)
                    .where(model.workspace_id == ctx.workspace_id, model.id > after, *condition)
                    .order_by(model.id)
                    .limit(size)
                )
            )
        if not ids:
            return
        yield ids
        after = ids[-1]
