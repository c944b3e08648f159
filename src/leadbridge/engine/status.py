"""`leadbridge status`: connections, link states, the latest runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, ErrorLogEntry, RecordLink, SyncRun, User


@dataclass
class HubStatus:
    companies: int = 0
    users: int = 0
    links: Counter[str] = field(default_factory=Counter)
    stale_links: int = 0
    open_errors: int = 0
    runs: list[SyncRun] = field(default_factory=list)


def hub_status(hub: Hub, runs: int = 5) -> HubStatus:
    ws = hub.workspace_id
    status = HubStatus()
    with hub.session() as s:
        status.companies = s.scalar(select(func.count()).where(Company.workspace_id == ws)) or 0
        status.users = s.scalar(select(func.count()).where(User.workspace_id == ws)) or 0
        for link_status, count in s.execute(
            select(RecordLink.status, func.count())
            .where(RecordLink.workspace_id == ws)
            .group_by(RecordLink.status)
        ):
            status.links[link_status] = count
        status.stale_links = (
            s.scalar(
                select(func.count()).where(
                    RecordLink.workspace_id == ws, RecordLink.stale_reason.is_not(None)
                )
            )
            or 0
        )
        status.open_errors = (
            s.scalar(
                select(func.count()).where(
                    ErrorLogEntry.workspace_id == ws, ErrorLogEntry.resolved_at.is_(None)
                )
            )
            or 0
        )
        status.runs = list(
            s.scalars(
                select(SyncRun)
                .where(SyncRun.workspace_id == ws)
                .order_by(SyncRun.id.desc())
                .limit(runs)
            )
        )
    return status
