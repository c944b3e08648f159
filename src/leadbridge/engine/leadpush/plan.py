"""The lead-push plan: per lead, create / adopt / update / unchanged / wait / skip / detach.

A pure function of (hub leads, their links, rules, the field map, owner mapping, now, optionally
what the remote already holds). `leadbridge plan` prints it, `leadbridge explain` prints one item
of it, and a run applies it: one classifier, so the preview never lies. The qualification
(qualify.py) is its gate; the failure policy (engine/sync/failures.py) holds back what failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from leadbridge.engine.leadpush.qualify import (
    CompanyLead,
    Criterion,
    OwnerDirectory,
    StageLadder,
    criteria,
    failures,
    settling,
)
from leadbridge.engine.sync.failures import RetryRules, hold
from leadbridge.normalize import website_for
from leadbridge.policy.apollo_push import ApolloPushSettings, OnDisqualified
from leadbridge.policy.fields import ObjectMap


class Action(StrEnum):
    CREATE = "create"  # no link: created (the remote's dedupe may still adopt)
    ADOPT = "adopt"  # no link, and the remote already has this domain (known to a remote plan)
    UPDATE = "update"  # linked, pushed fields changed
    UNCHANGED = "unchanged"  # linked, nothing pushed changed: no call
    WAIT = "wait"  # settle buffer or retry backoff: a later run
    SKIP = "skip"  # does not qualify, or failed until someone fixes it
    DETACH = "detach"  # linked but no longer qualifies: record left as is, link marked


@dataclass(frozen=True)
class PushRules:
    ladder: StageLadder = field(default_factory=StageLadder)
    settle: timedelta = timedelta(minutes=5)
    max_attempts: int = 8
    on_disqualified: OnDisqualified = OnDisqualified.LEAVE

    @property
    def retry(self) -> RetryRules:
        return RetryRules(max_attempts=self.max_attempts, backoff=True)

    @classmethod
    def of(cls, settings: ApolloPushSettings) -> PushRules:
        return cls(
            ladder=StageLadder(tuple(settings.stages), settings.stage_threshold),
            settle=timedelta(minutes=settings.settle_minutes),
            max_attempts=settings.max_attempts,
            on_disqualified=settings.on_disqualified,
        )


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
    values: dict[str, Any] | None = None  # what is pushed, by remote field
    remote_id: str | None = None
    previous: dict[str, Any] | None = None  # what was pushed last
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    checks: tuple[Criterion, ...] = ()
    clear_stale: bool = False


@dataclass(frozen=True)
class Plan:
    items: list[PlanItem]
    quiet: int = 0  # leads unchanged since they were last in sync: counted, not evaluated
    fingerprint: str | None = None  # what it was planned under (quiet.py)
    planned_at: datetime | None = None  # when the hub was read

    def by_action(self, *actions: Action) -> list[PlanItem]:
        return [i for i in self.items if i.action in actions]

    def counts(self) -> Counter[str]:
        out = Counter(i.action.value for i in self.items)
        if self.quiet:
            out[Action.UNCHANGED.value] += self.quiet
        return out

    def skip_reasons(self) -> Counter[str]:
        return Counter(i.reason_key for i in self.items if i.action in (Action.SKIP, Action.WAIT))


def values_for(
    lead: CompanyLead, mapping: ObjectMap, owners: OwnerDirectory
) -> dict[str, Any] | None:
    """What is pushed for a lead, by remote field; None when it cannot be (no name, domain or
    owner with an active remote user)."""
    if not (lead.name and lead.name.strip() and lead.domain and lead.owner_id in owners.active):
        return None
    assert lead.owner_id is not None
    hub = {
        "name": lead.name.strip(),
        "domain": lead.domain,
        "owner": owners.active[lead.owner_id],
        "website": website_for(lead.domain, lead.website),
    }
    return {f.crm: hub.get(f.hub) for f in mapping.fields if f.writes_crm}


def plan_lead(
    lead: CompanyLead,
    link: LinkState | None,
    rules: PushRules,
    mapping: ObjectMap,
    owners: OwnerDirectory,
    now: datetime,
    remote_domains: frozenset[str] | None = None,
) -> PlanItem:
    checks = tuple(criteria(lead, rules.ladder, owners))
    failed = failures(checks)
    linked = link is not None and link.remote_id is not None
    label = owners.label

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

    values = values_for(lead, mapping, owners)

    if failed and (not linked or rules.on_disqualified is OnDisqualified.LEAVE or values is None):
        first = failed[0]
        reason = "; ".join(c.detail for c in failed)
        if linked:
            assert link is not None
            detail = f"no longer qualifies: {reason} ({label} record left as is)"
            action = Action.DETACH if link.stale_reason != detail else Action.SKIP
            return item(action, detail, first.name, remote_id=link.remote_id)
        return item(action=Action.SKIP, reason=reason, reason_key=first.name)

    assert values is not None
    if settling(lead, now, rules.settle):
        minutes = rules.settle.total_seconds() / 60
        return item(
            action=Action.WAIT,
            values=values,
            reason=f"modified at {lead.updated_at:%H:%M:%S} UTC, inside the {minutes:g}-minute "
            "settle buffer; the next run takes it",
            reason_key="settle buffer",
            remote_id=link.remote_id if link else None,
        )

    if link is not None:
        gate = hold(link, values, rules.retry, now)
        if gate is not None:
            verdict, reason, key = gate
            return item(
                action=Action(verdict),
                reason=reason,
                reason_key=key,
                values=values,
                remote_id=link.remote_id,
            )

    if not linked:
        recovering = link is not None and link.status == "pending"
        if remote_domains is not None and lead.domain in remote_domains:
            return item(
                action=Action.ADOPT,
                values=values,
                reason_key="adopt",
                reason=f"{label} already has a record for this domain: link it",
            )
        reason = f"qualifies; not yet in {label}"
        if recovering:
            reason = "an earlier create was not confirmed: dedupe adopts it if it landed"
        elif link is not None and link.status == "error":
            reason = (
                f"retry {link.attempts + 1} of {rules.max_attempts} (last error: {link.last_error})"
            )
        return item(action=Action.CREATE, values=values, reason=reason, reason_key="create")

    assert link is not None and link.remote_id is not None
    stale = link.stale_reason is not None
    before = dict(link.pushed or {})
    changes = {k: (before.get(k), v) for k, v in values.items() if before.get(k) != v}
    if not changes:
        return item(
            action=Action.UNCHANGED,
            values=values,
            remote_id=link.remote_id,
            reason="linked; nothing pushed has changed",
            reason_key="unchanged",
            clear_stale=stale,
        )
    return item(
        action=Action.UPDATE,
        values=values,
        remote_id=link.remote_id,
        previous=before,
        changes=changes,
        clear_stale=stale,
        reason="changed: " + ", ".join(sorted(changes)),
        reason_key="update",
    )


def build_plan(
    leads: Iterable[CompanyLead],
    links: Mapping[int, LinkState],
    rules: PushRules,
    mapping: ObjectMap,
    owners: OwnerDirectory,
    now: datetime,
    remote_domains: frozenset[str] | None = None,
) -> Plan:
    return Plan(
        [
            plan_lead(lead, links.get(lead.id), rules, mapping, owners, now, remote_domains)
            for lead in leads
        ]
    )
