"""Gathering what the push classifier looks at, for many records in a few queries: their links,
the mirror rows of what they are linked to, and the unlinked ones' candidates by e-mail, domain
and name (with which hub record each candidate is already linked to)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.push.decide import Facts, Shape, active_link
from leadbridge.hub.store import by_ids
from leadbridge.hub.tables import Company, CrmRecord, Person
from leadbridge.normalize import company_name_key


def gather(
    s: Session,
    ctx: SyncContext,
    shape: Shape,
    people: Sequence[Person],
    companies: Sequence[Company],
) -> tuple[dict[int, Facts], dict[int, Facts]]:
    company_stream = shape.company.name
    person_streams = [p.name for p in shape.people]
    company_ids = {c.id for c in companies} | {p.company_id for p in people if p.company_id}
    all_companies = {c.id: c for c in companies}
    all_companies.update(by_ids(s, Company, [i for i in company_ids if i not in all_companies]))
    company_links = ctx.links.of_hub(s, "company", list(all_companies))
    person_links = ctx.links.of_hub(s, "person", [p.id for p in people])
    remote: dict[str, list[str]] = {}
    for links in (*company_links.values(), *person_links.values()):
        for kind, link in links.items():
            if link.remote_id:
                remote.setdefault(kind, []).append(link.remote_id)
    mirror: dict[str, CrmRecord] = {}
    for kind, ids in remote.items():
        mirror.update(ctx.mirror.get(s, kind, ids))
    unlinked_people = [
        p for p in people if not active_link(person_links.get(p.id, {}), person_streams)
    ]
    emails = {p.email_key for p in unlinked_people if p.email_key}
    by_email = {name: ctx.mirror.by_key(s, name, "email_key", emails) for name in person_streams}
    unlinked_companies = [
        c
        for c in all_companies.values()
        if not active_link(company_links.get(c.id, {}), [company_stream])
    ]
    by_domain = ctx.mirror.by_key(
        s, company_stream, "domain_key", [c.domain for c in unlinked_companies if c.domain]
    )
    names = {c.id: company_name_key(c.name) for c in unlinked_companies}
    by_name = ctx.mirror.by_key(s, company_stream, "name_key", [n for n in names.values() if n])
    to_remote, _ = ctx.users.owners(s)
    taken: dict[tuple[str, str], int] = {}
    for kind, groups in (
        *by_email.items(),
        (company_stream, by_domain),
        (company_stream, by_name),
    ):
        ids = [r.remote_id for rows in groups.values() for r in rows]
        for rid, link in ctx.links.of_remote(s, kind, ids).items():
            taken[(kind, rid)] = link.hub_id

    def company_facts(c: Company) -> Facts:
        domain_rows = by_domain.get(c.domain or "", [])
        name_rows = [] if domain_rows else by_name.get(names.get(c.id) or "", [])
        return Facts(
            c,
            None,
            {},
            company_links.get(c.id, {}),
            mirror,
            {},
            domain_rows,
            name_rows,
            to_remote,
            taken,
        )

    company_out = {c.id: company_facts(c) for c in all_companies.values()}
    people_out: dict[int, Facts] = {}
    for p in people:
        company = all_companies.get(p.company_id) if p.company_id else None
        cf = company_out.get(company.id) if company else None
        people_out[p.id] = Facts(
            p,
            company,
            person_links.get(p.id, {}),
            cf.company_links if cf else {},
            mirror,
            {kind: rows.get(p.email_key or "", []) for kind, rows in by_email.items()},
            cf.company_by_domain if cf else [],
            cf.company_by_name if cf else [],
            to_remote,
            taken,
        )
    return people_out, company_out
