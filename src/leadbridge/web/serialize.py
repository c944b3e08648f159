"""Hub rows as the API and the pages show them (JSON-ready dicts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.hub.tables import (
    Company,
    ErrorLogEntry,
    JournalEntry,
    Person,
    RecordLink,
    SyncRun,
    User,
)
from leadbridge.hub.tags import tags_by_person, tags_of
from leadbridge.policy.apollo_push import ApolloPushSettings
from leadbridge.web.state import WebState


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _owner(s: Session, owner_id: int | None) -> str | None:
    if owner_id is None:
        return None
    user = s.get(User, owner_id)
    return user.email if user else None


def people_json(s: Session, people: Iterable[Person]) -> list[dict[str, Any]]:
    """A list of people, their tags read in one query (not one a person)."""
    rows = list(people)
    tags = tags_by_person(s, [p.id for p in rows])
    return [person_json(s, p, tags.get(p.id, [])) for p in rows]


def person_json(s: Session, p: Person, tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "email": p.email,
        "email_status": p.email_status,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "title": p.title,
        "phone": p.phone,
        "mobile_phone": p.mobile_phone,
        "company_id": p.company_id,
        "stage": p.stage,
        "lead_status": p.lead_status,
        "owner": _owner(s, p.owner_id),
        "source": p.source,
        "custom": p.custom or {},
        "tags": tags_of(s, p.id) if tags is None else tags,
        "potential_duplicate": p.potential_duplicate,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }


def company_json(s: Session, c: Company) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "domain": c.domain,
        "website": c.website,
        "industry": c.industry,
        "employee_count": c.employee_count,
        "icp_fit": c.icp_fit,
        "stage": c.stage,
        "account_stage": c.account_stage,
        "is_lead": c.is_lead,
        "is_customer": c.is_customer,
        "quarantine": c.quarantine,
        "owner": _owner(s, c.owner_id),
        "custom": c.custom or {},
        "potential_duplicate": c.potential_duplicate,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def links_json(s: Session, workspace_id: int, hub_object: str, hub_id: int) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(RecordLink)
        .where(
            RecordLink.workspace_id == workspace_id,
            RecordLink.hub_object == hub_object,
            RecordLink.hub_id == hub_id,
        )
        .order_by(RecordLink.id)
    )
    return [
        {
            "system": link.remote_system,
            "scope": link.remote_scope,
            "object": link.remote_object,
            "remote_id": link.remote_id,
            "status": link.status,
            "last_error": link.last_error,
            "pushed": link.pushed or {},
            "last_synced_at": iso(link.last_synced_at),
            "stale_reason": link.stale_reason,
        }
        for link in rows
    ]


def run_json(r: SyncRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "job": r.job,
        "connection_id": r.connection_id,
        "status": r.status,
        "started_at": iso(r.started_at),
        "finished_at": iso(r.finished_at),
        "counts": r.counts or {},
        "api_calls": r.api_calls,
        "message": r.message,
    }


def journal_json(e: JournalEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "target": e.target,
        "system": e.remote_system,
        "object": e.object,
        "record_id": e.record_id,
        "op": e.op,
        "before": e.before,
        "after": e.after,
        "undone_at": iso(e.undone_at),
    }


def error_json(e: ErrorLogEntry, record: str | None = None) -> dict[str, Any]:
    return {
        "id": e.id,
        "job": e.job,
        "run_id": e.run_id,
        "connection_id": e.connection_id,
        "hub_object": e.hub_object,
        "hub_id": e.hub_id,
        "record": record or (f"{e.hub_object} {e.hub_id}" if e.hub_id else None),
        "remote_id": e.remote_id,
        "field": e.field,
        "class": e.error_class,
        "message": e.message,
        "hint": e.hint,
        "count": e.count,
        "at": iso(e.created_at),
        "last_seen_at": iso(e.last_seen_at),
        "resolved_at": iso(e.resolved_at),
    }


def stages_of(state: WebState) -> list[str]:
    """The stage ladder of the lead push (the Apollo connection's settings, else the default),
    as `leadbridge edit company` takes it."""
    apollo = [c for c in state.connections.all() if c.kind == "apollo"]
    if apollo:
        try:
            return ApolloPushSettings.load(apollo[0].settings.get("apollo_push")).stages
        except Exception:  # bad settings are reported where they are edited; default here
            pass
    return ApolloPushSettings().stages
