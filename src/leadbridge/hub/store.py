"""Queries the engine needs, returning plain engine values (no ORM objects leak out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from leadbridge.engine.plan import LinkState
from leadbridge.engine.qualify import Lead, OwnerDirectory
from leadbridge.hub.tables import Company, ErrorLogEntry, RecordLink, UserLink, utcnow
from leadbridge.secrets import redact_text

CHUNK = 500  # ids per IN list: far below SQLite's bound-parameter limit
T = TypeVar("T")


def chunks(values: Sequence[T], size: int = CHUNK) -> list[Sequence[T]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def by_ids(s: Session, model: type[Any], ids: Sequence[int]) -> dict[int, Any]:
    """Rows of `model` by primary key, a query per chunk instead of one per id."""
    out: dict[int, Any] = {}
    for chunk in chunks(sorted(set(ids))):
        out.update((r.id, r) for r in s.scalars(select(model).where(model.id.in_(chunk))))
    return out


def load_leads(s: Session, workspace_id: int, ids: list[int] | None = None) -> list[Lead]:
    query = select(Company).where(Company.workspace_id == workspace_id)
    if ids is not None:
        query = query.where(Company.id.in_(ids))
    return [
        Lead(
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


def link_filter(
    workspace_id: int, system: str, scope: str, remote_object: str, hub_object: str
) -> tuple[ColumnElement[bool], ...]:
    return (
        RecordLink.workspace_id == workspace_id,
        RecordLink.remote_system == system,
        RecordLink.remote_scope == scope,
        RecordLink.remote_object == remote_object,
        RecordLink.hub_object == hub_object,
    )


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


def owner_directory(s: Session, workspace_id: int, system: str, scope: str) -> OwnerDirectory:
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
    return OwnerDirectory(active=active, deleted=frozenset(deleted))


def log_error(
    s: Session,
    *,
    workspace_id: int,
    job: str,
    error_class: str,
    message: str,
    run_id: int | None = None,
    connection_id: int | None = None,
    hub_object: str | None = None,
    hub_id: int | None = None,
    remote_id: str | None = None,
    field: str | None = None,
    hint: str | None = None,
) -> None:
    """One open entry per record and job: a newer failure replaces the older one. The message
    and hint are masked before they are stored (an API may echo a credential back)."""
    if hub_id is not None:
        resolve_errors(s, workspace_id, job, hub_object, [hub_id])
    s.add(
        ErrorLogEntry(
            workspace_id=workspace_id,
            run_id=run_id,
            connection_id=connection_id,
            job=job,
            hub_object=hub_object,
            hub_id=hub_id,
            remote_id=remote_id,
            field=field,
            error_class=error_class,
            message=redact_text(message),
            hint=redact_text(hint) if hint else hint,
        )
    )


def resolve_errors(
    s: Session,
    workspace_id: int,
    job: str,
    hub_object: str | None,
    hub_ids: list[int],
    when: datetime | None = None,
) -> None:
    for chunk in chunks(hub_ids):
        s.execute(
            update(ErrorLogEntry)
            .where(
                ErrorLogEntry.workspace_id == workspace_id,
                ErrorLogEntry.job == job,
                ErrorLogEntry.hub_object == hub_object,
                ErrorLogEntry.hub_id.in_(chunk),
                ErrorLogEntry.resolved_at.is_(None),
            )
            .values(resolved_at=when or utcnow())
        )
