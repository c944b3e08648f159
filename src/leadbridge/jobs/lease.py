"""A lease per (job, connection): a run holds it, renews it on a heartbeat, and a dead holder
loses it at once.

One conditional UPDATE (a compare-and-swap on the previous holder) decides who holds it, so it
works the same on SQLite and on PostgreSQL, across processes and machines sharing the hub.
A lease is free when nobody holds it, when its heartbeat stopped (not renewed within its ttl:
the holder hung or its machine died), or when its holder is a process of this host that no
longer exists (`kill -9`: a re-run right after the crash works). Taking a lease over marks the
runs the dead holder left `running` as `interrupted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from leadbridge.hub.db import Hub
from leadbridge.hub.liveness import dead_here, process_holder
from leadbridge.hub.runs import interrupt_runs
from leadbridge.hub.tables import JobLease, utcnow

log = logging.getLogger("leadbridge.runner")
TTL = timedelta(seconds=90)  # renewed every ttl/3: a holder that misses two beats is gone

_held: ContextVar[frozenset[str]] = ContextVar("leadbridge_leases", default=frozenset())


class LeaseHeld(RuntimeError):
    """Another run of the same job on the same connection is in progress."""


def process_of(holder: str | None) -> str | None:
    """The process part of a lease holder (`host:pid:started/nonce`)."""
    return holder.split("/", 1)[0] if holder else None


class Lease:
    def __init__(
        self,
        hub: Hub,
        name: str,
        ttl: timedelta = TTL,
        *,
        connection_id: int | None = None,
    ) -> None:
        self.hub = hub
        self.name = name
        self.ttl = ttl
        self.connection_id = connection_id
        self.holder = f"{process_holder()}/{uuid.uuid4().hex[:8]}"

    def acquire(self) -> bool:
        now = utcnow()
        with self.hub.session() as s:
            row = s.get(JobLease, self.name)
            if row is None:
                try:
                    with s.begin_nested():
                        s.add(JobLease(name=self.name, holder=None, expires_at=None))
                except IntegrityError:
                    pass
                row = s.get(JobLease, self.name)
            assert row is not None
            previous, expires = row.holder, row.expires_at
            free = (
                previous is None
                or expires is None
                or expires < now
                or dead_here(process_of(previous))
            )
            if not free:
                return False
            same = JobLease.holder.is_(None) if previous is None else JobLease.holder == previous
            taken = s.execute(
                update(JobLease)
                .where(JobLease.name == self.name, same)
                .values(holder=self.holder, expires_at=now + self.ttl)
                .execution_options(synchronize_session=False)
            )
            if getattr(taken, "rowcount", 0) != 1:
                return False  # another process took it between our read and our update
            if previous is not None:  # its runs on this connection ended unfinished
                interrupt_runs(s, process_of(previous), self.connection_id)
            return True

    def renew(self) -> bool:
        """Extend the lease; False when it was lost (taken over after a missed heartbeat)."""
        with self.hub.session() as s:
            done = s.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(expires_at=utcnow() + self.ttl)
            )
            return bool(getattr(done, "rowcount", 0) == 1)

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
            if dead_here(process_of(row.holder)):
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


async def _heartbeat(lease: Lease, owner: asyncio.Task[object] | None) -> None:
    while True:
        await asyncio.sleep(lease.ttl.total_seconds() / 3)
        try:
            kept = lease.renew()
        except Exception as exc:  # the next beat may succeed; the run itself goes on
            log.warning("could not renew the lease %s: %s", lease.name, type(exc).__name__)
            continue
        if not kept and owner is not None:
            # Another process took over after we missed our beats: stop rather than run twice.
            log.error("lost the lease %s (heartbeat missed); stopping this run", lease.name)
            owner.cancel()
            return


@contextlib.asynccontextmanager
async def held(
    hub: Hub, name: str, *, busy: str, connection_id: int | None = None, ttl: timedelta = TTL
) -> AsyncIterator[None]:
    """Hold the lease `name` for the block (or go on under the one this task already holds),
    renewed on a heartbeat. `busy` says what is running when another holder has it."""
    already = _held.get()
    if name in already:
        yield
        return
    lease = Lease(hub, name, ttl, connection_id=connection_id)
    if not lease.acquire():
        holder = lease.current_holder() or "another run"
        raise LeaseHeld(f"{busy} (held by {holder}); try again when it has finished")
    token = _held.set(already | {name})
    beat = asyncio.create_task(_heartbeat(lease, asyncio.current_task()))
    try:
        yield
    finally:
        beat.cancel()
        _held.reset(token)
        lease.release()
