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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from leadbridge.engine.leadpush.run import RunReport
from leadbridge.hub.connections import Connections
from leadbridge.hub.tables import utcnow
from leadbridge.jobs.crm import CrmSchedule
from leadbridge.jobs.leadpush import LeadPushSchedule
from leadbridge.policy.crm import PolicyFile

log = logging.getLogger("leadbridge.runner")


class Schedule(Protocol):
    def describe(self) -> list[str]: ...

    async def run_due(self, now: datetime) -> Sequence[Any]: ...

    async def aclose(self) -> None: ...


@dataclass
class Heartbeat:
    """Whether the scheduler loop is alive: serving, and either inside a tick (a long initial
    pull is one tick) or done with the last one recently. `/healthz` and `/metrics` read it."""

    serving: bool = False
    last_tick: datetime | None = None
    tick_started: datetime | None = None
    failed_ticks: int = 0

    def alive(self, tick: float, now: datetime | None = None) -> bool:
        if not self.serving:
            return False
        if self.tick_started is not None:
            return True
        if self.last_tick is None:
            return False
        return ((now or utcnow()) - self.last_tick).total_seconds() <= 3 * tick + 30


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
        self.beat = Heartbeat()

    @property
    def reports(self) -> list[RunReport]:
        return self.leads.reports

    def describe(self) -> list[str]:
        return [line for schedule in self.schedules for line in schedule.describe()]

    async def use_policy(self, policy: PolicyFile) -> None:
        """Schedule the CRM syncs of `policy` from the next tick on (the web app's editor)."""
        if self.crm is None:
            self.crm = CrmSchedule(self.connections.hub, self.connections, policy)
            self.schedules.append(self.crm)
        else:
            await self.crm.replace_policy(policy)

    def stop(self) -> None:
        self._stop.set()

    async def run_due(self, now: datetime | None = None) -> list[Any]:
        """Run every job that is due at `now`; what ran, schedule by schedule."""
        now = now or utcnow()
        results = await asyncio.gather(*(s.run_due(now) for s in self.schedules))
        return [run for runs in results for run in runs]

    async def serve_forever(self) -> None:
        self.beat.serving = True
        try:
            while not self._stop.is_set():
                self.beat.tick_started = utcnow()
                try:
                    await self.run_due()
                except Exception:  # e.g. the hub briefly unreachable: the next tick tries again
                    log.exception("the scheduler tick failed")
                    self.beat.failed_ticks += 1
                self.beat.tick_started, self.beat.last_tick = None, utcnow()
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=self.tick)
                except TimeoutError:
                    pass
        finally:
            self.beat.serving = False
            for schedule in self.schedules:
                await schedule.aclose()
