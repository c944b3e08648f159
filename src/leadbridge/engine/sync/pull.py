"""Pull: CRM records into the mirror (each page with its cursor, in one transaction), then into
the hub under the write rules.

- Users first (owner mapping), then Accounts, Contacts, Leads.
- A lead and a contact for the same person: the contact is kept (the lead is not linked).
- A converted lead is followed: its person moves to the converted contact; no lead is recreated.
- Records that look duplicated in the CRM are flagged on the hub record and in the log, never
  merged.
- The write rules run here: CRM-owned values flow into the hub; auto-fill and overwrite send
  the hub's values back (journaled, so `undo` can restore them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadbridge.connectors.base import Cursor
from leadbridge.engine.sync.apply import Write, write, write_hub
from leadbridge.engine.sync.context import SYSTEM, CrmContext, SyncRefused
from leadbridge.engine.sync.resolve import resolve, same
from leadbridge.engine.sync.values import crm_values, hub_values, to_hub
from leadbridge.hub.edits import changed_at, email_key
from leadbridge.hub.store import by_ids, chunks, log_error
from leadbridge.hub.tables import (
    Company,
    CrmRecord,
    Person,
    RecordLink,
    SyncCursor,
    User,
    UserLink,
    utcnow,
)
from leadbridge.jobs.crm_lease import leased
from leadbridge.normalize import company_name_key
from leadbridge.policy.crm import ObjectMap

OBJECTS = ("User", "Account", "Contact", "Lead")
EXTRA = {
    "User": ["Email", "FirstName", "LastName", "IsActive"],
    "Account": ["Name", "Website"],
    "Contact": ["Email", "FirstName", "LastName", "AccountId"],
    "Lead": [
        "Email",
        "FirstName",
        "LastName",
        "Company",
        "IsConverted",
        "ConvertedContactId",
        "ConvertedAccountId",
    ],
}


@dataclass
class PullReport:
    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    names: dict[str, int] | None = None  # company name key -> company id, built once a run

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def pull_fields(ctx: CrmContext, sobject: str) -> list[str]:
    mapped: list[str] = []
    if sobject in ("Lead", "Contact", "Account"):
        mapping = ctx.policy.account if sobject == "Account" else ctx.policy.people_map(sobject)
        mapped = [f.crm for f in mapping.fields]
        push = ctx.policy.push
        source = push.account_source if sobject == "Account" else push.people_source
        if source is not None:  # set on create: read back, it tells our creates apart
            mapped.append(source.field)
    return list(dict.fromkeys([*EXTRA[sobject], *mapped]))


@leased
async def pull(ctx: CrmContext, *, manual: bool = False, write_back: bool = True) -> PullReport:
    """`write_back=False` (the refresh before a push) reads only: the push run itself then
    sends the hub's values, so they are journaled under that run."""
    if manual and ctx.in_setup_window():
        raise SyncRefused(
            f"the setup window is open until {ctx.setup_until():%Y-%m-%d %H:%M} UTC: set the "
            "policy, then run `leadbridge activate` to start syncing now"
        )
    initial = not ctx.initial_pull_done()
    if initial:
        ctx.save_state(initial_pull="running")
    report = PullReport(ctx.start_run("crm_pull"))
    try:
        await _pull(ctx, report, write_back)
    except Exception as exc:
        ctx.finish_run(report.run_id, "failed", report.counts, str(exc))
        raise
    if initial:
        ctx.save_state(initial_pull="done")
    ctx.finish_run(report.run_id, "succeeded", report.counts)
    return report


async def _pull(ctx: CrmContext, report: PullReport, write_back: bool) -> None:
    cap = ctx.clock()
    for sobject in OBJECTS:
        with ctx.hub.session() as s:
            row = _cursor_row(s, ctx, sobject)
            cursor = Cursor(row.modified_at, row.last_id) if row else Cursor()
        async for page in ctx.connector.read_changed(
            sobject, pull_fields(ctx, sobject), cursor, cap
        ):
            with ctx.hub.session() as s:  # the page and its cursor, together
                ctx.store_mirror(s, page.records, report.run_id)
                row = _cursor_row(s, ctx, sobject) or SyncCursor(
                    workspace_id=ctx.workspace_id,
                    remote_system=SYSTEM,
                    remote_scope=ctx.scope,
                    object=sobject,
                )
                row.modified_at, row.last_id = page.cursor.modified_at, page.cursor.last_id
                s.add(row)
            report.add(f"read_{sobject.lower()}", len(page.records))
            if ctx.progress:
                ctx.progress(sobject, len(page.records))
    writes: dict[str, list[Write]] = {}
    with ctx.hub.session() as s:
        _users(s, ctx, _pending(s, ctx, "User"))
    for sobject in ("Account", "Contact", "Lead"):
        with ctx.hub.session() as s:
            ids = _pending(s, ctx, sobject)
        for start in range(0, len(ids), 500):
            with ctx.hub.session() as s:
                chunk = _reconcile(s, ctx, report, sobject, ids[start : start + 500])
            writes.setdefault(sobject, []).extend(chunk)
    for sobject, items in writes.items():
        if items and write_back:
            outcome = await write(ctx, report.run_id, sobject, items)
            report.add("crm_updated", outcome.updated)
            report.add("failed", outcome.failed)


