"""What the audit looks at, as the matcher's records: a CRM connection's records from the hub's
mirror (fields found by the catalog's roles, a person's company through its relation), and the
hub's own people and companies. Reads the hub only: no API call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.connectors.catalog import Catalog, Stream
from leadbridge.hub.mirror import MirrorStore
from leadbridge.hub.tables import Company, CrmRecord, Person, RecordLink
from leadbridge.match import FIELDS, Records
from leadbridge.match.records import Kind

PERSON_ROLES = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile_phone",
    "company": "company_name",
    "domain": "domain",
}
# The record's own address (a person's mailing address, a company's billing address).
ADDRESS_ROLES = {"street": "street", "city": "city", "postcode": "postcode", "country": "country"}
PERSON_ROLES |= ADDRESS_ROLES
COMPANY_ROLES = {"company": "name", "domain": "domain", "phone": "phone", **ADDRESS_ROLES}


@dataclass
class Source:
    """Records of one kind with what the report and the hygiene checks need besides."""

    records: Records
    names: list[str] = field(default_factory=list)  # how each record is shown
    modified: list[datetime | None] = field(default_factory=list)  # last activity (CRM)
    hub_ids: list[int] = field(default_factory=list)  # hub records: their ids

    @classmethod
    def empty(cls, kind: Kind) -> Source:
        assert kind in ("person", "company")
        return cls(Records(kind, [], {}))


def _display(values: dict[str, Any], kind: str) -> str:
    if kind == "company":
        return str(values.get("company") or values.get("domain") or "")
    name = " ".join(str(values[k]) for k in ("first_name", "last_name") if values.get(k))
    email = values.get("email")
    return f"{name} <{email}>" if email and name else str(name or email or "")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def crm_records(s: Session, mirror: MirrorStore, catalog: Catalog, kind: Kind) -> Source:
    """The live records (not deleted, converted or merged away) of one kind's streams."""
    streams = catalog.of_kind(kind)
    companies: dict[tuple[str, str], dict[str, Any]] = {}
    if kind == "person":
        for stream in catalog.of_kind("company"):
            for row in s.scalars(mirror.query(stream.name)):
                companies[(stream.name, row.remote_id)] = {
                    "company": _text(stream.value(row.fields, "name")),
                    "domain": _text(stream.value(row.fields, "domain")),
                }
    refs: list[str] = []
    columns: dict[str, list[str | None]] = {name: [] for name in FIELDS}
    names: list[str] = []
    modified: list[datetime | None] = []
    roles = PERSON_ROLES if kind == "person" else COMPANY_ROLES
    for stream in streams:
        query = mirror.query(stream.name).where(
            CrmRecord.deleted.is_(False), CrmRecord.event.is_(None)
        )
        for row in s.scalars(query.order_by(CrmRecord.remote_id)):
            values = {k: _text(stream.value(row.fields, role)) for k, role in roles.items()}
            company = _company_of(stream, row.fields, companies)
            for key in ("company", "domain"):
                if kind == "person" and not values.get(key):
                    values[key] = company.get(key)
            refs.append(f"{catalog.label} {stream.name} {row.remote_id}")
            for name in FIELDS:
                columns[name].append(values.get(name))
            names.append(_display(values, kind))
            modified.append(row.modified_at)
    return Source(Records(kind, refs, columns), names, modified)


def _company_of(
    stream: Stream, fields: dict[str, Any], companies: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    relation = stream.company
    if relation is None or not relation.field or not fields.get(relation.field):
        return {}
    return companies.get((relation.target, str(fields[relation.field])), {})


def hub_people(s: Session, workspace_id: int, exclude: set[int] | None = None) -> Source:
    """The hub's people (less `exclude`), with their company's name and domain."""
    query = (
        select(Person, Company.name, Company.domain)
        .outerjoin(Company, Company.id == Person.company_id)
        .where(Person.workspace_id == workspace_id, Person.deleted_at.is_(None))
        .order_by(Person.id)
    )
    refs: list[str] = []
    columns: dict[str, list[str | None]] = {name: [] for name in FIELDS}
    names: list[str] = []
    ids: list[int] = []
    for person, company, domain in s.execute(query):
        if exclude and person.id in exclude:
            continue
        values = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "mobile": person.mobile_phone,
            "company": company,
            "domain": domain,
        }
        refs.append(f"hub person {person.id}")
        for name in FIELDS:
            columns[name].append(values.get(name))
        names.append(_display(values, "person"))
        ids.append(person.id)
    return Source(Records("person", refs, columns), names, [None] * len(refs), ids)


def hub_companies(s: Session, workspace_id: int) -> Source:
    refs: list[str] = []
    columns: dict[str, list[str | None]] = {name: [] for name in FIELDS}
    names: list[str] = []
    ids: list[int] = []
    query = (
        select(Company)
        .where(Company.workspace_id == workspace_id, Company.deleted_at.is_(None))
        .order_by(Company.id)
    )
    for company in s.scalars(query):
        values = {"company": company.name, "domain": company.website or company.domain}
        refs.append(f"hub company {company.id}")
        for name in FIELDS:
            columns[name].append(values.get(name))
        names.append(_display(values, "company"))
        ids.append(company.id)
    return Source(Records("company", refs, columns), names, [None] * len(refs), ids)


def linked_people(s: Session, workspace_id: int, system: str, scope: str) -> set[int]:
    """Hub people linked to a record of this CRM scope."""
    return set(
        s.scalars(
            select(RecordLink.hub_id).where(
                RecordLink.workspace_id == workspace_id,
                RecordLink.remote_system == system,
                RecordLink.remote_scope == scope,
                RecordLink.hub_object == "person",
                RecordLink.remote_id.is_not(None),
            )
        )
    )


def joined(first: Source, second: Source) -> Source:
    """Two sources of one kind as one, each a group of its own (pairs across them only)."""
    records = Records(
        first.records.kind,
        first.records.refs + second.records.refs,
        {k: first.records.columns[k] + second.records.columns[k] for k in FIELDS},
        [0] * len(first.records) + [1] * len(second.records),
    )
    return Source(
        records,
        first.names + second.names,
        first.modified + second.modified,
        first.hub_ids + second.hub_ids,
    )
