"""Push: hub people and companies to the CRM, planned by one pure classifier that the run,
`plan` and `explain` share.

- A linked record is updated under the write rules, in any stage (stages gate creates only),
  as the type it already has (a lead stays a lead).
- An unlinked record is matched before anything is created: people by lower-cased e-mail
  (a contact before a lead), companies by domain, then by normalised name. Several matches
  are an ambiguity for the error log, never a guess.
- A new person is created as the policy's Lead or Contact, with the source field set; a new
  contact brings its account (linked, found or created, even with account push off).
- A manual push overrides stage rules; it is refused while push is off or the initial pull runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.engine.sync.apply import JOB, Write, payload_hash, write, write_hub
from leadbridge.engine.sync.context import SYSTEM, CrmContext, SyncRefused
from leadbridge.engine.sync.inflight import settle_jobs
from leadbridge.engine.sync.ledger import waiting_intents
from leadbridge.engine.sync.pull import pull
from leadbridge.engine.sync.resolve import empty, resolve
from leadbridge.engine.sync.values import crm_values, hub_values, to_hub
from leadbridge.hub.edits import changed_at, outbox_since, prune_outbox
from leadbridge.hub.store import by_ids, log_error
from leadbridge.hub.tables import Company, CrmRecord, OutboxItem, Person, RecordLink
from leadbridge.jobs.crm_lease import leased
from leadbridge.normalize import company_name_key
from leadbridge.policy.crm import CrmSync, ObjectMap

Action = Literal["create", "link", "update", "skip", "error"]


@dataclass
class Decision:
    hub_object: str
    hub_id: int
    action: Action
    sobject: str | None = None
    remote_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    account: Decision | None = None  # for a contact: how its account is found
    snapshot: dict[str, Any] = field(default_factory=dict)  # CRM values found when linking
    hub: dict[str, Any] = field(default_factory=dict)  # hub field -> the CRM's value it takes

    def describe(self) -> str:
        target = f"{self.sobject or ''} {self.remote_id or ''}".strip()
        text = f"{self.hub_object} {self.hub_id}: {self.action} {target}".rstrip()
        if self.values:
            text += f" [{', '.join(sorted(self.values))}]"
        if self.reason:
            text += f" — {self.reason}"
        if self.account is not None and self.account.action != "update":
            text += f"; account: {self.account.action} {self.account.reason}".rstrip()
        return text


@dataclass(frozen=True)
class Facts:
    """Everything the classifier may look at for one record, gathered beforehand."""

    record: Person | Company
    company: Company | None
    links: dict[str, RecordLink]
    company_links: dict[str, RecordLink]
    mirror: dict[str, CrmRecord]  # remote id -> mirror row, for linked records
    email_matches: dict[str, list[CrmRecord]]  # "Contact"/"Lead" -> rows with this e-mail
    account_by_domain: list[CrmRecord]
    account_by_name: list[CrmRecord]
    to_remote: dict[int, str]
    taken: dict[tuple[str, str], int] = field(default_factory=dict)  # linked elsewhere


def _active(links: dict[str, RecordLink], kinds: Sequence[str]) -> RecordLink | None:
    for kind in kinds:
        link = links.get(kind)
        if link is not None and link.remote_id:
            return link
    return None


def _update(
    hub_object: str,
    record: Person | Company,
    mapping: ObjectMap,
    mine: dict[str, Any],
    link: RecordLink,
    facts: Facts,
    manual: bool,
) -> Decision:
    """A linked record: the write rules against what the mirror last saw of the CRM."""
    row = facts.mirror.get(str(link.remote_id))
    theirs = crm_values(row.fields, mapping) if row else dict(link.pushed or {})
    result = resolve(
        mapping.fields,
        mine,
        theirs,
        link.pushed,
        hub_changed_at=changed_at(record),
        crm_modified_at=row.modified_at if row else None,
        manual=manual,
    )
    reason = "" if result.crm else "in sync"
    if result.hub:  # e.g. a hub edit of a field the CRM owns: the CRM's value is put back
        reason = f"{reason}; the hub takes the CRM's {', '.join(sorted(result.hub))}".lstrip("; ")
    return Decision(
        hub_object,
        record.id,
        "update" if result.crm else "skip",
        link.remote_object,
        link.remote_id,
        result.crm,
        reason,
        hub=result.hub,
    )


def decide_company(
    facts: Facts, policy: CrmSync, *, manual: bool, needed_for_contact: bool = False
) -> Decision:
    company = facts.record
    assert isinstance(company, Company)
    link = _active(facts.company_links, ["Account"])
    mapping = policy.account
    mine = hub_values(company, mapping, policy=policy, company=None, to_remote=facts.to_remote)
    if link is not None:
        return _update("company", company, mapping, mine, link, facts, manual)
    for label, rows in (("domain", facts.account_by_domain), ("name", facts.account_by_name)):
        if len(rows) > 1:
            ids = ", ".join(r.remote_id for r in rows)
            return Decision(
                "company",
                company.id,
                "error",
                "Account",
                reason=f"ambiguous account: {len(rows)} Salesforce accounts match by {label} "
                f"({ids}); merge them in Salesforce",
            )
        if rows:
            row = rows[0]
            owner = facts.taken.get(("Account", row.remote_id))
            if owner is not None and owner != company.id:
                return Decision(
                    "company",
                    company.id,
                    "skip",
                    "Account",
                    row.remote_id,
                    reason=f"potential duplicate of hub company {owner}, which is linked to "
                    f"Salesforce account {row.remote_id}",
                )
            theirs = crm_values(row.fields, mapping)
            result = resolve(mapping.fields, mine, theirs, None, manual=manual)
            return Decision(
                "company",
                company.id,
                "link",
                "Account",
                row.remote_id,
                result.crm,
                f"found by {label}",
                snapshot=theirs,
            )
    if not manual and not needed_for_contact:
        if not policy.push.push_accounts:
            return Decision("company", company.id, "skip", reason="account push is off")
        if not policy.push.accounts.allows(company.account_stage):
            stage = company.account_stage or "No stage"
            return Decision(
                "company", company.id, "skip", reason=f"account stage {stage!r} is not selected"
            )
    if empty(company.name):
        return Decision("company", company.id, "error", "Account", reason="the company has no name")
    values = {
        f.crm: mine[f.hub] for f in mapping.fields if f.writes_crm and not empty(mine.get(f.hub))
    }
    source = policy.push.account_source
    if source is not None:
        values[source.field] = source.value
    return Decision("company", company.id, "create", "Account", values=values, reason="new")


def decide_person(facts: Facts, policy: CrmSync, *, manual: bool) -> Decision:
    person = facts.record
    assert isinstance(person, Person)
    link = _active(facts.links, ["Contact", "Lead"])
    if link is not None:  # an update, whatever the stage; the type the record already has
        mapping = policy.people_map(link.remote_object)
        mine = hub_values(
            person, mapping, policy=policy, company=facts.company, to_remote=facts.to_remote
        )
        return _update("person", person, mapping, mine, link, facts, manual)
    if not manual:
        if not policy.push.enabled:
            return Decision("person", person.id, "skip", reason="push is disabled")
        if not policy.push.contacts.allows(person.stage):
            stage = person.stage or "No stage"
            return Decision(
                "person", person.id, "skip", reason=f"contact stage {stage!r} is not selected"
            )
    for kind in ("Contact", "Lead"):
        rows = facts.email_matches.get(kind, [])
        if len(rows) > 1:
            ids = ", ".join(r.remote_id for r in rows)
            return Decision(
                "person",
                person.id,
                "error",
                kind,
                reason=f"ambiguous: {len(rows)} Salesforce {kind.lower()}s have this e-mail "
                f"({ids}); merge them in Salesforce",
            )
        if rows:
            owner = facts.taken.get((kind, rows[0].remote_id))
            if owner is not None and owner != person.id:
                return Decision(
                    "person",
                    person.id,
                    "skip",
                    kind,
                    rows[0].remote_id,
                    reason=f"potential duplicate of hub person {owner}, which is linked to "
                    f"Salesforce {kind.lower()} {rows[0].remote_id} with the same e-mail",
                )
            mapping = policy.people_map(kind)
            mine = hub_values(
                person, mapping, policy=policy, company=facts.company, to_remote=facts.to_remote
            )
            theirs = crm_values(rows[0].fields, mapping)
            result = resolve(mapping.fields, mine, theirs, None, manual=manual)
            return Decision(
                "person",
                person.id,
                "link",
                kind,
                rows[0].remote_id,
                result.crm,
                "same e-mail",
                snapshot=theirs,
            )
    kind = policy.push.create_people_as
    mapping = policy.people_map(kind)
    mine = hub_values(
        person, mapping, policy=policy, company=facts.company, to_remote=facts.to_remote
    )
    values = {
        f.crm: mine[f.hub] for f in mapping.fields if f.writes_crm and not empty(mine.get(f.hub))
    }
    source = policy.push.people_source
    values[source.field] = source.value
    decision = Decision("person", person.id, "create", kind, values=values, reason="new")
    if kind == "Contact":
        if facts.company is None:
            return Decision(
                "person",
                person.id,
                "error",
                kind,
                reason="a Salesforce contact needs an account: give the person a company",
            )
        company_facts = Facts(
            facts.company,
            None,
            {},
            facts.company_links,
            facts.mirror,
            {},
            facts.account_by_domain,
            facts.account_by_name,
            facts.to_remote,
            facts.taken,
        )
        account = decide_company(company_facts, policy, manual=manual, needed_for_contact=True)
        if account.action == "error":
            return Decision(
                "person", person.id, "error", kind, reason=account.reason, account=account
            )
        decision.account = account
    return decision


# --- gathering facts ------------------------------------------------------------------------------


def gather(
    s: Session, ctx: CrmContext, people: Sequence[Person], companies: Sequence[Company]
) -> tuple[dict[int, Facts], dict[int, Facts]]:
    company_ids = {c.id for c in companies} | {p.company_id for p in people if p.company_id}
    all_companies = {c.id: c for c in companies}
    all_companies.update(by_ids(s, Company, [i for i in company_ids if i not in all_companies]))
    company_links = ctx.links(s, "company", list(all_companies))
    person_links = ctx.links(s, "person", [p.id for p in people])
    remote: dict[str, list[str]] = {}
    for links in (*company_links.values(), *person_links.values()):
        for kind, link in links.items():
            if link.remote_id:
                remote.setdefault(kind, []).append(link.remote_id)
    mirror: dict[str, CrmRecord] = {}
    for kind, ids in remote.items():
        mirror.update(ctx.mirror(s, kind, ids))
    unlinked_people = [
        p for p in people if not _active(person_links.get(p.id, {}), ["Contact", "Lead"])
    ]
    emails = {p.email_key for p in unlinked_people if p.email_key}
    by_email = {kind: ctx.mirror_by(s, kind, "email_key", emails) for kind in ("Contact", "Lead")}
    unlinked_companies = [
        c for c in all_companies.values() if not _active(company_links.get(c.id, {}), ["Account"])
    ]
    by_domain = ctx.mirror_by(
        s, "Account", "domain_key", [c.domain for c in unlinked_companies if c.domain]
    )
    names = {c.id: company_name_key(c.name) for c in unlinked_companies}
    by_name = ctx.mirror_by(s, "Account", "name_key", [n for n in names.values() if n])
    to_remote, _ = ctx.owners(s)
    taken: dict[tuple[str, str], int] = {}
    for kind, groups in (*by_email.items(), ("Account", by_domain), ("Account", by_name)):
        ids = [r.remote_id for rows in groups.values() for r in rows]
        for rid, link in ctx.links_by_remote(s, kind, ids).items():
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
            cf.account_by_domain if cf else [],
            cf.account_by_name if cf else [],
            to_remote,
            taken,
        )
    return people_out, company_out


@dataclass
class PushPlan:
    people: list[Decision]
    companies: list[Decision]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in (*self.companies, *self.people):
            key = f"{d.hub_object}_{d.action}"
            out[key] = out.get(key, 0) + 1
        return out


def plan(
    ctx: CrmContext,
    *,
    person_ids: Sequence[int] | None = None,
    company_ids: Sequence[int] | None = None,
    manual: bool = False,
) -> PushPlan:
    """The push plan for the given records (all hub people and companies when none given)."""
    with ctx.hub.session() as s:
        pq = select(Person).where(Person.workspace_id == ctx.workspace_id)
        cq = select(Company).where(Company.workspace_id == ctx.workspace_id)
        if person_ids is not None or company_ids is not None:
            pq = pq.where(Person.id.in_(list(person_ids or [])))
            cq = cq.where(Company.id.in_(list(company_ids or [])))
        people = list(s.scalars(pq.order_by(Person.id)))
        companies = list(s.scalars(cq.order_by(Company.id)))
        people_facts, company_facts = gather(s, ctx, people, companies)
        asked = {c.id for c in companies}
        decisions_c = [
            decide_company(company_facts[c], ctx.policy, manual=manual)
            for c in sorted(company_facts)
            if c in asked
        ]
        decisions_p = [decide_person(people_facts[p.id], ctx.policy, manual=manual) for p in people]
        # A permanent failure is not resent until the data changes or `errors retry`; what an
        # undo took back is not sent again until the data changes or a manual push.
        held = {
            (link.hub_object, link.hub_id): (link.status, link.failed_hash, link.remote_id)
            for link in s.scalars(
                select(RecordLink).where(
                    RecordLink.workspace_id == ctx.workspace_id,
                    RecordLink.remote_system == SYSTEM,
                    RecordLink.remote_scope == ctx.scope,
                    RecordLink.status.in_(("error", "undone")),
                )
            )
        }
        waiting = waiting_intents(s, ctx)
    for d in (*decisions_c, *decisions_p):
        _hold_for_job(d, waiting)
        status, h, remote_id = held.get((d.hub_object, d.hub_id), (None, None, None))
        if manual or status is None or d.action not in ("create", "update"):
            continue
        same_data = h is not None and h == payload_hash(d.values)
        if status == "error" and same_data:
            d.action, d.reason = "skip", "failed before with the same data; see `leadbridge errors`"
        elif status == "undone" and (same_data or (d.action == "create" and not remote_id)):
            d.action, d.reason = (
                "skip",
                (
                    "undone by `leadbridge undo`: not sent again until the hub's values change, or "
                    "by a manual `leadbridge push`"
                ),
            )
    _one_create_per_identity(decisions_c, decisions_p, people_facts, company_facts)
    for d in (*decisions_c, *decisions_p):
        facts = (company_facts if d.hub_object == "company" else people_facts).get(d.hub_id)
        note = _owner_note(facts, ctx.policy, d) if facts is not None else None
        if note:
            d.reason = f"{d.reason}; {note}" if d.reason else note
    return PushPlan(decisions_p, decisions_c)


def _hold_for_job(d: Decision, waiting: dict[tuple[str, int], str]) -> None:
    """A record (or the account a new contact needs) that a remote job of an earlier run may
    still be creating is not created again, by any run, until that job's results are read."""
    job = waiting.get((d.hub_object, d.hub_id))
    if job is None and d.account is not None and d.account.action == "create":
        job = waiting.get(("company", d.account.hub_id))
    if d.action == "create" and job is not None:
        d.action = "skip"
        d.reason = (
            f"waiting for Salesforce bulk job {job} of an earlier run, which may be creating "
            "it: its results are read before anything is sent again"
        )