def _pending(s: Session, ctx: CrmContext, sobject: str) -> list[str]:
    """Mirror rows read with a change the hub has not taken in, in the order they were read
    (also those a killed run committed but never reconciled)."""
    query = ctx.mirror_of(sobject, CrmRecord.remote_id).where(CrmRecord.pending.is_(True))
    return list(s.scalars(query.order_by(CrmRecord.id)))


def _cursor_row(s: Session, ctx: CrmContext, sobject: str) -> SyncCursor | None:
    return s.scalar(
        select(SyncCursor).where(
            SyncCursor.workspace_id == ctx.workspace_id,
            SyncCursor.remote_system == SYSTEM,
            SyncCursor.remote_scope == ctx.scope,
            SyncCursor.object == sobject,
        )
    )


def _users(s: Session, ctx: CrmContext, ids: Sequence[str]) -> None:
    rows = ctx.mirror(s, "User", list(ids))
    for row in rows.values():
        row.pending = False
    if not rows:
        return
    links = {
        link.remote_user_id: link
        for link in s.scalars(
            select(UserLink).where(
                UserLink.workspace_id == ctx.workspace_id,
                UserLink.remote_system == SYSTEM,
                UserLink.remote_scope == ctx.scope,
            )
        )
    }
    taken = {link.hub_user_id for link in links.values() if link.hub_user_id}
    users = {
        u.email.lower(): u
        for u in s.scalars(select(User).where(User.workspace_id == ctx.workspace_id))
    }
    # Active users first: an e-mail shared with a deactivated user maps to the active one.
    for row in sorted(rows.values(), key=lambda r: not r.fields.get("IsActive", True)):
        f = row.fields
        active = bool(f.get("IsActive", True))
        email = str(f.get("Email") or "").lower()
        link = links.get(row.remote_id) or UserLink(
            workspace_id=ctx.workspace_id,
            remote_system=SYSTEM,
            remote_scope=ctx.scope,
            remote_user_id=row.remote_id,
        )
        link.remote_email = email or None
        link.remote_name = " ".join(x for x in (f.get("FirstName"), f.get("LastName")) if x)
        link.deleted = not active
        link.synced_at = utcnow()
        s.add(link)
        if link.hub_user_id is None and email:
            user = users.get(email)
            if user is None and active:  # a rep who left is mapped, never created
                user = User(
                    workspace_id=ctx.workspace_id,
                    email=email,
                    first_name=f.get("FirstName"),
                    last_name=f.get("LastName"),
                )
                s.add(user)
                s.flush()
                users[email] = user
            if user is not None and user.id not in taken:
                link.hub_user_id, link.mapped_by = user.id, "auto"
                taken.add(user.id)


def _flag(
    s: Session,
    ctx: CrmContext,
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
        hint="merge the records in Salesforce (leadbridge never merges them silently)",
    )


@dataclass
class _Lookups:
    """What one reconcile chunk looks up, loaded in a few queries instead of a few per record.
    Records created and linked during the chunk are added as they are, so later rows see them."""

    people: dict[int, Person] = field(default_factory=dict)
    companies: dict[int, Company] = field(default_factory=dict)
    people_by_email: dict[str, list[Person]] = field(default_factory=dict)
    companies_by_domain: dict[str, Company] = field(default_factory=dict)
    person_links: dict[int, dict[str, RecordLink]] = field(default_factory=dict)
    company_links: dict[int, dict[str, RecordLink]] = field(default_factory=dict)
    account_links: dict[str, RecordLink] = field(default_factory=dict)  # Account id -> link
    # Creates sent whose answer was never recorded, by the last name they carried.
    intents: dict[str, list[RecordLink]] = field(default_factory=dict)
    rivals: dict[tuple[str, str], list[CrmRecord]] = field(default_factory=dict)

    def record(self, hub_object: str, hub_id: int) -> Person | Company | None:
        return (self.companies if hub_object == "company" else self.people).get(hub_id)

    def links_of(self, hub_object: str, hub_id: int) -> dict[str, RecordLink]:
        links = self.company_links if hub_object == "company" else self.person_links
        return links.setdefault(hub_id, {})


