"""The hub's write path for activities (e-mails, calls, meetings, notes, tasks, conversation
summaries), and their CSV import.

An activity is idempotent by its source's id: `record_activity` with a (source, source_id)
the hub already holds updates that row (or leaves it alone), it never adds a second one. It is
tied to a hub person (found by e-mail) and/or company (found by domain; else the person's);
an activity naming a person or company the hub does not have is refused, never made up.
Activities are pushed to the CRMs and never pulled: a push finds the ones without a link to
that CRM (engine/activities), so they need no outbox item.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.hub import import_values as cell
from leadbridge.hub.csv_input import BadRow, open_csv
from leadbridge.hub.db import Hub
from leadbridge.hub.imports import ImportFileError, ImportReport, missing_column
from leadbridge.hub.store import chunks
from leadbridge.hub.tables import ACTIVITY_KINDS, Activity, Company, Person, User, utcnow
from leadbridge.normalize import email_key, normalize_domain, normalize_email
from leadbridge.normalize.email import InvalidEmail

ACTIVITY_HEADERS = {
    "kind": ("type", "activity type", "activity"),
    "source": ("origin",),
    "source_id": ("id", "source id", "external id", "activity id"),
    "person_email": ("email", "e-mail", "person", "contact email", "person email"),
    "company_domain": ("domain", "company", "company domain", "account domain"),
    "deal_id": ("deal", "deal id"),
    "occurred_at": ("date", "time", "timestamp", "occurred", "sent at", "activity date"),
    "owner": ("owner email", "assigned to", "user"),
    "subject": ("title", "subject line"),
    "body_preview": ("body", "notes", "note", "description", "content"),
    "direction": (),
    "from_email": ("from",),
    "to_emails": ("to",),
    "cc_emails": ("cc",),
    "sent_from_sequence": ("sequence", "from sequence", "sequence email"),
    "sent_from_hub": ("sent from hub", "sent by leadbridge", "sent from apollo"),
    "thread_id": ("thread", "reply to", "in reply to"),
    "call_outcome": ("outcome", "disposition", "call outcome"),
    "call_duration_seconds": ("duration", "duration seconds", "call duration"),
    "recording_url": ("recording", "recording link"),
    "meeting_start": ("start", "starts at", "start time"),
    "meeting_end": ("end", "ends at", "end time"),
    "location": (),
    "attendees": ("participants",),
    "due_at": ("due", "due date"),
    "task_status": ("status", "task status"),
}
KIND_WORDS = {
    **{k: k for k in ACTIVITY_KINDS},
    "e-mail": "email",
    "conversation summary": "summary",
}
DIRECTIONS = {
    "outgoing": "outgoing", "out": "outgoing", "sent": "outgoing", "outbound": "outgoing",
    "incoming": "incoming", "in": "incoming", "received": "incoming", "inbound": "incoming",
    "reply": "incoming",
}  # fmt: skip
TASK_STATUSES = ("open", "completed")
_LIST_SPLIT = re.compile(r"[;,\s]+")
FIELDS = tuple(c.name for c in Activity.__table__.c if c.name not in ("id", "workspace_id"))


class ActivityError(ValueError):
    """An activity the hub cannot take; the message says why."""


def when(raw: str, label: str) -> datetime | None:
    """An ISO 8601 date or date-time (no zone: UTC); None when blank."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ActivityError(f"{label} {text[:40]!r} is not a date (YYYY-MM-DD[THH:MM])") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def addresses(raw: str, label: str) -> list[str] | None:
    out = []
    for part in _LIST_SPLIT.split(raw.strip()):
        if not part:
            continue
        try:
            out.append(str(normalize_email(part)))
        except InvalidEmail:
            raise ActivityError(f"{label}: {part[:80]!r} is not an e-mail address") from None
    return out or None


