"""The embedded runner: one process runs every connection's jobs on their schedules.

Leases (jobs/lease.py) keep one connection's runs from overlapping, even when several
`leadbridge serve` processes share a PostgreSQL hub; the scale-out runner (procrastinate)
will call the same job functions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from leadbridge.engine.apollo_push import ApolloPush, RunReport
from leadbridge.hub.connections import Connections
from leadbridge.hub.tables import utcnow
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.policy.apollo_push import ApolloPushSettings, SettingsError

log = logging.getLogger("leadbridge.runner")
OnReport = Callable[[str, RunReport], Awaitable[None] | None]


class EmbeddedRunner:
    def __init__(self, connections: Connections, *, tick: float = 5.0) -> None:
        self.connections = connections
        self.tick = tick
        self.next_due: dict[int, datetime] = {}
        self.reports: list[RunReport] = []
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run_due(self, now: datetime | None = None) -> list[RunReport]:
        now = now or utcnow()
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
                report = await ApolloPush(self.connections.hub, self.connections, connection).run()
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
        while not self._stop.is_set():
            await self.run_due()
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.tick)
            except TimeoutError:
                pass