def _owner_note(facts: Facts, policy: CrmSync, d: Decision) -> str | None:
    """Where the policy pushes owners but this one has no active Salesforce user, the record
    goes without it (Salesforce keeps or gives its own): say so, rather than stay silent."""
    if d.action not in ("create", "link", "update") or d.sobject is None:
        return None
    mapping = policy.account if d.sobject == "Account" else policy.people_map(d.sobject)
    owner = facts.record.owner_id
    if not mapping.writes_owner or owner is None or owner in facts.to_remote:
        return None
    return f"owner not sent: hub user {owner} has no active Salesforce user with that e-mail"


def _one_create_per_identity(
    companies: Sequence[Decision],
    people: Sequence[Decision],
    people_facts: dict[int, Facts],
    company_facts: dict[int, Facts],
) -> None:
    """Two hub records that are one CRM record (people with one e-mail, companies with one
    name and no domain) would be created twice in one run: the first (oldest) goes, the others
    wait with the reason — duplicates in the hub are for a person to merge, not for the CRM."""
    claimed: dict[tuple[str, str], int] = {}

    def claim(kind: str, key: str | None, hub_id: int) -> int | None:
        if not key:
            return None
        owner = claimed.setdefault((kind, key), hub_id)
        return None if owner == hub_id else owner

    def company_key(company_id: int) -> str | None:
        company = company_facts[company_id].record
        assert isinstance(company, Company)
        return None if company.domain else company_name_key(company.name)

    for d in companies:
        if d.action == "create" and (owner := claim("company", company_key(d.hub_id), d.hub_id)):
            d.action = "skip"
            d.reason = f"potential duplicate of hub company {owner} (same name, no domain)"
    for d in people:
        if d.action != "create":
            continue
        person = people_facts[d.hub_id].record
        assert isinstance(person, Person)
        if owner := claim("person", person.email_key, d.hub_id):
            d.action = "skip"
            d.reason = f"potential duplicate of hub person {owner} (same e-mail), created now"
        elif d.account is not None and d.account.action == "create":
            other = claim("company", company_key(d.account.hub_id), d.account.hub_id)
            if other:
                d.action = "skip"
                d.reason = (
                    f"its company is a potential duplicate of hub company {other} (same name, "
                    "no domain): merge them in the hub"
                )


