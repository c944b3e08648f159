"""The Apollo-push plan: per lead, create / adopt / update / unchanged / wait / skip / detach.

A pure function of (hub leads, their links, rules, owner mapping, now, optionally what Apollo
already holds). `leadbridge plan` prints it, `leadbridge explain` prints one item of it, and a
run applies it: one classifier, so the preview never lies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from leadbridge.connectors.apollo.connector import AccountPayload
from leadbridge.engine.qualify import (
    Criterion,
    Lead,
    OwnerDirectory,
    StageLadder,
    criteria,
    failures,
    settling,
)
from leadbridge.normalize import website_for


class Action(StrEnum):
    CREATE = "create"  # no link: bulk_create (dedupe may still adopt)
    ADOPT = "adopt"  # no link, and Apollo already has this domain (known only to a remote plan)
    UPDATE = "update"  # linked, pushed fields changed
    UNCHANGED = "unchanged"  # linked, nothing pushed changed: no call
    WAIT = "wait"  # settle buffer or retry backoff: a later run
    SKIP = "skip"  # does not qualify, or failed until someone fixes it
    DETACH = "detach"  # linked but no longer qualifies: account left as is, link marked


class OnDisqualified(StrEnum):
    LEAVE = "leave"  # leave the Apollo account untouched, mark the link, stop updating it
    KEEP_UPDATING = "keep_updating"  # keep pushing changes while it can still be pushed


@dataclass(frozen=True)
class PushRules:
    ladder: StageLadder = field(default_factory=StageLadder)
    settle: timedelta = timedelta(minutes=5)
    max_attempts: int = 8
    on_disqualified: OnDisqualified = OnDisqualified.LEAVE


@dataclass(frozen=True)
class LinkState:
    hub_id: int
    remote_id: str | None
    status: str
    payload_hash: str | None = None
    pushed: Mapping[str, Any] | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    error_class: str | None = None
    failed_hash: str | None = None
    stale_reason: str | None = None


@dataclass(frozen=True)
class PlanItem:
    lead_id: int
    domain: str | None
    name: str | None
    action: Action
    reason: str
    reason_key: str = ""
    payload: AccountPayload | None = None
    remote_id: str | None = None
    previous: AccountPayload | None = None
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    checks: tuple[Criterion, ...] = ()
    clear_stale: bool = False


@dataclass(frozen=True)
class Plan:
    items: list[PlanItem]

    def by_action(self, *actions: Action) -> list[PlanItem]:
        return [i for i in self.items if i.action in actions]

    def counts(self) -> Counter[str]:
        return Counter(i.action.value for i in self.items)

    def skip_reasons(self) -> Counter[str]:
        return Counter(i.reason_key for i in self.items if i.action in (Action.SKIP, Action.WAIT))


def payload_for(lead: Lead, owners: OwnerDirectory) -> AccountPayload | None:
    if not (lead.name and lead.name.strip() and lead.domain and lead.owner_id in owners.active):
        return None
    assert lead.owner_id is not None
    return AccountPayload(
        name=lead.name.strip(),
        domain=lead.domain,
        owner_id=owners.active[lead.owner_id],
        website=website_for(lead.domain, lead.website),
    )


def previous_payload(link: LinkState) -> AccountPayload | None:
    pushed = link.pushed or {}
    if not all(pushed.get(k) for k in ("name", "domain", "owner_id")):
        return None
    return AccountPayload(
        name=str(pushed["name"]),
        domain=str(pushed["domain"]),
        owner_id=str(pushed["owner_id"]),
        website=pushed.get("website"),
    )


def _retry_gate(
    link: LinkState, digest: str, rules: PushRules, now: datetime
) -> tuple[Action, str, str] | None:
    """Whether an errored link may be tried again now; None when it may."""
    if link.status != "error":
        return None
    if link.error_class == "permanent":
        if link.failed_hash == digest:
            return (
                Action.SKIP,
                f"failed: {link.last_error}; fix it, or `leadbridge errors retry`",
                "failed (permanent)",
            )
        return None  # the pushed data changed since it failed: worth one more try
    if link.attempts >= rules.max_attempts:
        return (
            Action.SKIP,
            f"gave up after {link.attempts} attempts: {link.last_error}; "
            "`leadbridge errors retry` to try again",
            "failed (gave up)",
        )
    if link.next_attempt_at is not None and link.next_attempt_at > now:
        return (
            Action.WAIT,
            f"retry {link.attempts + 1} of {rules.max_attempts} after "
            f"{link.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC (last error: {link.last_error})",
            "retry backoff",
        )
    return None


def plan_lead(
    lead: Lead,
    link: LinkState | None,
    rules: PushRules,
    owners: OwnerDirectory,
    now: datetime,
    remote_domains: frozenset[str] | None = None,
) -> PlanItem:
    checks = tuple(criteria(lead, rules.ladder, owners))
    failed = failures(checks)
    linked = link is not None and link.remote_id is not None

    def item(action: Action, reason: str, reason_key: str, **extra: Any) -> PlanItem:
        return PlanItem(
            lead_id=lead.id,
            domain=lead.domain,
            name=lead.name,
            checks=checks,
            action=action,
            reason=reason,
            reason_key=reason_key,
            **extra,
        )

    payload = payload_for(lead, owners)

    if failed and (not linked or rules.on_disqualified is OnDisqualified.LEAVE or payload is None):
        first = failed[0]
        reason = "; ".join(c.detail for c in failed)
        if linked:
            assert link is not None
            detail = f"no longer qualifies: {reason} (Apollo account left as is)"
            action = Action.DETACH if link.stale_reason != detail else Action.SKIP
            return item(action, detail, first.name, remote_id=link.remote_id)
        return item(action=Action.SKIP, reason=reason, reason_key=first.name)

    assert payload is not None
    if settling(lead, now, rules.settle):
        minutes = rules.settle.total_seconds() / 60
        return item(
            action=Action.WAIT,
            payload=payload,
            reason=f"modified at {lead.updated_at:%H:%M:%S} UTC, inside the {minutes:g}-minute "
            "settle buffer; the next run takes it",
            reason_key="settle buffer",
            remote_id=link.remote_id if link else None,
        )

    digest = payload.digest()
    if link is not None:
        gate = _retry_gate(link, digest, rules, now)
        if gate is not None:
            action, reason, key = gate
            return item(
                action=action,
                reason=reason,
                reason_key=key,
                payload=payload,
                remote_id=link.remote_id,
            )

    if not linked:
        recovering = link is not None and link.status == "pending"
        if remote_domains is not None and payload.domain in remote_domains:
            return item(
                action=Action.ADOPT,
                payload=payload,
                reason_key="adopt",
                reason="Apollo already has an account for this domain: link it",
            )
        reason = "qualifies; not yet in Apollo"
        if recovering:
            reason = "an earlier create was not confirmed: dedupe adopts it if it landed"
        elif link is not None and link.status == "error":
            reason = (
                f"retry {link.attempts + 1} of {rules.max_attempts} (last error: {link.last_error})"
            )
        return item(action=Action.CREATE, payload=payload, reason=reason, reason_key="create")

    assert link is not None and link.remote_id is not None
    stale = link.stale_reason is not None
    if digest == link.payload_hash:
        return item(
            action=Action.UNCHANGED,
            payload=payload,
            remote_id=link.remote_id,
            reason="linked; nothing pushed has changed",
            reason_key="unchanged",
            clear_stale=stale,
        )
    previous = previous_payload(link)
    before = previous.as_dict() if previous else {}
    changes = {k: (before.get(k), v) for k, v in payload.as_dict().items() if before.get(k) != v}
    return item(
        action=Action.UPDATE,
        payload=payload,
        remote_id=link.remote_id,
        previous=previous,
        changes=changes,
        clear_stale=stale,
        reason="changed: " + ", ".join(sorted(changes)) if changes else "retrying the update",
        reason_key="update",
    )


def build_plan(
    leads: Iterable[Lead],
    links: Mapping[int, LinkState],
    rules: PushRules,
    owners: OwnerDirectory,
    now: datetime,
    remote_domains: frozenset[str] | None = None,
) -> Plan:
    return Plan(
        [plan_lead(lead, links.get(lead.id), rules, owners, now, remote_domains) for lead in leads]
    )
