"""The error log as people use it: what failed and how to fix it; retry after fixing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, ErrorLogEntry, Person, RecordLink, utcnow


@dataclass(frozen=True)
class OpenError:
    id: int
    job: str
    created_at: datetime  # first seen
    record: str  # as a person finds it: a company's domain (or name), a person's e-mail
    hub_id: int | None
    error_class: str
    message: str
    hint: str | None
    field: str | None
    count: int  # how often it was seen
    last_seen_at: datetime


def open_errors(hub: Hub, limit: int | None = 200) -> list[OpenError]:
    """Open entries, the most recently seen first."""
    with hub.session() as s:
        query = (
            select(
                ErrorLogEntry,
                func.coalesce(Company.domain, Company.name),
                Person.email,
            )
            .outerjoin(
                Company,
                (ErrorLogEntry.hub_object == "company") & (Company.id == ErrorLogEntry.hub_id),
            )
            .outerjoin(
                Person,
                (ErrorLogEntry.hub_object == "person") & (Person.id == ErrorLogEntry.hub_id),
            )
            .where(
                ErrorLogEntry.workspace_id == hub.workspace_id, ErrorLogEntry.resolved_at.is_(None)
            )
            .order_by(ErrorLogEntry.last_seen_at.desc(), ErrorLogEntry.id.desc())
        )
        if limit:
            query = query.limit(limit)
        return [
            OpenError(
                e.id,
                e.job,
                e.created_at,
                _record(e, company or person),
                e.hub_id,
                e.error_class,
                e.message,
                e.hint,
                e.field,
                e.count,
                e.last_seen_at,
            )
            for e, company, person in s.execute(query)
        ]


def _record(e: ErrorLogEntry, found: str | None) -> str:
    if found:
        return found
    if e.hub_id is not None:
        return f"{e.hub_object} {e.hub_id}"
    return e.remote_id or "-"


def retry_errors(hub: Hub, error_ids: list[int] | None = None) -> int:
    """Make failed records eligible on the next run; returns how many records were reset."""
    ws, now = hub.workspace_id, utcnow()
    with hub.session() as s:
        query = select(ErrorLogEntry).where(
            ErrorLogEntry.workspace_id == ws, ErrorLogEntry.resolved_at.is_(None)
        )
        if error_ids:
            query = query.where(ErrorLogEntry.id.in_(error_ids))
        entries = list(s.scalars(query))
        hub_ids = {(e.hub_object, e.hub_id) for e in entries if e.hub_id is not None}
        for e in entries:
            e.resolved_at = now
        reset = 0
        for hub_object, hub_id in hub_ids:
            result = s.execute(
                update(RecordLink)
                .where(
                    RecordLink.workspace_id == ws,
                    RecordLink.hub_object == hub_object,
                    RecordLink.hub_id == hub_id,
                    RecordLink.status == "error",
                )
                .values(attempts=0, next_attempt_at=None, failed_hash=None)
            )
            reset += int(getattr(result, "rowcount", 0) or 0)
        if not error_ids:  # "retry all" also covers errored links whose log entry was resolved
            result = s.execute(
                update(RecordLink)
                .where(RecordLink.workspace_id == ws, RecordLink.status == "error")
                .values(attempts=0, next_attempt_at=None, failed_hash=None)
            )
            reset = max(reset, int(getattr(result, "rowcount", 0) or 0))
        return reset
