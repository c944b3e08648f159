"""The lead push as a scheduled job: every connection of a lead-push system (Apollo) whose
settings enable it, every `interval_minutes`, under the connection's lease (jobs/tasks.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from leadbridge.engine.leadpush.run import JOB, LeadPush, RunReport
from leadbridge.engine.systems import LEAD_PUSH_SYSTEMS
from leadbridge.hub import schedules
from leadbridge.hub.connections import Connections
from leadbridge.hub.schedules import lead_push_slot_name
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.jobs.tasks import lead_push_task
from leadbridge.policy.apollo_push import ApolloPushSettings, SettingsError

log = logging.getLogger("leadbridge.runner")


class LeadPushSchedule:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self.reports: list[RunReport] = []

    def describe(self) -> list[str]:
        lines = []
        for connection in self.connections.all():
            if connection.kind in LEAD_PUSH_SYSTEMS:
                try:
                    settings = ApolloPushSettings.load(connection.settings.get("apollo_push"))
                except SettingsError as exc:
                    lines.append(f"{JOB} on {connection.name}: bad settings: {exc}")
                    continue
                state = f"every {settings.interval_minutes:g} min" if settings.enabled else "off"
                lines.append(f"{JOB} on {connection.name}: {state}")
        return lines

    async def run_due(self, now: datetime) -> list[RunReport]:
        done = []
        for connection in self.connections.all():
            if connection.kind in LEAD_PUSH_SYSTEMS:
                report = await self.run_one(connection.id, now)
                if report is not None:
                    done.append(report)
        return done

    async def run_one(self, connection_id: int, now: datetime) -> RunReport | None:
        """The lead push of one connection when it is due (what a worker's task runs); the
        next due time is kept in the hub (hub/schedules.py)."""
        connection = next((c for c in self.connections.all() if c.id == connection_id), None)
        if connection is None or connection.kind not in LEAD_PUSH_SYSTEMS:
            return None
        try:
            settings = ApolloPushSettings.load(connection.settings.get("apollo_push"))
        except SettingsError as exc:
            log.error("connection %s: bad settings: %s", connection.name, exc)
            return None
        hub = self.connections.hub
        slot = await asyncio.to_thread(
            schedules.load, hub, lead_push_slot_name(connection.id), JOB, connection.id
        )
        if not settings.enabled or not slot.due(now):
            return None
        slot.next_due_at = now + timedelta(minutes=settings.interval_minutes)
        slot.last_run_at = now
        await asyncio.to_thread(schedules.save, hub, slot)
        try:
            push = LeadPush(hub, self.connections, connection)
            report = await lead_push_task(push)
        except LeaseHeld as exc:
            log.info("%s", exc)
            return None
        except Exception:  # one connection's crash must not stop the others' schedules
            log.exception("%s on %s crashed", JOB, connection.name)
            slot.last_status = "failed"
            await asyncio.to_thread(schedules.save, hub, slot)
            return None
        log.info(
            "%s on %s: %s, %s, %d API calls",
            JOB,
            connection.name,
            report.status,
            dict(report.counts),
            report.api_calls,
        )
        slot.last_status = report.status
        await asyncio.to_thread(schedules.save, hub, slot)
        self.reports.append(report)
        return report

    async def aclose(self) -> None:
        return None
