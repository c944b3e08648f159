"""Which company leads qualify for the lead push: every criterion, each with its verdict.

Pure functions over plain values. `explain` prints these criteria one by one; the planner uses
the same list, so a preview never disagrees with a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from leadbridge.normalize import normalize_domain
from leadbridge.policy.apollo_push import DEFAULT_STAGES, NON_RANK_STAGES

QUALIFYING_FITS = ("strong", "moderate")


@dataclass(frozen=True)
class CompanyLead:
    id: int
    name: str | None
    domain: str | None
    website: str | None
    icp_fit: str
    stage: str | None
    is_lead: bool
    is_customer: bool
    quarantine: str
    owner_id: int | None
    updated_at: datetime


@dataclass(frozen=True)
class StageLadder:
    stages: tuple[str, ...] = DEFAULT_STAGES
    threshold: str = "target"

    def __post_init__(self) -> None:
        bad = [s for s in self.stages if s in NON_RANK_STAGES]
        if bad:
            raise ValueError(f"{', '.join(bad)} cannot be a rank in the stage list")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("the stage list names a stage twice")
        if self.threshold not in self.stages:
            raise ValueError(
                f"stage threshold {self.threshold!r} is not one of: {', '.join(self.stages)}"
            )

    def above_threshold(self, stage: str | None) -> bool:
        if stage is None or stage not in self.stages:
            return False
        return self.stages.index(stage) > self.stages.index(self.threshold)


@dataclass(frozen=True)
class OwnerDirectory:
    """Hub user id -> remote user id, for mapped users only; `deleted` are mapped to a deleted
    remote user (never used as owners). `label` names the system ("Apollo")."""

    active: dict[int, str] = field(default_factory=dict)
    deleted: frozenset[int] = frozenset()
    label: str = "remote"


@dataclass(frozen=True)
class Criterion:
    name: str
    passed: bool
    detail: str


def criteria(lead: CompanyLead, ladder: StageLadder, owners: OwnerDirectory) -> list[Criterion]:
    """Every qualification criterion for one lead, in a fixed order."""
    domain = normalize_domain(lead.domain)
    stage = lead.stage or "no stage"
    checks = [
        Criterion(
            "company lead",
            lead.is_lead,
            "is a company lead" if lead.is_lead else "is a company but not marked as a lead",
        ),
        Criterion(
            "not a customer",
            not lead.is_customer and lead.stage != "customer",
            _customer_detail(lead),
        ),
        Criterion(
            "ICP fit",
            lead.icp_fit in QUALIFYING_FITS,
            f"ICP fit is {lead.icp_fit} (needs moderate or strong)",
        ),
        Criterion(
            "stage",
            ladder.above_threshold(lead.stage),
            f"stage is {stage} (needs above {ladder.threshold}: "
            f"{', '.join(ladder.stages[ladder.stages.index(ladder.threshold) + 1 :]) or 'none'})",
        ),
        Criterion(
            "not quarantined",
            lead.quarantine == "active",
            f"quarantine status is {lead.quarantine}",
        ),
        Criterion(
            "name",
            bool(lead.name and lead.name.strip()),
            f"name is {lead.name!r}" if lead.name and lead.name.strip() else "has no name",
        ),
        Criterion(
            "domain",
            domain is not None and domain == lead.domain,
            f"primary domain is {lead.domain}"
            if domain is not None and domain == lead.domain
            else f"has no valid primary domain ({lead.domain!r})",
        ),
        _owner_criterion(lead, owners),
    ]
    return checks


def _customer_detail(lead: CompanyLead) -> str:
    if lead.is_customer and lead.stage == "customer":
        return "is already a customer"
    if lead.is_customer:
        return f"is marked as a customer (stage is {lead.stage or 'no stage'})"
    if lead.stage == "customer":
        return "stage is customer (though not marked as a customer)"
    return "is not a customer"


def _owner_criterion(lead: CompanyLead, owners: OwnerDirectory) -> Criterion:
    if lead.owner_id is None:
        return Criterion("owner", False, "has no owner assigned")
    if lead.owner_id in owners.active:
        remote = owners.active[lead.owner_id]
        return Criterion("owner", True, f"owner maps to {owners.label} user {remote}")
    if lead.owner_id in owners.deleted:
        return Criterion("owner", False, f"owner maps to a deleted {owners.label} user")
    return Criterion(
        "owner", False, f"owner has no {owners.label} user mapping (`leadbridge users map`)"
    )


def failures(checks: Sequence[Criterion]) -> list[Criterion]:
    return [c for c in checks if not c.passed]


def settling(lead: CompanyLead, now: datetime, settle: timedelta) -> bool:
    """Modified within the settle buffer: wait for the next run (edits may still be coming)."""
    return lead.updated_at > now - settle
