"""The hub's front door for deals: a CSV import and the values of one deal given as text, both
through the one write path (hub/edits.py): each changed field is stamped with its change time
and the change is queued for the CRMs.

Import rules (those of people): a deal's company is named by its domain (found, or made) or by
its name; its owner by a hub user's e-mail; its people by their e-mails (each must be in the
hub). A deal is matched again by its hub id (an `id` column) or by its name at its company, so
re-importing a file updates instead of duplicating. Every row is checked before anything is
written; a bad row is reported with its reason and writes nothing (not its company either).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.hub import import_values as cell
from leadbridge.hub.csv_input import BadRow, open_csv
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import create, edit
from leadbridge.hub.imports import ImportFileError, ImportReport, missing_column
from leadbridge.hub.people import Companies, company_of, owner_lookup
from leadbridge.hub.tables import Company, Deal, DealPerson, Person
from leadbridge.normalize import email_key

DEAL_HEADERS = {
    "id": ("deal id", "hub id"),
    "name": ("deal", "deal name", "dealname", "opportunity", "opportunity name"),
    "amount": ("value", "deal amount", "deal value"),
    "currency": ("currency code", "currencyisocode"),
    "close_date": ("close date", "closedate", "expected close date"),
    "pipeline": ("deal pipeline",),
    "stage": ("deal stage", "dealstage", "stagename", "stage name"),
    "owner": ("owner email", "deal owner", "assigned to"),
    "company_domain": ("company domain", "domain", "website", "account domain"),
    "company_name": ("company", "company name", "account", "account name", "organization"),
    "people": ("contacts", "contact emails", "people emails", "emails", "email"),
}
DEAL_FIELDS = ("name", "amount", "currency", "close_date", "pipeline", "stage", "owner")
MAX_AMOUNT = Decimal("9999999999999999.99")  # Numeric(18, 2)
_MONEY = re.compile(r"^-?\d+(\.\d{1,2})?$")
_SPLIT = re.compile(r"[;,\s]+")


def amount(raw: str) -> Decimal | None:
    """`12,500.50`, `12500`, `$ 12 500`; None when blank."""
    text = raw.strip().lstrip("$€£").replace(",", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if not _MONEY.match(text):
        raise ValueError(f"amount {raw[:40]!r} is not a number (like 12500 or 12,500.50)")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"amount {raw[:40]!r} is not a number") from None
    if abs(value) > MAX_AMOUNT:
        raise ValueError(f"amount {raw[:40]!r} is too large")
    return value


def close_date(raw: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"close date {raw[:40]!r} is not a date (YYYY-MM-DD)") from None


def currency(raw: str) -> str | None:
    text = raw.strip().upper()
    if not text:
        return None
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValueError(f"currency {raw[:40]!r} is not a three-letter code (like USD)")
    return text


def deal_field(name: str, raw: str, owners: Callable[[str], int | None]) -> dict[str, Any]:
    """One deal field given as text, as hub values; ValueError says what is wrong."""
    if name == "amount":
        return {"amount": amount(raw)}
    if name == "close_date":
        return {"close_date": close_date(raw)}
    if name == "currency":
        return {"currency": currency(raw)}
    if name == "owner":
        return {"owner_id": cell.owner_id(raw.strip(), owners)}
    if name in ("name", "pipeline", "stage"):
        return {name: cell.text(raw.strip(), Deal, name, name)}
    raise ValueError(f"{name!r} is not a deal field (known: {', '.join(DEAL_FIELDS)})")


@dataclass
class DealRow:
    number: int
    values: dict[str, Any]
    company: tuple[str | None, str | None] | None
    people: list[int]
    deal_id: int | None


def _people(raw: str, by_email: Callable[[str], int | None]) -> list[int]:
    found: list[int] = []
    for address in (a for a in _SPLIT.split(raw.strip()) if a):
        key = email_key(address)
        person = by_email(key) if key else None
        if person is None:
            raise ValueError(f"person {address[:80]!r} is not in the hub (import people first)")
        if person not in found:
            found.append(person)
    return found


def _row(
    number: int,
    cells: dict[str, str],
    owners: Callable[[str], int | None],
    people: Callable[[str], int | None],
) -> DealRow:
    values: dict[str, Any] = {}
    for key in DEAL_FIELDS:
        if key in cells:
            values.update(deal_field(key, cells[key], owners))
    raw_id = cells.get("id", "").strip()
    if raw_id and not raw_id.isdigit():
        raise ValueError(f"id {raw_id[:40]!r} is not a hub deal id")
    if not values.get("name") and not raw_id:
        raise ValueError("missing deal name")
    return DealRow(
        number,
        values,
        company_of(cells),
        _people(cells.get("people", ""), people),
        int(raw_id) if raw_id else None,
    )


def import_deals(hub: Hub, path: Path, *, strict: bool = False) -> ImportReport:
    table = open_csv(path, DEAL_HEADERS)
    if "name" not in table.columns and "id" not in table.columns:
        raise ImportFileError(missing_column(table, "a deal name (or id)"))
    report = ImportReport()
    report.read(table)
    ws = hub.workspace_id
    with hub.session() as s:
        owners = owner_lookup(s, ws)
        emails = {
            str(k): i
            for i, k in s.execute(
                select(Person.id, Person.email_key).where(
                    Person.workspace_id == ws, Person.email_key.is_not(None)
                )
            )
        }
        known_ids = set(s.scalars(select(Deal.id).where(Deal.workspace_id == ws)))
        rows: list[DealRow] = []
        seen: dict[tuple[str, str], int] = {}
        for raw in table.rows():
            if isinstance(raw, BadRow):
                report.errors.append((raw.number, raw.reason))
                continue
            try:
                row = _row(raw.number, raw.cells, owners, emails.get)
            except ValueError as exc:
                report.errors.append((raw.number, str(exc)))
                continue
            if row.deal_id is not None and row.deal_id not in known_ids:
                report.errors.append((row.number, f"no hub deal has id {row.deal_id}"))
                continue
            key = (str(row.values.get("name") or "").lower(), repr(row.company))
            if row.deal_id is None and key in seen:
                report.errors.append((row.number, f"deal {key[0]!r} already on row {seen[key]}"))
                continue
            seen[key] = row.number
            rows.append(row)
        if strict and report.errors:
            report.written = False
            return report
        companies = Companies.load(s, ws)
        for row in rows:
            values = dict(row.values)
            if row.company is not None:
                values["company_id"] = companies.find_or_make(s, ws, *row.company).id
            deal = (
                s.get(Deal, row.deal_id)
                if row.deal_id is not None
                else find_by_name(s, ws, str(values.get("name")), values.get("company_id"))
            )
            if deal is None:
                deal = create(s, Deal(workspace_id=ws), values, origin="user")
                report.created += 1
            elif edit(s, deal, values, origin="user"):
                report.updated += 1
            else:
                report.unchanged += 1
            set_people(s, deal, row.people)
    return report


def find_by_name(s: Session, workspace_id: int, name: str, company_id: int | None) -> Deal | None:
    return s.scalar(
        select(Deal)
        .where(
            Deal.workspace_id == workspace_id,
            Deal.name == name,
            Deal.company_id.is_(None) if company_id is None else Deal.company_id == company_id,
        )
        .order_by(Deal.id)
    )


def set_people(s: Session, deal: Deal, person_ids: Sequence[int]) -> None:
    """Adds these people to the deal (people already on it stay)."""
    have = set(s.scalars(select(DealPerson.person_id).where(DealPerson.deal_id == deal.id)))
    for pid in person_ids:
        if pid not in have:
            s.add(DealPerson(workspace_id=deal.workspace_id, deal_id=deal.id, person_id=pid))


def deal_people(s: Session, deal_ids: Sequence[int]) -> dict[int, list[str]]:
    """E-mails of the people on each deal."""
    out: dict[int, list[str]] = {}
    rows = s.execute(
        select(DealPerson.deal_id, Person.email)
        .join(Person, Person.id == DealPerson.person_id)
        .where(DealPerson.deal_id.in_(list(deal_ids)))
        .order_by(DealPerson.id)
    )
    for deal_id, email in rows:
        out.setdefault(deal_id, []).append(email or "")
    return out


@dataclass(frozen=True)
class DealLine:
    id: int
    name: str | None
    amount: Decimal | None
    currency: str | None
    close_date: date | None
    pipeline: str | None
    stage: str | None
    company: str | None
    owner: str | None
    people: list[str]
    updated_at: datetime


def list_deals(hub: Hub, *, hidden: bool = False, limit: int = 200) -> list[DealLine]:
    """The hub's deals, newest change first; deals of a hidden sync only with `hidden`."""
    from leadbridge.hub.tables import User

    ws = hub.workspace_id
    with hub.session() as s:
        query = (
            select(Deal, Company.name, Company.domain, User.email)
            .outerjoin(Company, Company.id == Deal.company_id)
            .outerjoin(User, User.id == Deal.owner_id)
            .where(Deal.workspace_id == ws)
            .order_by(Deal.updated_at.desc(), Deal.id.desc())
            .limit(limit)
        )
        if not hidden:
            query = query.where(Deal.hidden.is_(False))
        found = list(s.execute(query))
        people = deal_people(s, [d.id for d, *_ in found])
        return [
            DealLine(
                d.id,
                d.name,
                d.amount,
                d.currency,
                d.close_date,
                d.pipeline,
                d.stage,
                cname or cdomain,
                owner,
                people.get(d.id, []),
                d.updated_at,
            )
            for d, cname, cdomain, owner in found
        ]


def from_json(values: dict[str, Any]) -> dict[str, Any]:
    """Deal values as a journal keeps them (amounts as numbers, dates as text), as hub values."""
    out = dict(values)
    if out.get("amount") is not None:
        out["amount"] = Decimal(str(out["amount"])).quantize(Decimal("0.01"))
    if isinstance(out.get("close_date"), str):
        out["close_date"] = date.fromisoformat(out["close_date"][:10])
    return out
