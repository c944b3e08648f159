"""The hub's front door for people: a CSV import (upsert by e-mail), and one person's fields
set by hand (`leadbridge edit person`), both through the one write path (hub/edits.py): each
changed field is stamped with its change time and the change is queued for the CRMs.

A person's company is named by its domain (found, or made) or by its name (found by the
normalised name, or made); custom fields are `custom.<name>` columns; a `tags` column
(`;`-separated) adds tags to the person.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.hub import import_values as cell
from leadbridge.hub.csv_input import BadRow, open_csv
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import EditError, create, edit
from leadbridge.hub.imports import ImportFileError, ImportReport, missing_column
from leadbridge.hub.store import chunks
from leadbridge.hub.tables import Company, Person, User
from leadbridge.hub.tags import tags_by_person
from leadbridge.normalize import company_name_key, email_key, normalize_domain

PEOPLE_HEADERS = {
    "email": ("e-mail", "email address", "work email"),
    "email_status": ("email status", "e-mail status", "email verified", "verified"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "title": ("job title", "position"),
    "phone": ("work phone", "phone number", "direct phone"),
    "mobile_phone": ("mobile", "mobile phone", "cell", "cell phone"),
    "company_domain": ("company domain", "domain", "website", "company website"),
    "company_name": ("company", "company name", "organization", "account", "account name"),
    "stage": ("contact stage",),
    "lead_status": ("lead status", "status"),
    "owner": ("owner email", "assigned user", "assigned to"),
    "source": ("lead source",),
    "tags": ("tag", "lists", "list"),  # `;`-separated; an import adds them (hub/tags.py)
}
CUSTOM_HEADER = re.compile(r"^custom\s*[.:]\s*([a-z_][a-z0-9_ ]*)$")


@dataclass
class Companies:
    """The hub's companies by domain and by name key, and the ones a run makes (new ones are
    made once, however many people name them)."""

    by_domain: dict[str, Company] = field(default_factory=dict)
    by_name: dict[str, Company] = field(default_factory=dict)

    @classmethod
    def load(cls, s: Session, workspace_id: int) -> Companies:
        out = cls()
        rows = s.scalars(
            select(Company).where(Company.workspace_id == workspace_id).order_by(Company.id)
        )
        for c in rows:
            out.add(c)
        return out

    def add(self, company: Company) -> None:
        if company.domain:
            self.by_domain.setdefault(company.domain, company)
        key = company_name_key(company.name)
        if key:
            self.by_name.setdefault(key, company)

    def find_or_make(
        self, s: Session, workspace_id: int, domain: str | None, name: str | None
    ) -> Company:
        found = self.by_domain.get(domain) if domain else None
        if found is None and not domain:
            found = self.by_name.get(company_name_key(name) or "")
        if found is None:  # a company only the people file knows: not a lead
            values = {"domain": domain, "name": name, "is_lead": False}
            found = create(s, Company(workspace_id=workspace_id), values, origin="user")
            self.add(found)
        return found


def company_of(cells: dict[str, str]) -> tuple[str | None, str | None] | None:
    """(domain, name) the row names its company by; None when it names none."""
    raw_domain, name = cells.get("company_domain", ""), cells.get("company_name", "")
    if not raw_domain and not name:
        return None
    domain = normalize_domain(raw_domain) if raw_domain else None
    if raw_domain and not domain:
        raise ValueError(f"company domain {raw_domain[:80]!r} is not a domain")
    return domain, cell.text(name, Company, "name", "company name")


def person_values(cells: dict[str, str], owners: Callable[[str], int | None]) -> dict[str, Any]:
    """The row's person fields as hub values (its company aside)."""
    values: dict[str, Any] = {}
    for key, raw in cells.items():
        if key in ("company_domain", "company_name"):
            continue
        custom = CUSTOM_HEADER.match(key)
        if custom:
            values[f"custom.{custom.group(1).strip().replace(' ', '_')}"] = raw or None
        elif key in PEOPLE_HEADERS:
            values.update(cell.person_field(key, raw, owners))
    return values


