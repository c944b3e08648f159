"""The schedule in the hub: per scheduled job (a CRM sync, a connection's lead push), when it is
next due, when it last ran and how it ended, and its back-off after failures.

Every runner reads and writes it — the embedded one (`leadbridge serve`) and the workers
(`leadbridge worker`) — so a restart does not make everything due at once, and several
processes share one schedule. A slot is a plain value; `load` and `save` are its only I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import JobSchedule


@dataclass
class Slot:
    name: str
    job: str
    connection_id: int | None = None
    next_due_at: datetime | None = None
    last_run_at: datetime | None = None
    last_status: str | None = None
    failures: int = 0
    retry_at: datetime | None = None

    def waiting(self, now: datetime) -> bool:
        """Backing off after a failure."""
        return self.retry_at is not None and now < self.retry_at

    def due(self, now: datetime) -> bool:
        return self.next_due_at is None or now >= self.next_due_at


def crm_slot_name(sync: str) -> str:
    return f"crm-sync:{sync}"


def lead_push_slot_name(connection_id: int) -> str:
    return f"apollo-push:{connection_id}"


def load(hub: Hub, name: str, job: str, connection_id: int | None = None) -> Slot:
    with hub.session() as s:
        row = s.get(JobSchedule, name)
        if row is None or row.workspace_id != hub.workspace_id:
            return Slot(name, job, connection_id)
        return Slot(
            name,
            row.job,
            connection_id if connection_id is not None else row.connection_id,
            row.next_due_at,
            row.last_run_at,
            row.last_status,
            row.failures,
            row.retry_at,
        )


def save(hub: Hub, slot: Slot) -> None:
    with hub.session() as s:
        row = s.get(JobSchedule, slot.name)
        if row is None:
            row = JobSchedule(name=slot.name, workspace_id=hub.workspace_id, job=slot.job)
            s.add(row)
        row.job, row.connection_id = slot.job, slot.connection_id
        row.next_due_at, row.last_run_at = slot.next_due_at, slot.last_run_at
        row.last_status, row.failures, row.retry_at = slot.last_status, slot.failures, slot.retry_at


def all_slots(hub: Hub) -> list[Slot]:
    with hub.session() as s:
        rows = s.scalars(
            select(JobSchedule)
            .where(JobSchedule.workspace_id == hub.workspace_id)
            .order_by(JobSchedule.name)
        )
        return [
            Slot(
                r.name,
                r.job,
                r.connection_id,
                r.next_due_at,
                r.last_run_at,
                r.last_status,
                r.failures,
                r.retry_at,
            )
            for r in rows
        ]


def forget(hub: Hub, job: str) -> None:
    """Start a job's schedules afresh (a new policy: its syncs may be different ones)."""
    with hub.session() as s:
        s.execute(
            delete(JobSchedule).where(
                JobSchedule.workspace_id == hub.workspace_id, JobSchedule.job == job
            )
        )
