"""Chunked lookups and the error log: small queries every part of the hub and engine shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from leadbridge.hub.tables import ErrorLogEntry, RecordLink, utcnow
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
