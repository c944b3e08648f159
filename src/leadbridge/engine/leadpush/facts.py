"""What the lead push reads from the hub, as the plain values its pure planner takes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from leadbridge.engine.leadpush.plan import LinkState
from leadbridge.engine.leadpush.qualify import CompanyLead, OwnerDirectory
from leadbridge.hub.store import link_filter
from leadbridge.hub.tables import Company, RecordLink, UserLink

_LEAD = (
    Company.id,
    Company.name,
    Company.domain,
    Company.website,
    Company.icp_fit,
    Company.stage,
    Company.is_lead,
    Company.is_customer,
    Company.quarantine,
    Company.owner_id,
    Company.updated_at,
)
_LINK = (
    RecordLink.hub_id,
    RecordLink.remote_id,
    RecordLink.status,
    RecordLink.payload_hash,
    RecordLink.pushed,
    RecordLink.attempts,
    RecordLink.next_attempt_at,
    RecordLink.last_error,
    RecordLink.error_class,
    RecordLink.failed_hash,
    RecordLink.stale_reason,
)


def lead_filter(
    workspace_id: int, ids: list[int] | None = None, where: Sequence[ColumnElement[bool]] = ()
) -> tuple[ColumnElement[bool], ...]:
    out = (Company.workspace_id == workspace_id, *where)
    return out if ids is None else (*out, Company.id.in_(ids))


def load_leads(
    s: Session,
    workspace_id: int,
    ids: list[int] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[CompanyLead]:
    """The leads (all, `ids`, or those matching `where`), read as columns: no ORM objects."""
    query = select(*_LEAD).where(*lead_filter(workspace_id, ids, where))
    rows = s.execute(query.order_by(Company.updated_at, Company.id))
    return [CompanyLead(**row._mapping) for row in rows]


def count_leads(s: Session, workspace_id: int) -> int:
    return s.scalar(select(func.count(Company.id)).where(Company.workspace_id == workspace_id)) or 0


def load_links(
    s: Session,
    workspace_id: int,
    system: str,
    scope: str,
    remote_object: str,
    hub_object: str,
    leads: Sequence[ColumnElement[bool]] = (),
) -> dict[int, LinkState]:
    """The links of the leads that match `leads` (a lead filter; every link without one)."""
    query = select(*_LINK).where(
        *link_filter(workspace_id, system, scope, remote_object, hub_object)
    )
    if leads:
        query = query.where(RecordLink.hub_id.in_(select(Company.id).where(*leads)))
    return {row.hub_id: LinkState(**row._mapping) for row in s.execute(query)}


def owner_directory(
    s: Session, workspace_id: int, system: str, scope: str, label: str
) -> OwnerDirectory:
    active: dict[int, str] = {}
    deleted: set[int] = set()
    rows = s.scalars(
        select(UserLink).where(
            UserLink.workspace_id == workspace_id,
            UserLink.remote_system == system,
            UserLink.remote_scope == scope,
            UserLink.hub_user_id.is_not(None),
        )
    )
    for link in rows:
        assert link.hub_user_id is not None
        if link.deleted:
            deleted.add(link.hub_user_id)
        else:
            active[link.hub_user_id] = link.remote_user_id
    return OwnerDirectory(active=active, deleted=frozenset(deleted), label=label)
