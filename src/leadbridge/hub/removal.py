"""Deleting and merging hub records, through the one write path (hub.edits).

A deletion is a tombstone: `deleted_at` is set (stamped, and queued for the CRMs like any other
change when a person made it), the row stays so that `undo` can restore it and nothing matches,
adopts or recreates it. A merge keeps one record: the other's empty-in-the-keeper values fill the
keeper, its people (a company's) move to the keeper, its links are unlinked (kept, so the remote
records they name are never taken for someone new), and it is tombstoned as merged into the keeper.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.hub.edits import EditError, Origin, edit, get_field, hub_object
from leadbridge.hub.tables import Company, Deal, DealPerson, Person, RecordLink, utcnow

# What a merge carries over into the keeper where the keeper has nothing.
PERSON_FILL: tuple[str, ...] = (
    *("first_name", "last_name", "email", "title", "phone", "mobile_phone", "company_id"),
    *("stage", "lead_status", "owner_id", "source"),
)
COMPANY_FILL: tuple[str, ...] = (
    *("name", "website", "industry", "employee_count", "stage", "owner_id", "account_stage"),
)

# What can be deleted and merged (deals are kept when a CRM deletes them: issue 12's note).
Removable = Person | Company


def is_deleted(record: Removable) -> bool:
    return record.deleted_at is not None


def delete_record(
    s: Session, record: Removable, *, origin: Origin, at: datetime | None = None
) -> bool:
    """Tombstone the record; False when it was deleted already."""
    if record.deleted_at is not None:
        return False
    return bool(edit(s, record, {"deleted_at": at or utcnow()}, origin=origin, at=at))


def detach_links(
    s: Session, record: Removable, reason: str, *, status: str = "unlinked"
) -> list[RecordLink]:
    """Every live link of the record (in every system) taken out of play, its remote id kept."""
    links = list(
        s.scalars(
            select(RecordLink).where(
                RecordLink.workspace_id == record.workspace_id,
                RecordLink.hub_object == hub_object(record),
                RecordLink.hub_id == record.id,
                RecordLink.status.not_in(("remote_deleted", "unlinked")),
            )
        )
    )
    for link in links:
        if link.remote_id is None:  # a create intent never answered: nothing to keep
            s.delete(link)
            continue
        link.status, link.last_error = status, reason
        link.error_class = link.failed_hash = link.next_attempt_at = None
    return links


def merge_records(
    s: Session,
    keep: Removable,
    other: Removable,
    *,
    origin: Origin,
    at: datetime | None = None,
    unlink: bool = True,
) -> dict[str, Any]:
    """Merge `other` into `keep`; returns the values `keep` took. `unlink=False` leaves the
    other's links to the caller (a CRM merge removes the loser's link itself)."""
    if type(keep) is not type(other):
        raise EditError("only two people or two companies can be merged")
    if keep.id == other.id:
        raise EditError("a record cannot be merged with itself")
    if keep.workspace_id != other.workspace_id:
        raise EditError("the records are in different workspaces")
    for record in (keep, other):
        if record.deleted_at is not None:
            raise EditError(f"{hub_object(record)} {record.id} is deleted")
    fill = PERSON_FILL if isinstance(keep, Person) else COMPANY_FILL
    taken = {
        name: get_field(other, name)
        for name in fill
        if get_field(keep, name) in (None, "") and get_field(other, name) not in (None, "")
    }
    custom = {
        f"custom.{k}": v
        for k, v in (other.custom or {}).items()
        if v not in (None, "") and (keep.custom or {}).get(k) in (None, "")
    }
    taken.update(custom)
    if isinstance(keep, Person):  # the keeper is on every list either was on
        tags = sorted({*get_field(keep, "tags"), *get_field(other, "tags")})
        if tags != get_field(keep, "tags"):
            taken["tags"] = tags
    if taken:
        edit(s, keep, taken, origin=origin, at=at)
    if isinstance(keep, Company):  # its people move, each change stamped (and pushed)
        for person in s.scalars(
            select(Person).where(
                Person.workspace_id == keep.workspace_id, Person.company_id == other.id
            )
        ):
            edit(s, person, {"company_id": keep.id}, origin=origin, at=at)
    _repoint_deals(s, keep, other, origin, at)
    if unlink:
        detach_links(s, other, f"merged into hub {hub_object(keep)} {keep.id}")
    other.merged_into = keep.id
    other.potential_duplicate = None
    if keep.potential_duplicate and str(other.id) in keep.potential_duplicate:
        keep.potential_duplicate = None
    delete_record(s, other, origin=origin, at=at)
    return taken


def _repoint_deals(
    s: Session, keep: Removable, other: Removable, origin: Origin, at: datetime | None
) -> None:
    """The other record's deals follow the merge: a company's through the write path (stamped,
    pushed), a person's roles moved unless the keeper has that deal already."""
    if isinstance(keep, Company):
        for deal in s.scalars(select(Deal).where(Deal.company_id == other.id)):
            edit(s, deal, {"company_id": keep.id}, origin=origin, at=at)
        return
    kept = set(s.scalars(select(DealPerson.deal_id).where(DealPerson.person_id == keep.id)))
    for role in s.scalars(select(DealPerson).where(DealPerson.person_id == other.id)):
        if role.deal_id in kept:
            s.delete(role)
        else:
            role.person_id = keep.id
