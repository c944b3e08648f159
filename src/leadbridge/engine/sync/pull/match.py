"""Which hub record an unlinked remote record belongs to: matched by e-mail (people) or domain,
then name (companies), or adopted as the answer of a create we sent but never recorded;
otherwise the hub gets a new record. Ambiguity and duplicates are flagged, never guessed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from leadbridge.connectors.catalog import Stream
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.pull.reconcile import Lookups, by_name
from leadbridge.engine.sync.pull.run import PullReport
from leadbridge.engine.sync.resolve import same
from leadbridge.hub.store import by_ids, log_error
from leadbridge.hub.tables import Company, CrmRecord, Person, RecordLink
from leadbridge.normalize import company_name_key, email_key


def flag(
    s: Session,
    ctx: SyncContext,
    run_id: int,
    record: Person | Company,
    message: str,
    remote_id: str,
) -> None:
    if record.potential_duplicate == message:
        return
    record.potential_duplicate = message
    log_error(
        s,
        workspace_id=ctx.workspace_id,
        job="crm_duplicates",
        error_class="potential_duplicate",
        message=message,
        run_id=run_id,
        connection_id=ctx.connection.id,
        hub_object="person" if isinstance(record, Person) else "company",
        hub_id=record.id,
        remote_id=remote_id,
        hint=f"merge the records in {ctx.label} (leadbridge never merges them silently)",
    )


def match(
    s: Session, ctx: SyncContext, report: PullReport, look: Lookups, stream: Stream, row: CrmRecord
) -> Person | Company | None:
    """The hub record an unlinked remote record belongs to, created when there is none; None
    when the record is skipped (a person shadowed by a winning variant, a duplicate)."""
    if stream.kind == "company":
        return match_company(s, ctx, report, look, stream, row)
    f = row.fields
    candidates = look.people_by_email.get(row.email_key or "", []) if row.email_key else []
    person = candidates[0] if candidates else sent_by_us(look, stream, row)
    if person is not None:
        linked = look.links_of("person", person.id)
        winner = next(
            (p for p in ctx.people() if p.rank < stream.rank and _live(linked.get(p.name))), None
        )
        if winner is not None:  # keep the winning variant: this one is not linked
            report.add(f"{stream.many()}_shadowed_by_{winner.one()}")
            return None
        other = linked.get(stream.name)
        if other is not None and other.remote_id and other.remote_id != row.remote_id:
            flag(
                s,
                ctx,
                report.run_id,
                person,
                f"potential duplicate: {ctx.label} {stream.many()} {other.remote_id} and "
                f"{row.remote_id} have the same e-mail",
                row.remote_id,
            )
            report.add("potential_duplicates")
            return None
        if other is not None and not other.remote_id:
            s.delete(other)  # a create intent the CRM already holds: adopt instead
            s.flush()
            del linked[stream.name]
        return person
    email = stream.value(f, "email")
    person = Person(
        workspace_id=ctx.workspace_id,
        first_name=stream.value(f, "first_name"),
        last_name=stream.value(f, "last_name"),
        email=email,
        email_key=email_key(email),
        email_status="unverified",
    )
    company_name = stream.value(f, "company_name")
    if company_name:
        person.company_id = by_name(s, ctx, report).get(company_name_key(company_name) or "")
    s.add(person)
    s.flush()
    look.people[person.id] = person
    if person.email_key:
        look.people_by_email.setdefault(person.email_key, []).append(person)
    report.add("hub_created_person")
    return person


def _live(link: RecordLink | None) -> bool:
    return link is not None and link.remote_id is not None


def sent_by_us(look: Lookups, stream: Stream, row: CrmRecord) -> Person | None:
    """The hub person whose create we sent with exactly these values but never recorded the
    answer of (a run killed in between): it is adopted, not pulled in as someone new."""
    key = str(stream.value(row.fields, "last_name") or "").strip().lower()
    candidates = look.intents.get(key, [])
    for intent in candidates:
        sent = intent.pushed or {}
        if sent and all(same(row.fields.get(k), v) for k, v in sent.items()):
            candidates.remove(intent)
            return look.people.get(intent.hub_id)
    return None


def match_company(
    s: Session, ctx: SyncContext, report: PullReport, look: Lookups, stream: Stream, row: CrmRecord
) -> Company | None:
    company = look.companies_by_domain.get(row.domain_key) if row.domain_key else None
    if company is None and row.name_key:
        company_id = by_name(s, ctx, report).get(row.name_key)
        company = look.companies.get(company_id) if company_id else None
        if company is not None and company.domain and row.domain_key:
            company = None  # same name, different domains: different companies
    if company is not None and company.deleted_at is not None:
        report.add(f"{stream.many()}_of_deleted_companies")
        return None  # deleted (or merged away) in the hub: not made again, not relinked
    if company is not None:
        other = look.links_of("company", company.id).get(stream.name)
        if other is not None and not other.remote_id:
            s.delete(other)  # a create intent the CRM already holds: adopt instead
            s.flush()
            del look.links_of("company", company.id)[stream.name]
            other = None
        key = ("domain_key", row.domain_key) if row.domain_key else ("name_key", row.name_key)
        rivals = look.rivals.get((key[0], str(key[1])), [])
        if other is None and len(rivals) > 1:
            flag(
                s,
                ctx,
                report.run_id,
                company,
                f"ambiguous: {ctx.label} {stream.many()} "
                f"{', '.join(r.remote_id for r in rivals)} all match this company; merge them "
                f"in {ctx.label}",
                row.remote_id,
            )
            report.add("ambiguous_accounts")
            return None
        if other is not None and other.remote_id != row.remote_id:
            flag(
                s,
                ctx,
                report.run_id,
                company,
                f"potential duplicate: {ctx.label} {stream.many()} {other.remote_id} and "
                f"{row.remote_id} both look like this company",
                row.remote_id,
            )
            report.add("potential_duplicates")
            return None
        return company
    company = Company(
        workspace_id=ctx.workspace_id,
        name=stream.value(row.fields, "name"),
        domain=row.domain_key,
        is_lead=False,
    )
    s.add(company)
    s.flush()
    look.companies[company.id] = company
    if row.domain_key:
        look.companies_by_domain.setdefault(row.domain_key, company)
    if row.name_key:
        by_name(s, ctx, report).setdefault(row.name_key, company.id)
    report.add("hub_created_company")
    return company


def follow_conversions(
    s: Session,
    ctx: SyncContext,
    report: PullReport,
    converted: list[tuple[CrmRecord, RecordLink]],
) -> None:
    """Records converted into others (leads into contacts and accounts): each hub person now
    lives on as the new person record, and its company is linked to the new company. A chunk's
    conversions at once, a query per kind of lookup (not a dozen statements a lead)."""
    if not converted:
        return
    people = by_ids(s, Person, [link.hub_id for _, link in converted])
    company_stream = ctx.company()
    moves: list[tuple[Person, Stream, str, dict[str, Any], str | None, str]] = []
    for row, link in converted:
        into: dict[str, Any] = {name: rid for name, rid in (row.event_into or [])}
        person_stream = next((p for p in ctx.people() if p.name in into), None)
        pushed = dict(link.pushed or {})
        s.delete(link)
        person = people.get(link.hub_id)
        if person is not None and person_stream is not None:
            company_id = into.get(company_stream.name)
            target = str(into[person_stream.name])
            moves.append((person, person_stream, target, pushed, company_id, row.object))
    s.flush()  # the leads' links go in one batch, before their people are linked again
    _link_converted_people(s, ctx, moves)
    _link_converted_companies(s, ctx, [(m[0], m[4]) for m in moves if m[4]], company_stream)
    for _, person_stream, _, _, _, source in moves:
        report.add(f"{source.lower()}s_followed_to_{person_stream.name.lower()}")


def _link_converted_people(
    s: Session,
    ctx: SyncContext,
    moves: list[tuple[Person, Stream, str, dict[str, Any], str | None, str]],
) -> None:
    """A converted person takes the new record unless either side is linked already."""
    linked = ctx.links.of_hub(s, "person", [m[0].id for m in moves])
    for stream_name in {m[1].name for m in moves}:
        targets = [m[2] for m in moves if m[1].name == stream_name]
        taken = set(ctx.links.of_remote(s, stream_name, targets))
        for person, stream, target, pushed, _, _ in moves:
            if stream.name != stream_name or target in taken:
                continue
            if stream_name in linked.get(person.id, {}):
                continue
            # The names both sides agreed on carry over: they are the same person.
            keep = {stream.role("first_name"), stream.role("last_name")}
            names = {k: v for k, v in pushed.items() if k in keep}
            link = ctx.links.add(s, "person", person.id, stream_name, target, pushed=names)
            linked.setdefault(person.id, {})[stream_name] = link
            taken.add(target)


def _link_converted_companies(
    s: Session, ctx: SyncContext, moves: list[tuple[Person, str | None]], stream: Stream
) -> None:
    """The person's hub company takes the conversion's account, when both are unlinked."""
    company_ids = [p.company_id for p, _ in moves if p.company_id]
    if not company_ids:
        return
    linked = ctx.links.of_hub(s, "company", company_ids)
    taken = set(ctx.links.of_remote(s, stream.name, [str(rid) for _, rid in moves]))
    for person, remote_id in moves:
        company_id, target = person.company_id, str(remote_id)
        if company_id is None or target in taken or stream.name in linked.get(company_id, {}):
            continue
        link = ctx.links.add(s, "company", company_id, stream.name, target)
        linked.setdefault(company_id, {})[stream.name] = link
        taken.add(target)


def follow_merge(
    s: Session,
    ctx: SyncContext,
    report: PullReport,
    stream: Stream,
    row: CrmRecord,
    link: RecordLink | None,
) -> str | None:
    """A record merged into another (the survivor; HubSpot's merge makes a new record): the
    hub record linked to it now lives on as the survivor, whose id is returned, unless the
    survivor is linked already. Then two hub records are one CRM record: the other one is
    flagged for a person to merge in the hub, never merged silently (issue 11 mirrors more)."""
    survivor = next((str(rid) for name, rid in (row.event_into or []) if name == stream.name), None)
    if link is None or survivor is None or survivor == row.remote_id:
        return None
    taken = ctx.links.of_remote(s, stream.name, [survivor]).get(survivor)
    if taken is None:
        link.remote_id = survivor
        report.add(f"{stream.many()}_merged_followed")
        return survivor
    record: Person | Company | None = (
        s.get(Person, link.hub_id) if stream.kind == "person" else s.get(Company, link.hub_id)
    )
    if taken.hub_id != link.hub_id and ctx.policy.merge_sync.on(stream.kind):
        from leadbridge.engine.sync.pull.events import mirror_merge

        if mirror_merge(s, ctx, report, stream, row, link, taken):
            return None
    if taken.hub_id != link.hub_id and record is not None:
        kind = stream.one()
        flag(
            s,
            ctx,
            report.run_id,
            record,
            f"potential duplicate: {ctx.label} merged {kind} {row.remote_id} into {survivor}, "
            f"which is linked to hub {taken.hub_object} {taken.hub_id}",
            survivor,
        )
        report.add("potential_duplicates")
    return None