def _load(
    s: Session,
    ctx: CrmContext,
    report: PullReport,
    sobject: str,
    rows: dict[str, CrmRecord],
    links: dict[str, RecordLink],
) -> _Lookups:
    look = _Lookups()
    ws = ctx.workspace_id
    linked = [link.hub_id for link in links.values()]
    unlinked = [r for rid, r in rows.items() if rid not in links and not r.deleted]
    if sobject == "Account":
        look.companies.update(by_ids(s, Company, linked))
        for c in _where_in(s, Company.domain, ws, {r.domain_key for r in unlinked}):
            look.companies.setdefault(c.id, c)
            look.companies_by_domain.setdefault(str(c.domain), c)
        names = _by_name(s, ctx, report)
        by_name = [names[r.name_key] for r in unlinked if r.name_key and r.name_key in names]
        look.companies.update(by_ids(s, Company, [i for i in by_name if i not in look.companies]))
        look.company_links.update(ctx.links(s, "company", list(look.companies)))
        for column, keys in (
            ("domain_key", {r.domain_key for r in unlinked if r.domain_key}),
            ("name_key", {r.name_key for r in unlinked if r.name_key and not r.domain_key}),
        ):
            for key, found in ctx.mirror_by(s, "Account", column, keys).items():
                look.rivals[(column, key)] = found
        return look
    look.people.update(by_ids(s, Person, linked))
    intents = list(
        s.scalars(
            select(RecordLink).where(
                RecordLink.workspace_id == ws,
                RecordLink.remote_system == SYSTEM,
                RecordLink.remote_scope == ctx.scope,
                RecordLink.remote_object == sobject,
                RecordLink.remote_id.is_(None),
                RecordLink.pushed.is_not(None),
                or_(RecordLink.status == "pending", RecordLink.error_class == "transient"),
            )
        )
    )
    for intent in intents:
        look.intents.setdefault(_last_name(intent.pushed or {}), []).append(intent)
    look.people.update(by_ids(s, Person, [i.hub_id for i in intents]))
    for p in _where_in(s, Person.email_key, ws, {r.email_key for r in unlinked}):
        look.people.setdefault(p.id, p)
        look.people_by_email.setdefault(str(p.email_key), []).append(p)
    look.person_links.update(ctx.links(s, "person", list(look.people)))
    company_ids = {p.company_id for p in look.people.values() if p.company_id}
    look.companies.update(by_ids(s, Company, list(company_ids)))
    if sobject == "Contact":
        accounts = sorted({str(r.fields.get("AccountId")) for r in rows.values()} - {"None", ""})
        look.account_links = ctx.links_by_remote(s, "Account", accounts)
    return look


def _where_in(s: Session, column: Any, workspace_id: int, values: set[str | None]) -> list[Any]:
    """The hub records of a workspace whose `column` is one of `values`, oldest first."""
    model = column.class_
    out: list[Any] = []
    for chunk in chunks(sorted(v for v in values if v)):
        out.extend(
            s.scalars(select(model).where(model.workspace_id == workspace_id, column.in_(chunk)))
        )
    return sorted(out, key=lambda r: r.id)


