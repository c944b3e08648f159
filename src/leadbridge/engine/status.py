"""`leadbridge status`: connections, link states, the latest runs, and per CRM connection how
many hub people and companies are in sync, failing or not linked.

`hub_status` reads the hub only (no policy, no connector, no API call). The reasons why
unlinked records are not pushed need the policy: `push_outlook` runs the push classifier
(`engine.sync.push.plan`, pure, no API call) for that.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.hub.db import Hub
from leadbridge.hub.runs import settle_dead_runs
from leadbridge.hub.tables import (
    DETACHED,
    Activity,
    Company,
    Connection,
    Deal,
    ErrorLogEntry,
    Person,
    RecordLink,
    RemoteJob,
    SyncRun,
    User,
)

if TYPE_CHECKING:
    from leadbridge.engine.sync.context import SyncContext

DUPLICATE_CLASS = "potential_duplicate"  # the error class of pull's duplicate flags
HUB_OBJECTS = {"person": Person, "company": Company}


@dataclass
class SyncCounts:
    """One hub object (people or companies) against one CRM connection."""

    total: int = 0
    in_sync: int = 0  # linked to a CRM record and not failing
    failing: int = 0  # a link in error or an open error-log entry (once per record)
    not_linked: int = 0  # neither: excluded by the policy, or not pushed yet

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "in_sync": self.in_sync,
            "failing": self.failing,
            "not_linked": self.not_linked,
        }


@dataclass
class CrmStatus:
    """The sync state and counts of one CRM connection."""

    connection: str
    kind: str
    org: str | None
    setup_until: datetime | None = None  # the setup window, when it is still open
    initial_pull: str = "not_started"  # not_started | running | done
    people: SyncCounts = field(default_factory=SyncCounts)
    companies: SyncCounts = field(default_factory=SyncCounts)
    deals: SyncCounts = field(default_factory=SyncCounts)
    # Activities (pushed only): in the CRM, refused, not there (skipped by the policy or waiting).
    activities: SyncCounts = field(default_factory=SyncCounts)
    # Bulk jobs a run left open (it was killed or stopped waiting): (job id, run id, records).
    open_jobs: list[tuple[str, int | None, int]] = field(default_factory=list)

    @property
    def in_setup_window(self) -> bool:
        return self.setup_until is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "kind": self.kind,
            "org": self.org,
            "setup_until": self.setup_until.isoformat() if self.setup_until else None,
            "initial_pull": self.initial_pull,
            "people": self.people.as_dict(),
            "companies": self.companies.as_dict(),
            "deals": self.deals.as_dict(),
            "activities": self.activities.as_dict(),
            "open_jobs": [{"job": job, "run": run, "records": n} for job, run, n in self.open_jobs],
        }


@dataclass
class HubStatus:
    companies: int = 0
    people: int = 0
    users: int = 0
    deals: int = 0
    links: Counter[str] = field(default_factory=Counter)
    stale_links: int = 0
    open_errors: int = 0
    potential_duplicates: dict[str, int] = field(
        default_factory=lambda: {"people": 0, "companies": 0}
    )
    crm: list[CrmStatus] = field(default_factory=list)
    runs: list[SyncRun] = field(default_factory=list)


def _count(s: Session, *where: Any) -> int:
    return s.scalar(select(func.count()).where(*where)) or 0


def crm_scope(connection: Connection) -> str:
    """The links' remote_scope of a CRM connection (as `SyncContext.scope`)."""
    return connection.remote_scope or f"connection-{connection.id}"


def linked_and_failing(
    s: Session, workspace_id: int, connection: Connection, hub_object: str
) -> tuple[set[int], set[int]]:
    """Hub ids linked to a CRM record of this connection, and hub ids failing in its sync."""
    linked: set[int] = set()
    failing: set[int] = set()
    for hub_id, remote_id, status in s.execute(
        select(RecordLink.hub_id, RecordLink.remote_id, RecordLink.status).where(
            RecordLink.workspace_id == workspace_id,
            RecordLink.remote_system == connection.kind,  # a CRM system's key is its kind
            RecordLink.remote_scope == crm_scope(connection),
            RecordLink.hub_object == hub_object,
        )
    ):
        if status == "error":
            failing.add(hub_id)
        elif remote_id and status not in DETACHED:  # a deleted (or merged) one is not linked
            linked.add(hub_id)
    # An open error-log entry fails its record; a potential-duplicate flag only when the record
    # is not linked (a linked one is in sync: the flag is counted under potential duplicates).
    for entry_id, error_class in s.execute(
        select(ErrorLogEntry.hub_id, ErrorLogEntry.error_class).where(
            ErrorLogEntry.workspace_id == workspace_id,
            ErrorLogEntry.connection_id == connection.id,
            ErrorLogEntry.hub_object == hub_object,
            ErrorLogEntry.hub_id.is_not(None),
            ErrorLogEntry.resolved_at.is_(None),
        )
    ):
        if entry_id is not None and (error_class != DUPLICATE_CLASS or entry_id not in linked):
            failing.add(entry_id)
    return linked - failing, failing


