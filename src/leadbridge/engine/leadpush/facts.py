"""What the lead push reads from the hub, as the plain values its pure planner takes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.engine.leadpush.plan import LinkState
from leadbridge.engine.leadpush.qualify import CompanyLead, OwnerDirectory
from leadbridge.hub.store import link_filter
from leadbridge.hub.tables import Company, RecordLink, UserLink


def load_leads(s: Session, workspace_id: int, ids: list[int] | None = None) -> list[CompanyLead]:
    query = select(Company).where(
        Company.workspace_id == workspace_id, Company.deleted_at.is_(None)
    )
    if ids is not None:
        query = query.where(Company.id.in_(ids))
    return [
        CompanyLead(
            id=c.id,
            name=c.name,
            domain=c.domain,
            website=c.website,
            icp_fit=c.icp_fit,
            stage=c.stage,
            is_lead=c.is_lead,
            is_customer=c.is_customer,
            quarantine=c.quarantine,
            owner_id=c.owner_id,
            updated_at=c.updated_at,
        )
        for c in s.scalars(query.order_by(Company.updated_at, Company.id))
    ]


def load_links(
    s: Session, workspace_id: int, system: str, scope: str, remote_object: str, hub_object: str
) -> dict[int, LinkState]:
    rows = s.scalars(
        select(RecordLink).where(
            *link_filter(workspace_id, system, scope, remote_object, hub_object)
        )
    )
    return {
        r.hub_id: LinkState(
            hub_id=r.hub_id,
            remote_id=r.remote_id,
            status=r.status,
            payload_hash=r.payload_hash,
            pushed=r.pushed,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            last_error=r.last_error,
            error_class=r.error_class,
            failed_hash=r.failed_hash,
            stale_reason=r.stale_reason,
        )
        for r in rows
    }


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