def import_people(hub: Hub, path: Path, *, strict: bool = False) -> ImportReport:
    table = open_csv(path, PEOPLE_HEADERS)
    if "email" not in table.columns:
        raise ImportFileError(missing_column(table, "an email"))
    report = ImportReport()
    report.read(table)
    ws = hub.workspace_id
    with hub.session() as s:
        owners = {
            u.email.lower(): u.id for u in s.scalars(select(User).where(User.workspace_id == ws))
        }
        parsed: dict[str, tuple[int, dict[str, Any], tuple[str | None, str | None] | None]] = {}
        for row in table.rows():
            if isinstance(row, BadRow):
                report.errors.append((row.number, row.reason))
                continue
            try:
                values = person_values(row.cells, lambda e: owners.get(e.lower()))
                company = company_of(row.cells)
            except ValueError as exc:
                report.errors.append((row.number, str(exc)))
                continue
            key = email_key(values.get("email"))
            if not key:
                report.errors.append((row.number, "missing e-mail (people are matched by it)"))
                continue
            if key in parsed:
                report.errors.append((row.number, f"e-mail {key} already on row {parsed[key][0]}"))
                continue
            parsed[key] = (row.number, values, company)
        if strict and report.errors:
            report.written = False
            return report
        existing: dict[str, Person] = {}
        for chunk in chunks(sorted(parsed)):
            for p in s.scalars(
                select(Person)
                .where(Person.workspace_id == ws, Person.email_key.in_(chunk))
                .order_by(Person.id)
            ):
                existing.setdefault(str(p.email_key), p)
        companies = Companies.load(s, ws)
        # A file's tags are added to a person's, never taken away (`edit --untag` does that).
        had = (
            tags_by_person(s, [p.id for p in existing.values()]) if "tags" in table.columns else {}
        )
        for key, (_, values, company) in parsed.items():
            if company is not None:
                values["company_id"] = companies.find_or_make(s, ws, *company).id
            person = existing.get(key)
            if person is not None and "tags" in values:
                values["tags"] = [*had.get(person.id, []), *values["tags"]]
            if person is None:
                values.setdefault("email_status", "unverified")
                create(s, Person(workspace_id=ws), values, origin="user")
                report.created += 1
            elif edit(s, person, values, origin="user"):
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def find_person(s: Session, workspace_id: int, key: str) -> Person | None:
    """A person by hub id or e-mail."""
    query = select(Person).where(Person.workspace_id == workspace_id)
    if key.isdigit():
        return s.scalar(query.where(Person.id == int(key)))
    return s.scalar(query.where(Person.email_key == email_key(key)).order_by(Person.id))


def find_company(s: Session, workspace_id: int, key: str) -> Company | None:
    """A company by hub id, domain, or name."""
    query = select(Company).where(Company.workspace_id == workspace_id)
    if key.isdigit():
        return s.scalar(query.where(Company.id == int(key)))
    domain = normalize_domain(key)
    if domain:
        found = s.scalar(query.where(Company.domain == domain))
        if found is not None:
            return found
    return s.scalar(query.where(func.lower(Company.name) == key.strip().lower()))


def owner_lookup(s: Session, workspace_id: int) -> Callable[[str], int | None]:
    """Hub users by e-mail (case-insensitive), for `owner` values."""
    found = {
        u.email.lower(): u.id
        for u in s.scalars(select(User).where(User.workspace_id == workspace_id))
    }
    return lambda email: found.get(email.lower())


def person_changes(s: Session, workspace_id: int, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Hub values of a person's fields given as text (`leadbridge edit`, the REST API, the
    pages); `company` is a domain or a name, found or made. EditError says what is wrong."""
    owners = owner_lookup(s, workspace_id)
    values: dict[str, Any] = {}
    for name, raw in pairs:
        if name == "company":
            domain = normalize_domain(raw)
            company = (
                Companies.load(s, workspace_id).find_or_make(
                    s, workspace_id, domain, None if domain else raw
                )
                if raw
                else None
            )
            values["company_id"] = company.id if company else None
            continue
        try:
            values.update(cell.person_field(name, raw, owners))
        except ValueError as exc:
            raise EditError(str(exc)) from None
    return values


def company_changes(
    s: Session, workspace_id: int, pairs: list[tuple[str, str]], stages: list[str]
) -> dict[str, Any]:
    """Hub values of a company's fields given as text; EditError says what is wrong."""
    owners = owner_lookup(s, workspace_id)
    values: dict[str, Any] = {}
    for name, raw in pairs:
        try:
            values.update(cell.company_field(name, raw, owners, stages))
        except ValueError as exc:
            raise EditError(str(exc)) from None
    return values