@dataclass
class PushReport:
    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    plan: PushPlan | None = None


@leased
async def push(
    ctx: CrmContext,
    *,
    person_ids: Sequence[int] | None = None,
    company_ids: Sequence[int] | None = None,
    manual: bool = False,
    refresh: bool = True,
) -> PushReport:
    if manual and not ctx.policy.push.enabled:
        raise SyncRefused("push is disabled in the policy (push.enabled: false)")
    if not manual and ctx.in_setup_window():
        raise SyncRefused(
            f"the setup window is open until {ctx.setup_until():%Y-%m-%d %H:%M} UTC: "
            "run `leadbridge activate`, then `leadbridge pull`, before pushing"
        )
    if not ctx.initial_pull_done():  # no dedup against the CRM before it: creates would double
        raise SyncRefused(
            "the initial pull has not finished: run `leadbridge pull` first, so that records "
            "Salesforce already has are linked, not created twice (after the setup window, or "
            "`leadbridge activate`)"
        )
    # Jobs an earlier run left open first: what they created is linked, not created again.
    settled = await settle_jobs(ctx)
    if refresh:
        await pull(
            ctx, write_back=False
        )  # fresh match keys for dedup, and repair of interrupted creates
    report = PushReport(ctx.start_run("crm_push_manual" if manual else "crm_push"))
    the_plan = plan(ctx, person_ids=person_ids, company_ids=company_ids, manual=manual)
    report.plan = the_plan
    counts: dict[str, int] = dict(settled)
    try:
        await _apply(ctx, report.run_id, the_plan, counts)
    except Exception as exc:
        ctx.finish_run(report.run_id, "failed", counts, str(exc))
        raise
    report.counts = counts
    status = "partial" if counts.get("failed") else "succeeded"
    ctx.finish_run(report.run_id, status, counts)
    return report


