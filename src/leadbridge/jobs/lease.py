"""A lease per (job, connection): a run holds it, renews it, and a dead holder's lease expires.

One conditional UPDATE (or INSERT) decides who holds it, so it works the same on SQLite and on
PostgreSQL, across processes and machines sharing the hub.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import JobLease, utcnow


class LeaseHeld(RuntimeError):
    """Another run of the same job on the same connection is in progress."""


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, hub: Hub, name: str, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.hub = hub
        self.name = name
        self.ttl = ttl
        self.holder = holder_id()

    def acquire(self) -> bool:
        now = utcnow()
        with self.hub.session() as s:
            if s.get(JobLease, self.name) is None:
                try:
                    with s.begin_nested():
                        s.add(JobLease(name=self.name, holder=None, expires_at=None))
                except IntegrityError:
                    pass
            taken = s.execute(
                update(JobLease)
                .where(
                    JobLease.name == self.name,
                    or_(
                        JobLease.holder.is_(None),
                        JobLease.expires_at.is_(None),
                        JobLease.expires_at < now,
                    ),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            return bool(getattr(taken, "rowcount", 0) == 1)

    def renew(self) -> None:
        with self.hub.session() as s:
            s.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(expires_at=utcnow() + self.ttl)
            )

    def release(self) -> None:
        with self.hub.session() as s:
            s.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(holder=None, expires_at=None, last_run_at=utcnow())
            )

    def current_holder(self) -> str | None:
        with self.hub.session() as s:
            row = s.scalar(select(JobLease).where(JobLease.name == self.name))
            if row is None or row.expires_at is None or row.expires_at < utcnow():
                return None
            return row.holder

    def __enter__(self) -> Lease:
        if not self.acquire():
            raise LeaseHeld(
                f"{self.name} is already running (held by {self.current_holder() or 'another run'})"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