def activity_values(cells: dict[str, str], owners: Callable[[str], int | None]) -> dict[str, Any]:
    """A row's activity fields as hub values (its person and company aside)."""
    kind = KIND_WORDS.get(cells.get("kind", "").strip().lower())
    if kind is None:
        raise ActivityError(
            f"kind {cells.get('kind', '')[:40]!r} is not one of: {', '.join(ACTIVITY_KINDS)}"
        )
    values: dict[str, Any] = {"kind": kind}
    source_id = cells.get("source_id", "").strip()
    if not source_id:
        raise ActivityError("missing id (an activity is imported once by its source's id)")
    values["source_id"] = cell.text(source_id, Activity, "source_id", "id")
    values["source"] = cell.text(cells.get("source", "").strip().lower() or "import",
                                 Activity, "source")  # fmt: skip
    occurred = when(cells.get("occurred_at", ""), "date")
    start = when(cells.get("meeting_start", ""), "start")
    if occurred is None:
        occurred = start
    if occurred is None:
        raise ActivityError("missing date (when it happened)")
    values["occurred_at"] = occurred
    for key in ("subject", "body_preview", "thread_id", "call_outcome", "recording_url",
                "location"):  # fmt: skip
        if key in cells:
            values[key] = cell.text(cells[key], Activity, key, key.replace("_", " "))
    if "owner" in cells:
        values["owner_id"] = cell.owner_id(cells["owner"], owners)
    if cells.get("direction"):
        direction = DIRECTIONS.get(cells["direction"].strip().lower())
        if direction is None:
            raise ActivityError(f"direction {cells['direction'][:20]!r}: outgoing or incoming")
        values["direction"] = direction
    elif kind == "email":
        values["direction"] = "outgoing"
    if cells.get("from_email"):
        values["from_email"] = next(iter(addresses(cells["from_email"], "from") or []), None)
    for key, label in (("to_emails", "to"), ("cc_emails", "cc"), ("attendees", "attendees")):
        if key in cells:
            values[key] = addresses(cells[key], label)
    for key in ("sent_from_sequence", "sent_from_hub"):
        if key in cells:
            values[key] = cell.boolean(cells[key], key.replace("_", " "))
    if "call_duration_seconds" in cells:
        values["call_duration_seconds"] = cell.whole_number(cells["call_duration_seconds"],
                                                            "duration")  # fmt: skip
    if "deal_id" in cells:
        values["deal_id"] = cell.whole_number(cells["deal_id"], "deal")
    values["meeting_start"] = start
    values["meeting_end"] = when(cells.get("meeting_end", ""), "end")
    values["due_at"] = when(cells.get("due_at", ""), "due date")
    if cells.get("task_status"):
        status = cells["task_status"].strip().lower().replace(" ", "_")
        status = {"done": "completed", "complete": "completed", "not_started": "open"}.get(
            status, status
        )
        if status not in TASK_STATUSES:
            raise ActivityError(f"task status {cells['task_status'][:20]!r}: open or completed")
        values["task_status"] = status
    return values


@dataclass
class Targets:
    """The hub people (by e-mail key) and companies (by domain) activities name."""

    people: dict[str, Person]
    companies: dict[str, Company]

    @classmethod
    def load(cls, s: Session, workspace_id: int, emails: set[str], domains: set[str]) -> Targets:
        people: dict[str, Person] = {}
        for chunk in chunks(sorted(emails)):
            for p in s.scalars(
                select(Person)
                .where(Person.workspace_id == workspace_id, Person.email_key.in_(chunk))
                .order_by(Person.id)
            ):
                people.setdefault(str(p.email_key), p)
        companies: dict[str, Company] = {}
        for chunk in chunks(sorted(domains)):
            for c in s.scalars(
                select(Company).where(
                    Company.workspace_id == workspace_id, Company.domain.in_(chunk)
                )
            ):
                companies[str(c.domain)] = c
        return cls(people, companies)

    def resolve(self, email: str | None, domain: str | None) -> tuple[int | None, int | None]:
        """(person id, company id); ActivityError when one is named and not in the hub."""
        person = company = None
        if email:
            person = self.people.get(email)
            if person is None:
                raise ActivityError(f"no hub person with e-mail {email} (import people first)")
        if domain:
            company = self.companies.get(domain)
            if company is None:
                raise ActivityError(f"no hub company with domain {domain} (import it first)")
        if person is None and company is None:
            raise ActivityError("names no person (e-mail) and no company (domain)")
        company_id = company.id if company else person.company_id if person else None
        return (person.id if person else None), company_id


