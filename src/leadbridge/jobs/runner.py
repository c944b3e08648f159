"""The embedded runner: one process runs every connection's jobs on their schedules.

Two kinds of job: the Apollo push (per Apollo connection, its own settings) and, when a policy is
given, the two-way CRM sync (jobs/crm.py: per sync of the policy). They run side by side on each
tick, so a long initial pull does not hold up the others. Leases (jobs/lease.py) keep one
connection's runs from overlapping, even when several `leadbridge serve` processes share a
PostgreSQL hub; the scale-out runner (procrastinate) will call the same job functions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from leadbridge.engine.leadpush.run import LeadPush, RunReport
from leadbridge.hub.connections import Connections
from leadbridge.hub.tables import utcnow
from leadbridge.jobs.crm import CrmRun, CrmSchedule
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.jobs.tasks import lead_push_task
from leadbridge.policy.apollo_push import ApolloPushSettings, SettingsError

log = logging.getLogger("leadbridge.runner")
OnReport = Callable[[str, RunReport], Awaitable[None] | None]


class EmbeddedRunner:
    def __init__(
        self, connections: Connections, *, tick: float = 5.0, crm: CrmSchedule | None = None
    ) -> None:
        self.connections = connections
        self.tick = tick
        self.crm = crm
        self.next_due: dict[int, datetime] = {}
        self.reports: list[RunReport] = []
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run_due(self, now: datetime | None = None) -> list[RunReport | CrmRun]:
        """Run every job that is due at `now`; what ran (Apollo reports, then CRM runs)."""
        now = now or utcnow()
        apollo, crm = await asyncio.gather(self._apollo_due(now), self._crm_due(now))
        return [*apollo, *crm]

    async def _crm_due(self, now: datetime) -> list[CrmRun]:
        return await self.crm.run_due(now) if self.crm is not None else []

    async def _apollo_due(self, now: datetime) -> list[RunReport]:
        done = []
        for connection in self.connections.all():
            if connection.kind != "apollo":
                continue
            try:
                settings = ApolloPushSettings.load(connection.settings.get("apollo_push"))
            except SettingsError as exc:
                log.error("connection %s: bad settings: %s", connection.name, exc)
                continue
            if not settings.enabled or self.next_due.get(connection.id, now) > now:
                continue
            self.next_due[connection.id] = now + timedelta(minutes=settings.interval_minutes)
            try:
                push = LeadPush(self.connections.hub, self.connections, connection)
                report = await lead_push_task(push)
            except LeaseHeld as exc:
                log.info("%s", exc)
                continue
            except Exception:  # one connection's crash must not stop the others' schedules
                log.exception("apollo-push on %s crashed", connection.name)
                continue
            log.info(
                "apollo-push on %s: %s, %s, %d API calls",
                connection.name,
                report.status,
                dict(report.counts),
                report.api_calls,
            )
            self.reports.append(report)
            done.append(report)
        return done

    async def serve_forever(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    await self.run_due()
                except Exception:  # e.g. the hub briefly unreachable: the next tick tries again
                    log.exception("the scheduler tick failed")
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=self.tick)
                except TimeoutError:
                    pass
        finally:
            if self.crm is not None:
                await self.crm.aclose()