def _reconcile(
    s: Session, ctx: CrmContext, report: PullReport, sobject: str, ids: list[str]
) -> list[Write]:
    rows = ctx.mirror(s, sobject, ids)
    for taken in rows.values():
        taken.pending = False  # taken in with this chunk's commit
    links = ctx.links_by_remote(s, sobject, ids)
    look = _load(s, ctx, report, sobject, rows, links)
    to_remote, to_hub_user = ctx.owners(s)
    hub_object = "company" if sobject == "Account" else "person"
    writes: list[Write] = []
    for remote_id in ids:
        row = rows.get(remote_id)
        if row is None or row.deleted:
            continue  # deletion and merge mirroring come with their own settings
        if sobject == "Lead" and row.fields.get("IsConverted"):
            _follow_conversion(s, ctx, report, row, links.get(remote_id))
            continue
        link = links.get(remote_id)
        record: Person | Company | None
        if link is None:
            record = _match(s, ctx, report, look, sobject, row)
            if record is None:
                continue
            link = ctx.add_link(s, hub_object, record.id, sobject, remote_id, run_id=report.run_id)
            look.links_of(hub_object, record.id)[sobject] = link
            report.add(f"linked_{sobject.lower()}")
        else:
            record = look.record(hub_object, link.hub_id)
            if record is None:
                continue
        if isinstance(record, Person) and sobject == "Contact":
            company_link = look.account_links.get(str(row.fields.get("AccountId") or ""))
            if company_link is not None and record.company_id != company_link.hub_id:
                write_hub(s, report.run_id, record, {"company_id": company_link.hub_id}, None)
        company = None
        if isinstance(record, Person) and record.company_id:
            company = look.companies.get(record.company_id) or s.get(Company, record.company_id)
        w = _rules(s, ctx, report, sobject, row, link, record, company, to_remote, to_hub_user)
        if w is not None:
            writes.append(w)
    return writes


def _rules(
    s: Session,
    ctx: CrmContext,
    report: PullReport,
    sobject: str,
    row: CrmRecord,
    link: RecordLink,
    record: Person | Company,
    company: Company | None,
    to_remote: dict[int, str],
    to_hub_user: dict[str, int],
) -> Write | None:
    mapping: ObjectMap = (
        ctx.policy.account if sobject == "Account" else ctx.policy.people_map(sobject)
    )
    mine = hub_values(record, mapping, policy=ctx.policy, company=company, to_remote=to_remote)
    theirs = crm_values(row.fields, mapping)
    result = resolve(
        mapping.fields,
        mine,
        theirs,
        link.pushed,
        hub_changed_at=changed_at(record),
        crm_modified_at=row.modified_at,
    )
    if result.hub:
        changed = write_hub(
            s, report.run_id, record, to_hub(result.hub, to_hub_user), row.modified_at
        )
        report.add("hub_updated", bool(changed))
    link.pushed = theirs  # what both sides agree on now, but for the writes below
    if not result.crm:
        return None
    return Write(
        hub_object=link.hub_object,
        hub_id=link.hub_id,
        sobject=sobject,
        values=result.crm,
        remote_id=link.remote_id,
        before={k: row.fields.get(k) for k in result.crm},
    )


def _by_name(s: Session, ctx: CrmContext, report: PullReport) -> dict[str, int]:
    """Company name key -> the oldest company's id with it, built once a run."""
    if report.names is None:
        report.names = {}
        for company_id, name in s.execute(
            select(Company.id, Company.name)
            .where(Company.workspace_id == ctx.workspace_id, Company.name.is_not(None))
            .order_by(Company.id)
        ):
            key = company_name_key(name)
            if key:
                report.names.setdefault(key, company_id)
    return report.names


def _match(
    s: Session, ctx: CrmContext, report: PullReport, look: _Lookups, sobject: str, row: CrmRecord
) -> Person | Company | None:
    """The hub record an unlinked CRM record belongs to, created when there is none; None when
    the record is skipped (a lead shadowed by its contact, a duplicate)."""
    if sobject == "Account":
        return _match_account(s, ctx, report, look, row)
    f = row.fields
    candidates = look.people_by_email.get(row.email_key or "", []) if row.email_key else []
    person = candidates[0] if candidates else _sent_by_us(s, look, row)
    if person is not None:
        linked = look.links_of("person", person.id)
        if sobject == "Lead" and "Contact" in linked and linked["Contact"].remote_id:
            report.add("leads_shadowed_by_contact")  # keep the contact: the lead is not linked
            return None
        other = linked.get(sobject)
        if other is not None and other.remote_id and other.remote_id != row.remote_id:
            _flag(
                s,
                ctx,
                report.run_id,
                person,
                f"potential duplicate: Salesforce {sobject.lower()}s {other.remote_id} and "
                f"{row.remote_id} have the same e-mail",
                row.remote_id,
            )
            report.add("potential_duplicates")
            return None
        if other is not None and not other.remote_id:
            s.delete(other)  # a create intent the CRM already holds: adopt instead
            s.flush()
            del linked[sobject]
        return person
    person = Person(
        workspace_id=ctx.workspace_id,
        first_name=f.get("FirstName"),
        last_name=f.get("LastName"),
        email=f.get("Email"),
        email_key=email_key(f.get("Email")),
        email_status="unverified",
    )
    if sobject == "Lead" and f.get("Company"):
        person.company_id = _by_name(s, ctx, report).get(company_name_key(f["Company"]) or "")
    s.add(person)
    s.flush()
    look.people[person.id] = person
    if person.email_key:
        look.people_by_email.setdefault(person.email_key, []).append(person)
    report.add("hub_created_person")
    return person