def record_activity(
    s: Session,
    workspace_id: int,
    values: dict[str, Any],
    *,
    at: datetime | None = None,
    known: dict[tuple[str, str], Activity] | None = None,
) -> tuple[Activity, str]:
    """The hub's one write of an activity: (the row, "created" | "updated" | "unchanged"),
    upserted by (source, source_id). `known`: the rows of those keys already loaded (an
    import's), so that a large file does not look each one up alone."""
    if values.get("kind") not in ACTIVITY_KINDS:
        raise ActivityError(f"kind must be one of {', '.join(ACTIVITY_KINDS)}")
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ActivityError(f"unknown activity fields: {', '.join(sorted(unknown))}")
    if not values.get("source") or not values.get("source_id"):
        raise ActivityError("an activity needs its source and its source's id")
    now = at or utcnow()
    key = (values["source"], values["source_id"])
    if known is not None:
        found = known.get(key)
    else:
        found = s.scalar(
            select(Activity).where(
                Activity.workspace_id == workspace_id,
                Activity.source == key[0],
                Activity.source_id == key[1],
            )
        )
    if found is None:
        if not any(values.get(k) for k in ("person_id", "company_id", "deal_id")):
            raise ActivityError("an activity goes on a person, a company or a deal: none named")
        row = Activity(workspace_id=workspace_id, created_at=now, updated_at=now, **values)
        row.sent_from_sequence = bool(values.get("sent_from_sequence"))
        row.sent_from_hub = bool(values.get("sent_from_hub"))
        s.add(row)
        if known is not None:
            known[key] = row
        return row, "created"
    changed = [k for k, v in values.items() if getattr(found, k) != v]
    for name in changed:
        setattr(found, name, values[name])
    if not changed:
        return found, "unchanged"
    found.updated_at = now
    return found, "updated"


def load_known(
    s: Session, workspace_id: int, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], Activity]:
    """The hub's activities with these (source, source_id) keys."""
    known: dict[tuple[str, str], Activity] = {}
    by_source: dict[str, list[str]] = {}
    for source, source_id in keys:
        by_source.setdefault(source, []).append(source_id)
    for source, ids in by_source.items():
        for chunk in chunks(sorted(ids)):
            for a in s.scalars(
                select(Activity).where(
                    Activity.workspace_id == workspace_id,
                    Activity.source == source,
                    Activity.source_id.in_(chunk),
                )
            ):
                known[(a.source, a.source_id)] = a
    return known


def import_activities(hub: Hub, path: Path, *, strict: bool = False) -> ImportReport:
    table = open_csv(path, ACTIVITY_HEADERS)
    for needed, what in (("kind", "a kind (type)"), ("source_id", "an id")):
        if needed not in table.columns:
            raise ImportFileError(missing_column(table, what))
    if "person_email" not in table.columns and "company_domain" not in table.columns:
        raise ImportFileError(missing_column(table, "a person e-mail or company domain"))
    report = ImportReport()
    report.read(table)
    ws = hub.workspace_id
    with hub.session() as s:
        owners = {
            u.email.lower(): u.id for u in s.scalars(select(User).where(User.workspace_id == ws))
        }
        rows: list[tuple[int, dict[str, Any], str | None, str | None]] = []
        for row in table.rows():
            if isinstance(row, BadRow):
                report.errors.append((row.number, row.reason))
                continue
            try:
                values = activity_values(row.cells, lambda e: owners.get(e.lower()))
                raw_domain = row.cells.get("company_domain", "")
                domain = normalize_domain(raw_domain) if raw_domain else None
                if raw_domain and not domain:
                    raise ActivityError(f"company domain {raw_domain[:80]!r} is not a domain")
                email = email_key(row.cells.get("person_email") or None)
            except ValueError as exc:
                report.errors.append((row.number, str(exc)))
                continue
            rows.append((row.number, values, email, domain))
        targets = Targets.load(
            s, ws, {e for _, _, e, _ in rows if e}, {d for _, _, _, d in rows if d}
        )
        parsed: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        for number, values, email, domain in rows:
            try:
                values["person_id"], values["company_id"] = targets.resolve(email, domain)
            except ActivityError as exc:
                report.errors.append((number, str(exc)))
                continue
            key = (values["source"], values["source_id"])
            if key in parsed:
                report.errors.append((number, f"id {key[1]} already on row {parsed[key][0]}"))
                continue
            parsed[key] = (number, values)
        if strict and report.errors:
            report.written = False
            return report
        known = load_known(s, ws, list(parsed))
        for _, values in parsed.values():
            _, outcome = record_activity(s, ws, values, known=known)
            if outcome == "created":
                report.created += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1
    return report