def _bump(counts: dict[str, int], key: str, n: int) -> None:
    if n:
        counts[key] = counts.get(key, 0) + n


def _write_of(d: Decision) -> Write:
    assert d.sobject is not None
    return Write(
        d.hub_object,
        d.hub_id,
        d.sobject,
        d.values,
        remote_id=d.remote_id,
        adopt=d.action == "link",
        snapshot=d.snapshot,
    )


async def _apply(ctx: CrmContext, run_id: int, the_plan: PushPlan, counts: dict[str, int]) -> None:
    errors = [d for d in (*the_plan.companies, *the_plan.people) if d.action == "error"]
    if errors:
        with ctx.hub.session() as s:
            for d in errors:
                log_error(
                    s,
                    workspace_id=ctx.workspace_id,
                    job=JOB,
                    error_class="permanent",
                    message=d.reason,
                    run_id=run_id,
                    connection_id=ctx.connection.id,
                    hub_object=d.hub_object,
                    hub_id=d.hub_id,
                    hint=d.reason.split(": ", 1)[-1],
                )
        _bump(counts, "failed", len(errors))
    # Accounts first: a contact needs its account's id.
    accounts: dict[int, Decision] = {
        d.hub_id: d for d in the_plan.companies if d.action in ("create", "link", "update")
    }
    for d in the_plan.people:
        if (
            d.action == "create"
            and d.account is not None
            and d.account.action in ("create", "link")
        ):
            accounts.setdefault(d.account.hub_id, d.account)
    befores = _befores(ctx, [*accounts.values(), *the_plan.people])
    account_ids: dict[int, str] = {}
    if accounts:
        writes = [_write_of(d) for d in accounts.values()]
        for w in writes:
            w.before = befores.get(("Account", w.remote_id or ""), {})
        outcome = await write(ctx, run_id, "Account", writes)
        account_ids = {hub_id: rid for (_, hub_id), rid in outcome.done.items()}
        _bump(counts, "accounts_created", outcome.created)
        _bump(counts, "accounts_updated", outcome.updated)
        _bump(counts, "failed", outcome.failed)
    for kind in ("Contact", "Lead"):
        writes = []
        for d in the_plan.people:
            if d.sobject != kind or d.action not in ("create", "link", "update"):
                continue
            w = _write_of(d)
            w.before = befores.get((kind, w.remote_id or ""), {})
            if d.action == "create" and kind == "Contact":
                company_id = d.account.hub_id if d.account else None
                account_id = account_ids.get(company_id or -1) or (
                    d.account.remote_id if d.account else None
                )
                if not account_id:
                    _bump(counts, "failed", 1)  # the account failed: its error is logged
                    continue
                w.values = {**w.values, "AccountId": account_id}
            writes.append(w)
        if writes:
            outcome = await write(ctx, run_id, kind, writes)
            _bump(counts, f"{kind.lower()}s_created", outcome.created)
            _bump(counts, f"{kind.lower()}s_updated", outcome.updated)
            _bump(counts, "failed", outcome.failed)
    _bump(counts, "skipped", sum(1 for d in the_plan.people if d.action == "skip"))
    _bump(counts, "hub_updated", _take_crm_values(ctx, run_id, the_plan))


