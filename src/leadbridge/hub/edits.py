"""Changing hub people, companies and deals: every change stamps its fields' change time, and a
change made by a person (not by the sync itself) goes to the outbox to be pushed.

A person's tags (hub/tags.py) are the pseudo-field `tags`, the whole sorted list: a change of
them is stamped and queued like any field's (a tag can bring a person into a sync's scope).

The origin tag is what keeps a pulled value from being pushed straight back (no echoes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy.orm import Session, object_session

from leadbridge.hub.tables import Company, Deal, OutboxItem, Person, utcnow
from leadbridge.hub.tags import normalize_tags, set_tags, tags_of
from leadbridge.normalize import email_key

Origin = Literal["user", "manual", "sync"]
HubRecord = Person | Company | Deal
R = TypeVar("R", Person, Company, Deal)


class EditError(ValueError):
    """A change that cannot be made to a hub record; the message says why."""


def hub_object(record: HubRecord) -> str:
    if isinstance(record, Deal):
        return "deal"
    return "person" if isinstance(record, Person) else "company"


def get_field(record: HubRecord, name: str) -> Any:
    if name == "tags" and isinstance(record, Person):  # rows of their own (hub/tags.py)
        s = object_session(record)
        return tags_of(s, record.id) if s is not None and record.id is not None else []
    if name.startswith("custom."):
        return (record.custom or {}).get(name.removeprefix("custom."))
    return getattr(record, name)


def edit(
    s: Session,
    record: HubRecord,
    changes: dict[str, Any],
    *,
    origin: Origin,
    at: datetime | None = None,
) -> list[str]:
    """Apply `changes` (hub field -> value); returns the fields that really changed."""
    when = at or utcnow()
    changed: list[str] = []
    stamps = dict(record.field_changed_at or {})
    custom = dict(record.custom or {})
    for name, value in changes.items():
        if name == "tags":
            value = normalize_tags(value)
        if get_field(record, name) == value:
            continue
        if name == "tags" and isinstance(record, Person):
            set_tags(s, record, value)
        elif name.startswith("custom."):
            key = name.removeprefix("custom.")
            if value is None:
                custom.pop(key, None)  # an emptied custom field is absent, as if never set
            else:
                custom[key] = value
        else:
            setattr(record, name, value)
            if name == "email" and isinstance(record, Person):
                record.email_key = email_key(value)
        stamps[name] = when.isoformat()
        changed.append(name)
    if not changed:
        return []
    record.custom = custom or None
    record.field_changed_at = stamps
    # When the hub row changed, which is now even for a value another system changed earlier
    # (`at`): what decides that a sync has not seen it yet (engine/sync/push/select.py).
    record.updated_at = max(when, utcnow())
    if origin != "sync":
        s.flush()
        s.add(
            OutboxItem(
                workspace_id=record.workspace_id,
                hub_object=hub_object(record),
                hub_id=record.id,
                fields=changed,
                manual=origin == "manual",
                created_at=when,
            )
        )
    return changed


def create(
    s: Session,
    record: R,
    values: dict[str, Any],
    *,
    origin: Origin,
    at: datetime | None = None,
) -> R:
    """A new record with `values`, through `edit`: its fields stamped, and (made by a person)
    queued for the CRMs like any other change."""
    when = at or utcnow()
    record.created_at = record.updated_at = when
    s.add(record)
    s.flush()
    edit(s, record, values, origin=origin, at=when)
    return record


def changed_at(record: HubRecord) -> dict[str, datetime | None]:
    return {
        k: datetime.fromisoformat(v) if isinstance(v, str) else None
        for k, v in (record.field_changed_at or {}).items()
    }
