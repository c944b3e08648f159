"""The push classifier, one pure function per record, shared by the run, `plan` and `explain`.

- A linked record is updated under the write rules, in any stage (stages gate creates only),
  as the variant it already is (a lead stays a lead).
- An unlinked record is matched before anything is created: people by e-mail (the winning
  variant first), companies by domain, then by normalised name. Several matches are an
  ambiguity for the error log, never a guess.
- A new person is created as the policy's person variant, with the source field set; one whose
  variant points at a company brings it (linked, found or created, even with company push
  off); a company that cannot be found unambiguously holds the person back. Without a company
  the person fails where its variant requires one, and is created alone where it does not.
- A manual push overrides stage rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from leadbridge.connectors.catalog import Stream
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.resolve import empty, resolve
from leadbridge.engine.sync.values import crm_values, hub_values
from leadbridge.hub.edits import changed_at
from leadbridge.hub.tables import DETACHED, Company, CrmRecord, Person, RecordLink
from leadbridge.policy.crm import CrmSync
from leadbridge.policy.fields import ObjectMap

Action = Literal["create", "link", "update", "skip", "error", "delete", "unlink"]
IN_SYNC = "in sync"  # the reason of a linked record with nothing to send either way


@dataclass
class Decision:
    hub_object: str
    hub_id: int
    action: Action
    stream: str | None = None
    remote_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    account: Decision | None = None  # for a new person: how its company is found
    snapshot: dict[str, Any] = field(default_factory=dict)  # remote values found when linking
    hub: dict[str, Any] = field(default_factory=dict)  # hub field -> the remote value it takes
    hint: str | None = None  # for an error: what a person does to fix it (the reason says what)

    @property
    def in_sync(self) -> bool:
        return self.action == "skip" and self.reason == IN_SYNC

    def describe(self) -> str:
        target = f"{self.stream or ''} {self.remote_id or ''}".strip()
        text = f"{self.hub_object} {self.hub_id}: {self.action} {target}".rstrip()
        if self.values:
            text += f" [{', '.join(sorted(self.values))}]"
        if self.reason:
            text += f" — {self.reason}"
        if self.hint:
            text += f" (to fix: {self.hint})"
        account = self.account if self.action == "create" else None  # else the reason says
        if account is not None and account.in_sync:
            text += f"; {(account.stream or 'company').lower()} {account.remote_id} (linked)"
        elif account is not None and account.action != "update":
            what = (account.stream or "company").lower()
            text += f"; {what}: {account.action} {account.reason}".rstrip()
        return text


@dataclass(frozen=True)
class Shape:
    """What the classifier knows of the system: its streams and the effective field maps."""

    label: str
    company: Stream
    people: tuple[Stream, ...]  # the winning variant first
    create_as: Stream
    maps: dict[str, ObjectMap]  # stream name -> field map
    policy: CrmSync

    @classmethod
    def of(cls, ctx: SyncContext) -> Shape:
        return cls(
            ctx.label,
            ctx.company(),
            tuple(ctx.people()),
            ctx.create_people_as(),
            {s.name: m for s, m in ctx.maps()},
            ctx.policy,
        )

    def stream(self, name: str) -> Stream:
        return next(s for s in (self.company, *self.people) if s.name == name)


@dataclass(frozen=True)
class Facts:
    """Everything the classifier may look at for one record, gathered beforehand."""

    record: Person | Company
    company: Company | None
    links: dict[str, RecordLink]
    company_links: dict[str, RecordLink]
    mirror: dict[str, CrmRecord]  # remote id -> mirror row, for linked records
    email_matches: dict[str, list[CrmRecord]]  # person stream -> rows with this e-mail
    company_by_domain: list[CrmRecord]
    company_by_name: list[CrmRecord]
    to_remote: dict[int, str]
    taken: dict[tuple[str, str], int] = field(default_factory=dict)  # linked elsewhere


def active_link(links: dict[str, RecordLink], streams: Sequence[str]) -> RecordLink | None:
    for name in streams:
        link = links.get(name)
        if link is not None and link.remote_id and link.status not in DETACHED:
            return link
    return None


def deleted_remote(
    shape: Shape, record: Person | Company, links: dict[str, RecordLink], manual: bool
) -> Decision | None:
    """A record whose remote record was deleted is not created again (never a zombie), but
    by a push by hand."""
    gone = next((link for link in links.values() if link.status == "remote_deleted"), None)
    if gone is None or manual:
        return None
    kind = shape.stream(gone.remote_object).one() if gone.remote_object else "record"
    return Decision(
        "person" if isinstance(record, Person) else "company",
        record.id,
        "skip",
        gone.remote_object,
        reason=f"deleted in {shape.label} ({kind} {gone.remote_id}): unlinked, not created "
        "again but by a push by hand (`leadbridge push <e-mail or id>`)",
    )


def _update(
    shape: Shape,
    stream: Stream,
    record: Person | Company,
    mine: dict[str, Any],
    link: RecordLink,
    facts: Facts,
    manual: bool,
) -> Decision:
    """A linked record: the write rules against what the mirror last saw of the remote."""
    mapping = shape.maps[stream.name]
    row = facts.mirror.get(str(link.remote_id))
    theirs = crm_values(row.fields, mapping, stream) if row else dict(link.pushed or {})
    result = resolve(
        mapping.fields,
        mine,
        theirs,
        link.pushed,
        hub_changed_at=changed_at(record),
        crm_modified_at=row.modified_at if row else None,
        crm_stamp_precision=stream.stamp_precision,
        manual=manual,
    )
    reason = "" if result.crm else IN_SYNC
    if result.hub:  # e.g. a hub edit of a field the CRM owns: the CRM's value is put back
        taken = ", ".join(sorted(result.hub))
        reason = f"{reason}; the hub takes the CRM's {taken}".lstrip("; ")
    return Decision(
        stream.kind,
        record.id,
        "update" if result.crm else "skip",
        link.remote_object,
        link.remote_id,
        result.crm,
        reason,
        hub=result.hub,
    )


def new_values(mapping: ObjectMap, mine: dict[str, Any]) -> dict[str, Any]:
    return {
        f.crm: mine[f.hub] for f in mapping.fields if f.writes_crm and not empty(mine.get(f.hub))
    }


def decide_company(
    facts: Facts, shape: Shape, *, manual: bool, needed_for_contact: bool = False
) -> Decision:
    company = facts.record
    assert isinstance(company, Company)
    stream, policy = shape.company, shape.policy
    mapping = shape.maps[stream.name]
    mine = hub_values(company, mapping, policy=policy, company=None, to_remote=facts.to_remote)
    link = active_link(facts.company_links, [stream.name])
    if link is not None:
        return _update(shape, stream, company, mine, link, facts, manual)
    gone = deleted_remote(shape, company, facts.company_links, manual)
    if gone is not None:
        return gone
    kind, kinds = stream.one(), stream.many()
    for label, rows in (("domain", facts.company_by_domain), ("name", facts.company_by_name)):
        if len(rows) > 1:
            ids = ", ".join(r.remote_id for r in rows)
            return Decision(
                "company",
                company.id,
                "error",
                stream.name,
                reason=f"ambiguous {kind}: {len(rows)} {shape.label} {kinds} match by {label} "
                f"({ids})",
                hint=f"merge the duplicate {kinds} in {shape.label} into one, or correct the "
                f"{label} of the {kind} that is not this company",
            )
        if rows:
            row = rows[0]
            owner = facts.taken.get((stream.name, row.remote_id))
            if owner is not None and owner != company.id:
                return Decision(
                    "company",
                    company.id,
                    "skip",
                    stream.name,
                    row.remote_id,
                    reason=f"potential duplicate of hub company {owner}, which is linked to "
                    f"{shape.label} {kind} {row.remote_id}",
                )
            theirs = crm_values(row.fields, mapping, stream)
            result = resolve(mapping.fields, mine, theirs, None, manual=manual)
            return Decision(
                "company",
                company.id,
                "link",
                stream.name,
                row.remote_id,
                result.crm,
                f"found by {label}",
                snapshot=theirs,
            )
    if not manual and not needed_for_contact:
        if not policy.push.push_accounts:
            return Decision("company", company.id, "skip", reason=f"{kind} push is off")
        if not policy.push.accounts.allows(company.account_stage):
            stage = company.account_stage or "No stage"
            return Decision(
                "company", company.id, "skip", reason=f"{kind} stage {stage!r} is not selected"
            )
    if empty(company.name):
        return Decision(
            "company",
            company.id,
            "error",
            stream.name,
            reason="the company has no name",
            hint="give the company a name in the hub",
        )
    values = new_values(mapping, mine)
    source = policy.push.account_source
    if source is not None:
        values[source.field] = source.value
    return Decision("company", company.id, "create", stream.name, values=values, reason="new")


def decide_person(facts: Facts, shape: Shape, *, manual: bool) -> Decision:
    person = facts.record
    assert isinstance(person, Person)
    policy = shape.policy
    link = active_link(facts.links, [s.name for s in shape.people])
    if link is not None:  # an update, whatever the stage; the variant the record already is
        stream = shape.stream(link.remote_object)
        mine = hub_values(
            person,
            shape.maps[stream.name],
            policy=policy,
            company=facts.company,
            to_remote=facts.to_remote,
        )
        return _update(shape, stream, person, mine, link, facts, manual)
    gone = deleted_remote(shape, person, facts.links, manual)
    if gone is not None:
        return gone
    if not manual:
        if not policy.push.enabled:
            return Decision("person", person.id, "skip", reason="push is disabled")
        if not policy.push.contacts.allows(person.stage):
            stage = person.stage or "No stage"
            return Decision(
                "person", person.id, "skip", reason=f"contact stage {stage!r} is not selected"
            )
    for stream in shape.people:
        rows = facts.email_matches.get(stream.name, [])
        kind, kinds = stream.one(), stream.many()
        if len(rows) > 1:
            ids = ", ".join(r.remote_id for r in rows)
            return Decision(
                "person",
                person.id,
                "error",
                stream.name,
                reason=f"ambiguous: {len(rows)} {shape.label} {kinds} have this e-mail ({ids})",
                hint=f"merge the duplicate {kinds} in {shape.label} into one, or correct the "
                f"e-mail of the {kind} that is not this person",
            )
        if rows:
            owner = facts.taken.get((stream.name, rows[0].remote_id))
            if owner is not None and owner != person.id:
                return Decision(
                    "person",
                    person.id,
                    "skip",
                    stream.name,
                    rows[0].remote_id,
                    reason=f"potential duplicate of hub person {owner}, which is linked to "
                    f"{shape.label} {kind} {rows[0].remote_id} with the same e-mail",
                )
            mapping = shape.maps[stream.name]
            mine = hub_values(
                person, mapping, policy=policy, company=facts.company, to_remote=facts.to_remote
            )
            theirs = crm_values(rows[0].fields, mapping, stream)
            result = resolve(mapping.fields, mine, theirs, None, manual=manual)
            return Decision(
                "person",
                person.id,
                "link",
                stream.name,
                rows[0].remote_id,
                result.crm,
                "same e-mail",
                snapshot=theirs,
            )
    stream = shape.create_as
    mapping = shape.maps[stream.name]
    mine = hub_values(
        person, mapping, policy=policy, company=facts.company, to_remote=facts.to_remote
    )
    values = new_values(mapping, mine)
    source = policy.push.people_source
    if source is not None:
        values[source.field] = source.value
    decision = Decision("person", person.id, "create", stream.name, values=values, reason="new")
    if stream.company is not None and stream.company.field:
        if facts.company is None and not stream.company.required:
            return decision  # created without a company (none to bring)
        if facts.company is None:
            return Decision(
                "person",
                person.id,
                "error",
                stream.name,
                reason=f"a {shape.label} {stream.one()} needs "
                f"{_article(shape.company.one())} and the person has no company",
                hint="give the person a company in the hub",
            )
        company_facts = Facts(
            facts.company,
            None,
            {},
            facts.company_links,
            facts.mirror,
            {},
            facts.company_by_domain,
            facts.company_by_name,
            facts.to_remote,
            facts.taken,
        )
        account = decide_company(company_facts, shape, manual=manual, needed_for_contact=True)
        if account.action == "error":
            return Decision(
                "person",
                person.id,
                "error",
                stream.name,
                reason=account.reason,
                account=account,
                hint=account.hint,
            )
        decision.account = account
    return decision


def _article(noun: str) -> str:
    word = noun.lower()
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