def _take_crm_values(ctx: CrmContext, run_id: int, the_plan: PushPlan) -> int:
    """Values the write rules give the CRM (it owns the field, or changed it last) land in the
    hub, journaled like a pull's."""
    decisions = [d for d in (*the_plan.companies, *the_plan.people) if d.hub]
    if not decisions:
        return 0
    changed = 0
    with ctx.hub.session() as s:
        _, to_hub_user = ctx.owners(s)
        records = {
            (kind, hub_id): record
            for kind, model in (("company", Company), ("person", Person))
            for hub_id, record in by_ids(
                s, model, [d.hub_id for d in decisions if d.hub_object == kind]
            ).items()
        }
        for d in decisions:
            record = records.get((d.hub_object, d.hub_id))
            if record is not None:
                changed += bool(write_hub(s, run_id, record, to_hub(d.hub, to_hub_user), None))
    return changed


def _befores(
    ctx: CrmContext, decisions: Sequence[Decision]
) -> dict[tuple[str, str], dict[str, Any]]:
    wanted: dict[str, list[str]] = {}
    for d in decisions:
        if d.remote_id and d.sobject:
            wanted.setdefault(d.sobject, []).append(d.remote_id)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with ctx.hub.session() as s:
        for kind, ids in wanted.items():
            for rid, row in ctx.mirror(s, kind, ids).items():
                out[(kind, rid)] = dict(row.fields)
    return out


