"""The push plan: every record's decision, then what holds some back (a failure that would
repeat, an undo that sticks, a batch job that may still be creating it, a second create of one
identity), with the reason. `plan`, `explain` and the run all use it.

A full plan (no records named) plans only what may have changed since it was last in sync
(select.py), a page at a time; records found quiet are counted, not planned. When the policy or
the owner mapping changed since the last full push (the plan's fingerprint), it plans all."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.failures import RetryRules, hold, payload_hash
from leadbridge.engine.sync.push.decide import (
    Action,
    Decision,
    Facts,
    Shape,
    decide_company,
    decide_person,
)
from leadbridge.engine.sync.push.facts import gather
from leadbridge.engine.sync.push.guard import hold_possible_duplicates
from leadbridge.engine.sync.push.select import outside_scope, pages
from leadbridge.hub.tables import DETACHED, Company, Person, RecordLink, utcnow
from leadbridge.normalize import company_name_key

CRM_RETRY = RetryRules(backoff=False)  # a transient failure is retried on the next run
# Part of the fingerprint: a release that decides differently plans everything once.
PLAN_VERSION = 2  # 2: the duplicate guard on creates


@dataclass
class PushPlan:
    people: list[Decision]
    companies: list[Decision]
    # Records a full plan did not plan: in sync when last written or confirmed, and nothing
    # moved since (hub object -> count). They count as in sync.
    quiet: dict[str, int] = field(default_factory=dict)
    # Links of planned records found in sync: the run moves their `last_synced_at` to
    # `planned_at`, and the next full plan passes them by.
    confirm: list[int] = field(default_factory=list)
    planned_at: datetime | None = None
    fingerprint: str | None = None  # a full plan under a new fingerprint: the one to record
    # People a full plan left out: outside the sync's scope, never linked (select.py).
    out_of_scope: int = 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {f"{kind}_skip": n for kind, n in self.quiet.items() if n}
        if self.out_of_scope:
            out["person_out_of_scope"] = self.out_of_scope
        for d in (*self.companies, *self.people):
            key = f"{d.hub_object}_{d.action}"
            out[key] = out.get(key, 0) + 1
        return out

    def in_sync(self) -> int:
        return sum(d.in_sync for d in (*self.companies, *self.people)) + sum(self.quiet.values())

    def add(self, page: PushPlan, *, keep_in_sync: bool = True) -> None:
        """A page's decisions (those in sync, and their links to confirm, only when
        `keep_in_sync`: a run need not hold them) and counts into this plan."""
        if keep_in_sync:
            self.confirm.extend(page.confirm)
        for mine, theirs in ((self.people, page.people), (self.companies, page.companies)):
            mine.extend(d for d in theirs if keep_in_sync or not d.in_sync)
            if not keep_in_sync:
                for d in theirs:
                    if d.in_sync:
                        self.quiet[d.hub_object] = self.quiet.get(d.hub_object, 0) + 1
        for kind, n in page.quiet.items():
            self.quiet[kind] = self.quiet.get(kind, 0) + n
        self.out_of_scope += page.out_of_scope
        self.fingerprint = page.fingerprint or self.fingerprint


def fingerprint(ctx: SyncContext, to_remote: dict[int, str]) -> str:
    """What a record's decision depends on besides the record, its links and the mirror: the
    policy, the owner mapping, and the planner's version."""
    data = {
        "version": PLAN_VERSION,
        "policy": ctx.policy.model_dump(mode="json"),
        "owners": sorted(to_remote.items()),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def plan(
    ctx: SyncContext,
    *,
    person_ids: Sequence[int] | None = None,
    company_ids: Sequence[int] | None = None,
    manual: bool = False,
    everything: bool = False,
    allow_duplicates: bool = False,
) -> PushPlan:
    """The push plan for the given records; with none given, of the hub: what may have
    changed (all of it with `everything`), the rest counted as quiet. A person the matcher
    finds in the CRM under another e-mail is held as a possible duplicate unless
    `allow_duplicates` (a person's explicit word) or the policy turns the guard off."""
    out = PushPlan([], [])
    for page in plan_pages(
        ctx,
        person_ids=person_ids,
        company_ids=company_ids,
        manual=manual,
        everything=everything,
        allow_duplicates=allow_duplicates,
    ):
        out.add(page)
    return out


def plan_pages(
    ctx: SyncContext,
    *,
    person_ids: Sequence[int] | None = None,
    company_ids: Sequence[int] | None = None,
    manual: bool = False,
    everything: bool = False,
    allow_duplicates: bool = False,
) -> Iterator[PushPlan]:
    """The plan a page at a time (companies first): what a run applies before it plans the
    next page, so that a page's people find the companies an earlier page created."""
    shape = Shape.of(ctx)
    claimed: dict[tuple[str, str], int] = {}
    if person_ids is not None or company_ids is not None:
        yield _plan_page(
            ctx,
            shape,
            list(person_ids or []),
            list(company_ids or []),
            manual,
            claimed,
            allow_duplicates,
        )
        return
    with ctx.hub.session() as s:
        to_remote, _ = ctx.users.owners(s)
        totals = {
            "company": s.scalar(_count(Company, ctx)) or 0,
            "person": s.scalar(_count(Person, ctx)) or 0,
        }
        outside = outside_scope(ctx)
        out_of_scope = (
            s.scalar(_count(Person, ctx).where(outside)) or 0 if outside is not None else 0
        )
    mark: str | None = fingerprint(ctx, to_remote)
    if ctx.state().get("plan_fingerprint") == mark:
        mark = None  # nothing new to record once planned
    else:
        everything = True
    for kind in ("company", "person"):
        planned = 0
        for ids in pages(ctx, kind, everything=everything):
            planned += len(ids)
            people, companies = (ids, []) if kind == "person" else ([], ids)
            page = _plan_page(ctx, shape, people, companies, manual, claimed, allow_duplicates)
            page.fingerprint = mark
            yield page
        left_out = out_of_scope if kind == "person" else 0
        quiet = max(0, totals[kind] - planned - left_out)
        if quiet or left_out:
            yield PushPlan([], [], quiet={kind: quiet}, fingerprint=mark, out_of_scope=left_out)


def _count(model: type[Person] | type[Company], ctx: SyncContext) -> Any:
    return select(func.count()).select_from(model).where(model.workspace_id == ctx.workspace_id)


def _plan_page(
    ctx: SyncContext,
    shape: Shape,
    person_ids: list[int],
    company_ids: list[int],
    manual: bool,
    claimed: dict[tuple[str, str], int],
    allow_duplicates: bool = False,
) -> PushPlan:
    planned_at = utcnow()
    with ctx.hub.session() as s:
        people = (
            list(s.scalars(select(Person).where(Person.id.in_(person_ids)).order_by(Person.id)))
            if person_ids
            else []
        )
        companies = (
            list(s.scalars(select(Company).where(Company.id.in_(company_ids)).order_by(Company.id)))
            if company_ids
            else []
        )
        # Tombstones still linked: their CRM records are deleted or unlinked, not planned.
        tombstones: list[Person | Company] = [
            *(p for p in people if p.deleted_at is not None),
            *(c for c in companies if c.deleted_at is not None),
        ]
        gone = _deleted_in_hub(s, ctx, shape, tombstones)
        people = [p for p in people if p.deleted_at is None]
        companies = [c for c in companies if c.deleted_at is None]
        people_facts, company_facts = gather(s, ctx, shape, people, companies)
        outside = _outside_scope(s, ctx, [p.id for p in people])
        asked = {c.id for c in companies}
        decisions_c = [
            decide_company(company_facts[c], shape, manual=manual)
            for c in sorted(company_facts)
            if c in asked
        ]
        decisions_p = [decide_person(people_facts[p.id], shape, manual=manual) for p in people]
        for d in decisions_p:
            if d.action == "create" and d.hub_id in outside and not manual:  # named: goes
                scope = ctx.policy.scope.describe()
                d.action, d.reason = "skip", f"outside the sync scope ({scope})"
        # The page's own records and the companies its new people bring.
        of = {
            "person": person_ids,
            "company": [*company_ids, *(d.account.hub_id for d in decisions_p if d.account)],
        }
        held = {
            (link.hub_object, link.hub_id): link
            for link in ctx.links.with_status(s, ("error", "undone", "pending"), of)
        }
        waiting = ctx.links.waiting_for_jobs(s, of)
    now = ctx.clock()
    read_through = ctx.read_through()
    for d in (*decisions_c, *decisions_p):
        _hold_for_job(d, waiting, ctx.label)
        _hold_unread_intent(ctx, d, held, read_through)
        if manual:
            continue
        _hold_back(d, held.get((d.hub_object, d.hub_id)), now)
        account = d.account
        if d.action == "create" and account is not None and account.action == "create":
            # The company a new person brings is held like the company itself: else every run
            # would send it again with the person, and fail again.
            _hold_back(account, held.get(("company", account.hub_id)), now)
            if account.action == "skip":
                kind = ctx.stream(account.stream).one() if account.stream else "company"
                d.action, d.reason = "skip", f"its {kind} is held back: {account.reason}"
    threshold = ctx.policy.push.possible_duplicate_threshold
    if threshold is not None and not allow_duplicates:
        hold_possible_duplicates(ctx, decisions_p, people_facts, threshold)
    _one_create_per_identity(decisions_c, decisions_p, people_facts, company_facts, claimed)
    decisions_c += [d for d in gone if d.hub_object == "company"]
    decisions_p += [d for d in gone if d.hub_object == "person"]
    confirm: list[int] = []
    for d in (*decisions_c, *decisions_p):
        facts = (company_facts if d.hub_object == "company" else people_facts).get(d.hub_id)
        note = _owner_note(facts, shape, d) if facts is not None else None
        if note:
            d.reason = f"{d.reason}; {note}" if d.reason else note
        if d.in_sync and facts is not None:
            links = facts.company_links if d.hub_object == "company" else facts.links
            confirm.extend(link.id for link in links.values() if link.remote_id)
    return PushPlan(decisions_p, decisions_c, confirm=confirm, planned_at=planned_at)


def _outside_scope(s: Session, ctx: SyncContext, person_ids: list[int]) -> set[int]:
    """The people of a page the sync's scope leaves out (select.py decides, in SQL)."""
    outside = outside_scope(ctx)
    if outside is None or not person_ids:
        return set()
    return set(s.scalars(select(Person.id).where(Person.id.in_(person_ids), outside)))


def _deleted_in_hub(
    s: Session, ctx: SyncContext, shape: Shape, records: Sequence[Person | Company]
) -> list[Decision]:
    """Records deleted in the hub that are still linked: with deletion sync on for their kind
    the CRM record is deleted, else only unlinked (the CRM keeps it)."""
    out: list[Decision] = []
    for kind in ("company", "person"):
        ids = [r.id for r in records if (kind == "person") == isinstance(r, Person)]
        on = ctx.policy.deletion_sync.on(kind)
        for hub_id, links in ctx.links.of_hub(s, kind, ids).items():
            for link in links.values():
                if not link.remote_id or link.status in DETACHED:
                    continue
                what = ctx.stream(link.remote_object).one()
                reason = (
                    f"deleted in the hub: the {what} is deleted (deletion sync)"
                    if on
                    else f"deleted in the hub: unlinked, {shape.label} keeps the {what} "
                    "(deletion sync is off)"
                )
                action: Action = "delete" if on else "unlink"
                out.append(
                    Decision(
                        kind, hub_id, action, link.remote_object, link.remote_id, reason=reason
                    )
                )
    return out


def _hold_back(d: Decision, link: RecordLink | None, now: datetime) -> None:
    """A permanent failure is not resent until the data changes or `errors retry`; what an
    undo took back is not sent again until the data changes or a manual push."""
    if link is None or d.action not in ("create", "update") or link.status == "pending":
        return
    if link.status == "error":
        verdict = hold(link, d.values, CRM_RETRY, now)
        if verdict is not None:
            d.action, d.reason = "skip", verdict[1]
    elif link.status == "undone" and (
        link.failed_hash == payload_hash(d.values) or (d.action == "create" and not link.remote_id)
    ):
        d.action, d.reason = (
            "skip",
            "undone by `leadbridge undo`: not sent again until the hub's values change, or "
            "by a manual `leadbridge push`",
        )


def _hold_for_job(d: Decision, waiting: dict[tuple[str, int], str], label: str) -> None:
    """A record (or the company a new person needs) that a batch job of an earlier run may
    still be creating is not created again, by any run, until that job's results are read."""
    job = waiting.get((d.hub_object, d.hub_id))
    if job is None and d.account is not None and d.account.action == "create":
        job = waiting.get(("company", d.account.hub_id))
    if d.action == "create" and job is not None:
        d.action = "skip"
        d.reason = (
            f"waiting for {label} bulk job {job} of an earlier run, which may be creating "
            "it: its results are read before anything is sent again"
        )


def _hold_unread_intent(
    ctx: SyncContext,
    d: Decision,
    held: dict[tuple[str, int], RecordLink],
    read_through: datetime | None,
) -> None:
    """A plain create sent earlier whose answer never came (a run killed, a 5xx after it
    landed) is sent again only after a pull read the CRM past it: had it landed, that pull
    found and linked it; not found, it did not land. Without such a read, sending it again
    could make the record twice. A new person whose company is such a create waits with it.
    (A create the system hands back instead of doubling, by its upsert key, is sent again.)"""
    if d.action != "create":
        return
    why = _unread(ctx, d, held.get((d.hub_object, d.hub_id)), read_through)
    if why is None and d.account is not None and d.account.action == "create":
        company = _unread(ctx, d.account, held.get(("company", d.account.hub_id)), read_through)
        why = f"its company: {company}" if company else None
    if why is not None:
        d.action, d.reason = "skip", why


def _unread(
    ctx: SyncContext, d: Decision, link: RecordLink | None, read_through: datetime | None
) -> str | None:
    if link is None or link.remote_id is not None or not link.pushed or d.stream is None:
        return None
    if not ctx.catalog.plain_create(ctx.stream(d.stream), link.pushed):
        return None
    unconfirmed = link.status == "pending" or (
        link.status == "error" and link.error_class != "permanent"
    )
    if unconfirmed and (read_through is None or link.updated_at >= read_through):
        return (
            f"an earlier create of it may have landed in {ctx.label}: the next pull tells "
            "(found, it is linked; not found, it is created again)"
        )
    return None


def _owner_note(facts: Facts, shape: Shape, d: Decision) -> str | None:
    """Where the policy pushes owners but this one has no active remote user, the record goes
    without it (the CRM keeps or gives its own): say so, rather than stay silent."""
    if d.action not in ("create", "link", "update") or d.stream is None:
        return None
    owner = facts.record.owner_id
    if not shape.maps[d.stream].writes_owner or owner is None or owner in facts.to_remote:
        return None
    return f"owner not sent: hub user {owner} has no active {shape.label} user with that e-mail"


def _one_create_per_identity(
    companies: Sequence[Decision],
    people: Sequence[Decision],
    people_facts: dict[int, Facts],
    company_facts: dict[int, Facts],
    claimed: dict[tuple[str, str], int],
) -> None:
    """Two hub records that are one CRM record (people with one e-mail, companies with one
    name and no domain) would be created twice in one run: the first (oldest) goes, the others
    wait with the reason — duplicates in the hub are for a person to merge, not for the CRM.
    `claimed` carries the identities across a run's pages."""

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


__all__ = ["PushPlan", "fingerprint", "plan", "plan_pages"]
