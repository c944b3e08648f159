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
) -> bool:
    """One open entry per problem: the same message for the same record and job, seen again,
    bumps that entry (count, last seen, run) instead of adding a row; a different failure of
    the record replaces its open entry. The message and hint are masked before they are
    stored (an API may echo a credential back). Returns whether the problem is new."""
    message = redact_text(message)
    hint = redact_text(hint) if hint else hint
    now = utcnow()
    same = s.scalar(
        select(ErrorLogEntry)
        .where(
            ErrorLogEntry.workspace_id == workspace_id,
            ErrorLogEntry.job == job,
            ErrorLogEntry.hub_object == hub_object,
            ErrorLogEntry.hub_id == hub_id,
            # Without a hub record, the remote record is what the entry is about.
            *(() if hub_id is not None else (ErrorLogEntry.remote_id == remote_id,)),
            ErrorLogEntry.message == message,
            ErrorLogEntry.resolved_at.is_(None),
        )
        .order_by(ErrorLogEntry.id.desc())
        .limit(1)
    )
    if same is not None:
        same.count += 1
        same.last_seen_at = now
        same.run_id = run_id if run_id is not None else same.run_id
        # What is known now: the latest class, hint and ids.
        same.error_class, same.hint = error_class, hint
        same.field = field if field is not None else same.field
        same.remote_id = remote_id if remote_id is not None else same.remote_id
        same.connection_id = connection_id if connection_id is not None else same.connection_id
        return False
    if hub_id is not None:
        resolve_errors(s, workspace_id, job, hub_object, [hub_id], now)
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
            message=message,
            hint=hint,
            created_at=now,
            last_seen_at=now,
        )
    )
    return True


def open_error_records(
    s: Session, workspace_id: int, job: str, connection_id: int | None
) -> set[tuple[str, int]]:
    """(hub object, hub id) of the records a job's open entries are about."""
    rows = s.execute(
        select(ErrorLogEntry.hub_object, ErrorLogEntry.hub_id).where(
            ErrorLogEntry.workspace_id == workspace_id,
            ErrorLogEntry.job == job,
            ErrorLogEntry.connection_id == connection_id,
            ErrorLogEntry.hub_id.is_not(None),
            ErrorLogEntry.resolved_at.is_(None),
        )
    )
    return {(str(kind), hub_id) for kind, hub_id in rows if hub_id is not None}


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