async def drain_outbox(ctx: CrmContext) -> PushReport | None:
    """The real-time path: push what people changed since this connection's last drain,
    coalesced into one run."""
    with ctx.hub.session() as s:
        items = outbox_since(s, ctx.workspace_id, _outbox_position(ctx))
        if not items:
            return None
        person_ids = sorted({i.hub_id for i in items if i.hub_object == "person"})
        company_ids = sorted({i.hub_id for i in items if i.hub_object == "company"})
        last = items[-1].id
        owner_moved = any("owner_id" in (i.fields or []) for i in items)
    # A new record needs fresh match keys; a new owner needs fresh users (one deactivated
    # since the last pull would make Salesforce refuse the whole write).
    needs_pull = _has_unlinked(ctx, person_ids, company_ids) or (
        owner_moved and _owner_pushed(ctx.policy)
    )
    report = await push(
        ctx, person_ids=person_ids, company_ids=company_ids, manual=False, refresh=needs_pull
    )
    _passed_outbox(ctx, last)
    return report


async def push_all(ctx: CrmContext) -> PushReport:
    """Every hub record under the rules (the schedule's backstop after each pull: records that
    never changed since connecting, and anything a crashed run left); the outbox up to here
    counts as drained."""
    with ctx.hub.session() as s:
        last = s.scalar(
            select(func.max(OutboxItem.id)).where(OutboxItem.workspace_id == ctx.workspace_id)
        )
    report = await push(ctx, refresh=False)
    if last is not None and last > _outbox_position(ctx):
        _passed_outbox(ctx, last)
    return report