def _crm_status(
    s: Session, workspace_id: int, connection: Connection, totals: dict[str, int], now: datetime
) -> CrmStatus:
    state = dict((connection.settings or {}).get("crm") or {})
    until = datetime.fromisoformat(state["setup_until"]) if state.get("setup_until") else None
    out = CrmStatus(
        connection=connection.name,
        kind=connection.kind,
        org=connection.remote_scope,
        setup_until=until if until is not None and now < until else None,
        initial_pull=str(state.get("initial_pull") or "not_started"),
    )
    for job_id, run_id in s.execute(
        select(RemoteJob.remote_job_id, RemoteJob.run_id).where(
            RemoteJob.workspace_id == workspace_id,
            RemoteJob.remote_scope == crm_scope(connection),
            RemoteJob.state == "open",
        )
    ):
        records = _count(
            s, RecordLink.workspace_id == workspace_id, RecordLink.remote_job_id == job_id
        )
        out.open_jobs.append((job_id, run_id, records))
    counted = (
        ("person", out.people),
        ("company", out.companies),
        ("deal", out.deals),
        ("activity", out.activities),
    )
    for hub_object, counts in counted:
        linked, failing = linked_and_failing(s, workspace_id, connection, hub_object)
        counts.total = totals[hub_object]
        counts.in_sync = len(linked)
        counts.failing = len(failing)
        counts.not_linked = max(0, counts.total - counts.in_sync - counts.failing)
    return out


def _crm_kinds() -> list[str]:
    from leadbridge.engine.systems import CRM_SYSTEMS  # the registry, not a connection

    return list(CRM_SYSTEMS)


def hub_status(hub: Hub, runs: int = 5, now: datetime | None = None) -> HubStatus:
    ws = hub.workspace_id
    now = now or datetime.now(UTC)
    status = HubStatus()
    with hub.session() as s:
        status.companies = _count(s, Company.workspace_id == ws, Company.deleted_at.is_(None))
        status.people = _count(s, Person.workspace_id == ws, Person.deleted_at.is_(None))
        status.users = _count(s, User.workspace_id == ws)
        status.deals = _count(s, Deal.workspace_id == ws)
        for link_status, count in s.execute(
            select(RecordLink.status, func.count())
            .where(RecordLink.workspace_id == ws)
            .group_by(RecordLink.status)
        ):
            status.links[link_status] = count
        status.stale_links = _count(
            s, RecordLink.workspace_id == ws, RecordLink.stale_reason.is_not(None)
        )
        status.open_errors = _count(
            s, ErrorLogEntry.workspace_id == ws, ErrorLogEntry.resolved_at.is_(None)
        )
        status.potential_duplicates = {
            "people": _count(s, Person.workspace_id == ws, Person.potential_duplicate.is_not(None)),
            "companies": _count(
                s, Company.workspace_id == ws, Company.potential_duplicate.is_not(None)
            ),
        }
        totals = {
            "person": status.people,
            "company": status.companies,
            "deal": status.deals,
            "activity": _count(s, Activity.workspace_id == ws),
        }
        crm_kinds = _crm_kinds()
        status.crm = [
            _crm_status(s, ws, c, totals, now)
            for c in s.scalars(
                select(Connection)
                .where(Connection.workspace_id == ws, Connection.kind.in_(crm_kinds))
                .order_by(Connection.name)
            )
        ]
        settle_dead_runs(s, ws)  # a killed run is shown as interrupted, not running forever
        status.runs = list(
            s.scalars(
                select(SyncRun)
                .where(SyncRun.workspace_id == ws)
                .order_by(SyncRun.id.desc())
                .limit(runs)
            )
        )
    return status


@dataclass
class PushOutlook:
    """What the push classifier says of the records that are neither linked nor failing."""

    excluded: dict[str, Counter[str]] = field(
        default_factory=lambda: {"person": Counter(), "company": Counter()}
    )  # hub object -> skip reason -> records
    to_push: Counter[str] = field(default_factory=Counter)  # hub object -> create / link next
    would_fail: Counter[str] = field(default_factory=Counter)  # hub object -> error decisions


def _reason_key(reason: str) -> str:
    # "potential duplicate of hub person 12, which …" names a record: group them all.
    return reason.split(" of hub ", 1)[0] if reason.startswith("potential duplicate") else reason


def push_outlook(ctx: SyncContext) -> PushOutlook:
    """Why each unlinked, non-failing record is not pushed (the policy's reasons), from the
    same pure classifier the push runs; reads the hub only, no API call."""
    from leadbridge.engine.sync.push import plan

    out = PushOutlook()
    with ctx.hub.session() as s:
        connection = s.get(Connection, ctx.connection.id)
        assert connection is not None
        settled = {
            hub_object: set().union(
                *linked_and_failing(s, ctx.workspace_id, connection, hub_object)
            )
            for hub_object in HUB_OBJECTS
        }
    the_plan = plan(ctx)
    if the_plan.out_of_scope:  # never planned (select.py), counted: never linked, so unsettled
        scope = f"outside the sync scope ({ctx.policy.scope.describe()})"
        out.excluded["person"][scope] += the_plan.out_of_scope
    for d in (*the_plan.people, *the_plan.companies):
        if d.hub_id in settled[d.hub_object]:
            continue
        if d.action == "skip":
            out.excluded[d.hub_object][_reason_key(d.reason)] += 1
        elif d.action == "error":
            out.would_fail[d.hub_object] += 1
        else:
            out.to_push[d.hub_object] += 1
    return out
