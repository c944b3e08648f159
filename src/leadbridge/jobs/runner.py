"""The embedded runner: one process, one loop, every connection's jobs on their schedules.

Each kind of job brings its schedule: the lead push (jobs/leadpush.py: per lead-push connection,
its own settings) and, when a policy is given, the two-way CRM sync (jobs/crm.py: per sync of the
policy). Every tick asks each schedule what is due; they run side by side, so a long initial
pull does not hold up the others. Leases (jobs/lease.py) keep one connection's runs from
overlapping, even when several `leadbridge serve` processes share a PostgreSQL hub; the
scale-out runner (procrastinate) will call the same tasks (jobs/tasks.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from leadbridge.engine.leadpush.run import RunReport
from leadbridge.hub.connections import Connections
from leadbridge.hub.tables import utcnow
from leadbridge.jobs.crm import CrmSchedule
from leadbridge.jobs.leadpush import LeadPushSchedule

log = logging.getLogger("leadbridge.runner")


class Schedule(Protocol):
    def describe(self) -> list[str]: ...

    async def run_due(self, now: datetime) -> Sequence[Any]: ...

    async def aclose(self) -> None: ...


class EmbeddedRunner:
    def __init__(
        self, connections: Connections, *, tick: float = 5.0, crm: CrmSchedule | None = None
    ) -> None:
        self.connections = connections
        self.tick = tick
        self.leads = LeadPushSchedule(connections)
        self.crm = crm
        self.schedules: list[Schedule] = [self.leads, *([crm] if crm is not None else [])]
        self._stop = asyncio.Event()

    @property
    def reports(self) -> list[RunReport]:
        return self.leads.reports

    def describe(self) -> list[str]:
        return [line for schedule in self.schedules for line in schedule.describe()]

    def stop(self) -> None:
        self._stop.set()

    async def run_due(self, now: datetime | None = None) -> list[Any]:
        """Run every job that is due at `now`; what ran, schedule by schedule."""
        now = now or utcnow()
        results = await asyncio.gather(*(s.run_due(now) for s in self.schedules))
        return [run for runs in results for run in runs]

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
            for schedule in self.schedules:
                await schedule.aclose()
