"""The duplicate audit (`leadbridge audit`): duplicate clusters within a CRM connection's records
(the hub's mirror), within the hub (people, companies) and across (an unlinked hub person who is
a CRM record), each with its confidence and evidence; the tutorial's hygiene checks; and a row
in the hub saying when it ran and what it found, which `status` and a connection's first pull
read (`audit_warning`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from leadbridge.engine.audit.hygiene import CHECKS, Finding, check, team_domains
from leadbridge.engine.audit.sources import (
    Source,
    crm_records,
    hub_companies,
    hub_people,
    joined,
    linked_people,
)
from leadbridge.hub.db import Hub
from leadbridge.hub.mirror import MirrorStore
from leadbridge.hub.tables import Audit, User
from leadbridge.match import DEFAULT_THRESHOLD, Agreement, find_duplicates

SECTIONS = {
    "crm_people": "people in the CRM",
    "crm_companies": "companies in the CRM",
    "hub_people": "people in the hub",
    "hub_companies": "companies in the hub",
    "across": "hub people not linked who are CRM records",
}


@dataclass(frozen=True)
class Member:
    ref: str
    name: str


@dataclass(frozen=True)
class Joined:
    """One match that joins a cluster: the two records, its confidence and evidence."""

    left: str
    right: str
    confidence: float
    evidence: tuple[Agreement, ...]


@dataclass(frozen=True)
class DuplicateCluster:
    section: str
    members: tuple[Member, ...]
    confidence: float
    matches: tuple[Joined, ...]


@dataclass(frozen=True)
class HygieneFinding:
    check: str
    ref: str
    name: str
    detail: str


@dataclass
class AuditReport:
    connection: str | None  # None: the hub alone
    records: int = 0
    clusters: list[DuplicateCluster] = field(default_factory=list)
    hygiene: list[HygieneFinding] = field(default_factory=list)
    ran_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def findings(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for section in SECTIONS:
            found = [c for c in self.clusters if c.section == section]
            out[section] = {"clusters": len(found), "records": sum(len(c.members) for c in found)}
        for name in CHECKS:
            out[name] = sum(1 for h in self.hygiene if h.check == name)
        return out


def _clusters(section: str, source: Source, threshold: float) -> list[DuplicateCluster]:
    if len(source.records) < 2:
        return []
    found = find_duplicates(source.records, threshold)
    refs, names = source.records.refs, source.names
    out = []
    for c in found.clusters:
        matches = tuple(
            Joined(
                refs[int(found.scored.a[e])],
                refs[int(found.scored.b[e])],
                float(found.scored.probability[e]),
                found.evidence(e),
            )
            for e in c.edges
        )
        members = tuple(Member(refs[i], names[i]) for i in c.members)
        out.append(DuplicateCluster(section, members, c.confidence, matches))
    return out


def run_audit(
    hub: Hub,
    connection: Any,
    *,
    catalog: Any = None,
    threshold: float = DEFAULT_THRESHOLD,
    now: datetime | None = None,
) -> AuditReport:
    """Audit one CRM connection (a row or ConnectionInfo, with its system's catalog) with the
    hub, or the hub alone (None); records the run."""
    now = now or datetime.now(UTC)
    ws = hub.workspace_id
    report = AuditReport(connection.name if connection else None, ran_at=now)
    with hub.session() as s:
        team = team_domains(list(s.scalars(select(User.email).where(User.workspace_id == ws))))
        people = hub_people(s, ws)
        companies = hub_companies(s, ws)
        sections: list[tuple[str, Source]] = []
        if connection is not None and catalog is not None:
            scope = connection.remote_scope or f"connection-{connection.id}"
            mirror = MirrorStore(ws, catalog.system, scope)
            crm_people = crm_records(s, mirror, catalog, "person")
            crm_companies = crm_records(s, mirror, catalog, "company")
            unlinked = hub_people(s, ws, exclude=linked_people(s, ws, catalog.system, scope))
            sections += [
                ("crm_people", crm_people),
                ("crm_companies", crm_companies),
                ("across", joined(unlinked, crm_people)),
            ]
            _hygiene(report, crm_people, team, now)
            report.records += len(crm_people.records) + len(crm_companies.records)
        sections += [("hub_people", people), ("hub_companies", companies)]
        _hygiene(report, people, team, now)
        report.records += len(people.records) + len(companies.records)
    for section, source in sections:
        report.clusters += _clusters(section, source, threshold)
    record_audit(hub, connection, report)
    return report


def _hygiene(report: AuditReport, source: Source, team: frozenset[str], now: datetime) -> None:
    findings: list[Finding] = check(source, team, now)
    report.hygiene += [
        HygieneFinding(f.check, source.records.refs[f.index], source.names[f.index], f.detail)
        for f in findings
    ]


def record_audit(hub: Hub, connection: Any, report: AuditReport) -> None:
    with hub.session() as s:
        s.add(
            Audit(
                workspace_id=hub.workspace_id,
                connection_id=connection.id if connection else None,
                ran_at=report.ran_at,
                records=report.records,
                clusters=len(report.clusters),
                findings=report.findings(),
            )
        )
        s.commit()


def last_audit(hub: Hub, connection_id: int | None) -> Audit | None:
    with hub.session() as s:
        return s.scalar(
            select(Audit)
            .where(Audit.workspace_id == hub.workspace_id, Audit.connection_id == connection_id)
            .order_by(Audit.ran_at.desc(), Audit.id.desc())
            .limit(1)
        )


def audit_warning(hub: Hub, connection: Any) -> str | None:
    """What to tell the user before a connection's first sync: no audit ran for it, or the
    last one found duplicates; None when the last audit found none."""
    audit = last_audit(hub, connection.id)
    if audit is None:
        return (
            f"no duplicate audit was run for {connection.name}: run `leadbridge audit` before "
            "the first sync (duplicates in the CRM become duplicates everywhere)"
        )
    if not audit.clusters:
        return None
    found = audit.findings or {}
    parts = [
        f"{found[k]['clusters']} among {label}"
        for k, label in SECTIONS.items()
        if (found.get(k) or {}).get("clusters")
    ]
    return (
        f"the duplicate audit of {audit.ran_at:%Y-%m-%d %H:%M} UTC found {audit.clusters} "
        f"duplicate cluster(s) ({', '.join(parts)}): merge them before the first sync "
        "(`leadbridge audit --csv FILE` lists them)"
    )