def outbox_waiting(ctx: CrmContext) -> bool:
    with ctx.hub.session() as s:
        return bool(outbox_since(s, ctx.workspace_id, _outbox_position(ctx), limit=1))


def _outbox_position(ctx: CrmContext) -> int:
    return int(ctx.state().get("outbox_after") or 0)


def _passed_outbox(ctx: CrmContext, last: int) -> None:
    """Move this connection's position, and prune what every CRM connection has passed."""
    ctx.save_state(outbox_after=last)
    positions = [
        int((c.settings.get("crm") or {}).get("outbox_after") or 0)
        for c in ctx.connections.all()
        if c.kind == SYSTEM
    ]
    with ctx.hub.session() as s:
        prune_outbox(s, ctx.workspace_id, min(positions, default=last))


def _has_unlinked(ctx: CrmContext, person_ids: Sequence[int], company_ids: Sequence[int]) -> bool:
    with ctx.hub.session() as s:
        people = ctx.links(s, "person", person_ids)
        companies = ctx.links(s, "company", company_ids)
    return any(not _active(people.get(i, {}), ["Contact", "Lead"]) for i in person_ids) or any(
        not _active(companies.get(i, {}), ["Account"]) for i in company_ids
    )


def _owner_pushed(policy: CrmSync) -> bool:
    return any(m.writes_owner for m in (policy.lead, policy.contact, policy.account))