def _sent_by_us(s: Session, look: _Lookups, row: CrmRecord) -> Person | None:
    """The hub person whose create we sent with exactly these values but never recorded the
    answer of (a run killed in between): it is adopted, not pulled in as someone new."""
    candidates = look.intents.get(_last_name(row.fields), [])
    for intent in candidates:
        sent = intent.pushed or {}
        if sent and all(same(row.fields.get(k), v) for k, v in sent.items()):
            candidates.remove(intent)
            return look.people.get(intent.hub_id)
    return None


def _last_name(values: dict[str, Any]) -> str:
    return str(values.get("LastName") or "").strip().lower()


def _match_account(
    s: Session, ctx: CrmContext, report: PullReport, look: _Lookups, row: CrmRecord
) -> Company | None:
    company = look.companies_by_domain.get(row.domain_key) if row.domain_key else None
    if company is None and row.name_key:
        company_id = _by_name(s, ctx, report).get(row.name_key)
        company = look.companies.get(company_id) if company_id else None
        if company is not None and company.domain and row.domain_key:
            company = None  # same name, different domains: different companies
    if company is not None:
        other = look.links_of("company", company.id).get("Account")
        if other is not None and not other.remote_id:
            s.delete(other)  # a create intent the CRM already holds: adopt instead
            s.flush()
            del look.links_of("company", company.id)["Account"]
            other = None
        key = ("domain_key", row.domain_key) if row.domain_key else ("name_key", row.name_key)
        rivals = look.rivals.get((key[0], str(key[1])), [])
        if other is None and len(rivals) > 1:
            _flag(
                s,
                ctx,
                report.run_id,
                company,
                f"ambiguous: Salesforce accounts {', '.join(r.remote_id for r in rivals)} "
                "all match this company; merge them in Salesforce",
                row.remote_id,
            )
            report.add("ambiguous_accounts")
            return None
        if other is not None and other.remote_id != row.remote_id:
            _flag(
                s,
                ctx,
                report.run_id,
                company,
                f"potential duplicate: Salesforce accounts {other.remote_id} and "
                f"{row.remote_id} both look like this company",
                row.remote_id,
            )
            report.add("potential_duplicates")
            return None
        return company
    company = Company(
        workspace_id=ctx.workspace_id,
        name=row.fields.get("Name"),
        domain=row.domain_key,
        is_lead=False,
    )
    s.add(company)
    s.flush()
    look.companies[company.id] = company
    if row.domain_key:
        look.companies_by_domain.setdefault(row.domain_key, company)
    if row.name_key:
        _by_name(s, ctx, report).setdefault(row.name_key, company.id)
    report.add("hub_created_company")
    return company


def _follow_conversion(
    s: Session, ctx: CrmContext, report: PullReport, row: CrmRecord, link: RecordLink | None
) -> None:
    """A converted lead: its person now lives on as the converted contact (and account)."""
    if link is None:
        return
    contact_id = row.fields.get("ConvertedContactId")
    account_id = row.fields.get("ConvertedAccountId")
    person = s.get(Person, link.hub_id)
    pushed = dict(link.pushed or {})
    s.delete(link)
    s.flush()
    if person is None or not contact_id:
        return
    existing = ctx.links_by_remote(s, "Contact", [contact_id]).get(contact_id)
    mine = ctx.links(s, "person", [person.id]).get(person.id, {}).get("Contact")
    if existing is None and mine is None:
        names = {k: v for k, v in pushed.items() if k in ("FirstName", "LastName")}
        ctx.add_link(s, "person", person.id, "Contact", contact_id, pushed=names)
    if account_id and person.company_id:
        company_links = ctx.links(s, "company", [person.company_id]).get(person.company_id, {})
        if "Account" not in company_links and not ctx.links_by_remote(s, "Account", [account_id]):
            ctx.add_link(s, "company", person.company_id, "Account", account_id)
    report.add("leads_followed_to_contact")
