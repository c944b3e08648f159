"""The duplicate guard on creates: a hub person about to be created (no CRM record has their
e-mail) whose name matches a live CRM person at their company's domain — the duplicate audit's
matcher, same evidence, same judgement — is held as a possible duplicate of that record instead
(an error in the plan, `explain` and the error log), until a person pushes it with
`--allow-duplicate` or corrects the data.

Cheap by construction: it runs only for planned creates, and each is compared only with the
CRM people of its own domain (their e-mail's domain, their own website field, or their company's
domain in the mirror), found by a few indexed queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from leadbridge.connectors.catalog import Stream
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.push.decide import Decision, Facts
from leadbridge.hub.store import chunks
from leadbridge.hub.tables import Company, CrmRecord, Person
from leadbridge.match import Entity, Match, possible_duplicates
from leadbridge.normalize.domain import normalize_domain
from leadbridge.normalize.email import FREE_MAIL, email_parts

PERSON_ROLES = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile_phone",
    "company": "company_name",
    "domain": "domain",
}
# The evidence in the reason, in this order (not by weight, which moves with the mirror's
# contents: the same problem keeps the same message, so the error log counts it once).
SHOWN_ORDER = ("first name", "last name", "e-mail", "phone", "company domain", "company")


def person_domain(person: Person, company: Company | None) -> str | None:
    """The company domain a person is matched at: their company's, else a work e-mail's."""
    if company is not None:
        domain = normalize_domain(company.domain or company.website)
        if domain:
            return domain
    domain = email_parts(person.email_key or "")[1] if person.email_key else None
    return None if not domain or domain in FREE_MAIL else domain


def _entity(person: Person, company: Company | None, domain: str) -> Entity:
    return Entity(
        ref=f"hub person {person.id}",
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        phone=person.phone,
        mobile=person.mobile_phone,
        company=company.name if company else None,
        domain=domain,
    )


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _pool(
    s: Session, ctx: SyncContext, domains: Sequence[str]
) -> dict[str, list[tuple[Stream, CrmRecord, dict[str, str | None]]]]:
    """Live CRM people per domain: by their e-mail's domain, their own domain field, or their
    company's domain (through the relation)."""
    company_stream = ctx.company()
    companies: dict[str, tuple[str, str | None]] = {}  # remote id -> (domain, name)
    for domain, rows in ctx.mirror.by_key(s, company_stream.name, "domain_key", domains).items():
        for row in rows:
            companies[row.remote_id] = (domain, _text(company_stream.value(row.fields, "name")))
    out: dict[str, list[tuple[Stream, CrmRecord, dict[str, str | None]]]] = {}
    wanted = set(domains)
    for stream in ctx.people():
        relation = stream.company
        found: dict[str, CrmRecord] = {}
        for chunk in chunks(list(domains), 50):
            conditions: list[Any] = [CrmRecord.domain_key.in_(chunk)]
            conditions += [CrmRecord.email_key.like(f"%@{d}") for d in chunk]
            if relation is not None and relation.field:
                ids = [rid for rid, (d, _) in companies.items() if d in chunk]
                for part in chunks(ids):
                    conditions.append(CrmRecord.fields[relation.field].as_string().in_(part))
            query = ctx.mirror.query(stream.name).where(
                CrmRecord.deleted.is_(False), CrmRecord.event.is_(None), or_(*conditions)
            )
            for row in s.scalars(query):
                found[row.remote_id] = row
        for row in found.values():
            values: dict[str, str | None] = {
                k: _text(stream.value(row.fields, r)) for k, r in PERSON_ROLES.items()
            }
            linked = None
            if relation is not None and relation.field and row.fields.get(relation.field):
                linked = companies.get(str(row.fields[relation.field]))
            domains_of = {
                normalize_domain(values.get("domain")),
                email_parts(row.email_key or "")[1] if row.email_key else None,
                linked[0] if linked else None,
            }
            if linked and not values.get("company"):
                values["company"] = linked[1]
            for at in domains_of & wanted:
                values_at = {**values, "domain": at}
                out.setdefault(str(at), []).append((stream, row, values_at))
    return out


def hold_possible_duplicates(
    ctx: SyncContext,
    decisions: Iterable[Decision],
    facts: dict[int, Facts],
    threshold: float,
) -> int:
    """Planned person creates that the matcher finds in the CRM become errors naming the
    record and the evidence. Returns how many were held."""
    creates = [d for d in decisions if d.action == "create" and d.hub_object == "person"]
    wanted: dict[int, str] = {}
    for d in creates:
        person = facts[d.hub_id].record
        assert isinstance(person, Person)
        domain = person_domain(person, facts[d.hub_id].company)
        if domain:
            wanted[d.hub_id] = domain
    if not wanted:
        return 0
    with ctx.hub.session() as s:
        pool = _pool(s, ctx, sorted(set(wanted.values())))
    held = 0
    for d in creates:
        domain = wanted.get(d.hub_id)
        rows = pool.get(domain or "", [])
        if not rows or domain is None:
            continue
        person = facts[d.hub_id].record
        assert isinstance(person, Person)
        candidate = _entity(person, facts[d.hub_id].company, domain)
        others = [
            Entity(f"{ctx.label} {stream.one()} {row.remote_id}", **values)
            for stream, row, values in rows
        ]
        matches = [m for m in possible_duplicates(candidate, others, threshold) if _named(m)]
        if not matches:
            continue
        stream, row, _ = rows[matches[0].index]
        _hold(d, ctx.label, stream, row.remote_id, matches[0], person)
        held += 1
    return held


# A create is held only on a whole name: both first and last name present on both sides and
# agreeing (exactly, as a nickname, or with a typo). With a missing first name, a last name and
# a domain in common is too little to stop a create ("K21" and "K213" at one company).
NAME_AGREES = ("same", "nickname", "similar")


def _named(match: Match) -> bool:
    levels = {a.field: a.level for a in match.evidence}
    return all(levels.get(f) in NAME_AGREES for f in ("first name", "last name"))


def _hold(
    d: Decision, label: str, stream: Stream, remote_id: str, match: Match, person: Person
) -> None:
    agreements = {a.field: a for a in match.evidence if a.level != "missing"}
    shown = [agreements[f].describe() for f in SHOWN_ORDER if f in agreements]
    d.action = "error"
    d.stream, d.remote_id = stream.name, remote_id
    d.values, d.account = {}, None
    d.reason = (
        f"possible duplicate of {label} {stream.one()} {remote_id} "
        f"({'; '.join(shown)}): not created"
    )
    who = person.email or str(person.id)
    d.hint = (
        f"if it is another person, push it with `leadbridge push {who} --allow-duplicate`; if "
        f"it is the same, merge or correct the e-mail in the hub or in {label} (the next pull "
        "links them)"
    )
