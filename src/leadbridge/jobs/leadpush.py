"""The lead push as a scheduled job: every connection of a lead-push system (Apollo) whose
settings enable it, every `interval_minutes`, under the connection's lease (jobs/tasks.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from leadbridge.engine.leadpush.run import JOB, LeadPush, RunReport
from leadbridge.engine.systems import LEAD_PUSH_SYSTEMS
from leadbridge.hub.connections import Connections
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.jobs.tasks import lead_push_task
from leadbridge.policy.apollo_push import ApolloPushSettings, SettingsError

log = logging.getLogger("leadbridge.runner")


class LeadPushSchedule:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self.next_due: dict[int, datetime] = {}
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
            if connection.kind not in LEAD_PUSH_SYSTEMS:
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
                log.exception("%s on %s crashed", JOB, connection.name)
                continue
            log.info(
                "%s on %s: %s, %s, %d API calls",
                JOB,
                connection.name,
                report.status,
                dict(report.counts),
                report.api_calls,
            )
            self.reports.append(report)
            done.append(report)
        return done

    async def aclose(self) -> None:
        return None
