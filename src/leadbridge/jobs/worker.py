"""The scale-out runner: procrastinate workers on the PostgreSQL hub (`leadbridge worker`).

Any number of worker processes, on any number of machines, share one PostgreSQL hub and its
procrastinate queue (its tables live in the hub's database, next to the hub's):

- `dispatch` is a periodic task (every `TICK` seconds): procrastinate defers it once per tick
  whichever workers are up, so there is no singleton scheduler process. It queues one job per
  CRM sync of the policy and one per lead-push connection; the job itself asks the schedule in
  the hub (hub/schedules.py) whether anything is due, exactly as the embedded runner's tick does.
- Each job takes ids (a sync's name, a connection id) and carries the connection's **lock**
  (`connection:<id>`: procrastinate never runs two jobs with one lock at once, so a
  connection's runs never overlap) and a **queueing lock** (at most one waiting job per job
  and connection, however many ticks pass while a long run goes on).
- Failures that escape a run (the hub briefly unreachable) are **retried** with exponential
  back-off; a sync's own failures are the schedule's back-off, as under `serve`.
- `reap_stalled` (periodic) puts the jobs of a worker whose heartbeat stopped (`kill -9`, a
  machine gone) back in the queue, so the lock they held is free and the run is done again;
  the engine's intents make a re-run finish the work with no duplicates.
- The connection's lease in the hub (jobs/lease.py) stays as the engine's safety net: a manual
  `leadbridge push` or a `serve` process on the same hub is still kept apart from the workers.

A job's sync runs in a thread with its own event loop (the engine's database I/O is
synchronous SQLAlchemy), so the worker's loop — heartbeats, fetching jobs, other jobs — never
waits on the hub.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate import exceptions as pc_exceptions
from procrastinate.job_context import JobContext
from procrastinate.schema import SchemaManager
from sqlalchemy import inspect, text

from leadbridge.engine.systems import CRM_SYSTEMS, LEAD_PUSH_SYSTEMS
from leadbridge.hub import schedules
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub, migrate
from leadbridge.hub.schedules import crm_slot_name, lead_push_slot_name
from leadbridge.hub.tables import utcnow
from leadbridge.jobs.crm import CRM_JOB, PAUSED, CrmSchedule
from leadbridge.jobs.leadpush import LeadPushSchedule
from leadbridge.policy.crm import PolicyFile

log = logging.getLogger("leadbridge.worker")

TICK = 5  # seconds between dispatches (the embedded runner's default tick)
REAP_EVERY = 10  # seconds between looks for jobs of dead workers
QUEUE = "leadbridge"
RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=5)
SCHEMA_LOCK = 72_015_001  # advisory lock: one process at a time migrates the hub and the queue


class WorkerError(RuntimeError):
    """The worker cannot run (e.g. the hub is not on PostgreSQL)."""


@dataclass
class WorkerEnv:
    """What a worker process's jobs need: the hub, its connections, the policy."""

    connections: Connections
    policy: PolicyFile | None
    stalled_after: float = 30.0
    ran: list[str] = field(default_factory=list)

    @property
    def hub(self) -> Hub:
        return self.connections.hub


_env: WorkerEnv | None = None
# The tasks' app; `make_app` gives it the hub's PostgreSQL (procrastinate's replace_connector).
app = procrastinate.App(connector=procrastinate.PsycopgConnector())
CRM_SYNC, LEAD_PUSH = "leadbridge.crm_sync", "leadbridge.lead_push"


def env() -> WorkerEnv:
    if _env is None:
        raise WorkerError("no worker environment: start workers with `leadbridge worker`")
    return _env


def _in_own_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def connection_lock(connection_id: int) -> str:
    return f"connection:{connection_id}"


@app.task(name=CRM_SYNC, queue=QUEUE, retry=RETRY)
async def crm_sync(sync: str) -> None:
    """One tick of one CRM sync (by its policy name)."""
    e = env()
    if e.policy is None:
        return

    async def tick() -> None:
        assert e.policy is not None
        schedule = CrmSchedule(e.hub, e.connections, e.policy)
        try:
            for run in await schedule.run_one(sync, utcnow()):
                log.info("sync %s: %s %s (run %s)", sync, run.job, run.status, run.run_id)
        finally:
            await schedule.aclose()

    await asyncio.to_thread(_in_own_loop, tick())


@app.task(name=LEAD_PUSH, queue=QUEUE, retry=RETRY)
async def lead_push(connection_id: int) -> None:
    """The lead push of one connection (by id), when it is due."""
    e = env()
    schedule = LeadPushSchedule(e.connections)
    await asyncio.to_thread(_in_own_loop, schedule.run_one(connection_id, utcnow()))


@app.periodic(cron=f"* * * * * */{TICK}")
@app.task(name="leadbridge.dispatch", queue=QUEUE, queueing_lock="dispatch", pass_context=True)
async def dispatch(context: JobContext, timestamp: int) -> None:
    """Queue a job for every sync and lead-push connection that may have work."""
    for task, kwargs, connection_id in await asyncio.to_thread(candidates, env()):
        job = context.app.configure_task(
            task,
            lock=connection_lock(connection_id),
            queueing_lock=f"{task}:{connection_id}:{sorted(kwargs.items())}",
            queue=QUEUE,
        )
        try:
            await job.defer_async(**kwargs)
        except pc_exceptions.AlreadyEnqueued:
            pass  # one is waiting already


def candidates(e: WorkerEnv) -> list[tuple[str, dict[str, Any], int]]:
    """(task, its arguments, connection id) worth a job now: connections that exist and are
    not paused, syncs not backing off after a failure."""
    now = utcnow()
    existing = {c.name: c for c in e.connections.all()}
    out: list[tuple[str, dict[str, Any], int]] = []
    for name, sync in (e.policy.syncs if e.policy else {}).items():
        info = existing.get(sync.connection)
        if info is None or info.kind not in CRM_SYSTEMS or info.health in PAUSED:
            continue
        if schedules.load(e.hub, crm_slot_name(name), CRM_JOB, info.id).waiting(now):
            continue
        out.append((CRM_SYNC, {"sync": name}, info.id))
    for info in existing.values():
        slot = lead_push_slot_name(info.id)
        if info.kind in LEAD_PUSH_SYSTEMS and schedules.load(e.hub, slot, "apollo-push").due(now):
            out.append((LEAD_PUSH, {"connection_id": info.id}, info.id))
    return out


@app.periodic(cron=f"* * * * * */{REAP_EVERY}")
@app.task(
    name="leadbridge.reap_stalled", queue=QUEUE, queueing_lock="reap_stalled", pass_context=True
)
async def reap_stalled(context: JobContext, timestamp: int) -> None:
    """Put the jobs of workers whose heartbeat stopped back in the queue."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=env().stalled_after):
        try:
            await manager.retry_job(job)
        except pc_exceptions.UniqueViolation:
            # The same job for the same connection is already waiting (its queueing lock):
            # that one does the work; this one ends, and the connection's lock is free.
            await manager.finish_job(job, procrastinate.jobs.Status.FAILED, delete_job=False)
            log.warning(
                "job %s (%s) of a stalled worker: ended, another waits", job.id, job.task_name
            )
            continue
        log.warning("job %s (%s) of a stalled worker: queued again", job.id, job.task_name)


@app.periodic(cron="17 * * * *")
@app.task(
    name="leadbridge.remove_old_jobs",
    queue=QUEUE,
    queueing_lock="remove_old_jobs",
    pass_context=True,
)
async def remove_old_jobs(context: JobContext, timestamp: int) -> None:
    await context.app.job_manager.delete_old_jobs(nb_hours=24, include_failed=True)


def conninfo(url: str) -> str:
    """A libpq URL from the hub's SQLAlchemy URL."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    if not url.startswith("postgresql://"):
        raise WorkerError(
            "`leadbridge worker` needs the hub on PostgreSQL (LEADBRIDGE_DATABASE_URL="
            "postgresql://…); on SQLite, `leadbridge serve` runs the jobs in one process"
        )
    return url


def connector(url: str) -> procrastinate.PsycopgConnector:
    return procrastinate.PsycopgConnector(conninfo=conninfo(url))


def live_workers(hub: Hub, within: float = 60.0) -> int:
    """Worker processes whose heartbeat reached the hub within `within` seconds (0 when the
    queue's tables are not there: no worker ever started)."""
    if hub.engine.dialect.name != "postgresql":
        return 0
    with hub.engine.connect() as conn:
        if not inspect(conn).has_table("procrastinate_workers"):
            return 0
        found = conn.scalar(
            text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > NOW() - make_interval(secs => :s)"
            ),
            {"s": within},
        )
        return int(found or 0)


def prepare(hub: Hub) -> None:
    """Migrate the hub and install procrastinate's tables, once (an advisory lock keeps
    workers that start together from doing it side by side)."""
    with hub.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": SCHEMA_LOCK})
        try:
            migrate(hub.engine)
            if not inspect(conn).has_table("procrastinate_jobs"):
                schema = SchemaManager.get_schema()
                raw = conn.connection.driver_connection
                assert raw is not None
                raw.execute(schema)  # no parameters: its `%` are not placeholders
                conn.commit()
                log.info("installed procrastinate's tables in the hub database")
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEMA_LOCK})
            conn.commit()


async def run_worker(
    url: str,
    connections: Connections,
    policy: PolicyFile | None,
    *,
    concurrency: int = 4,
    heartbeat: float = 10.0,
    stalled_after: float = 30.0,
    name: str | None = None,
) -> None:
    """Run one worker process until it is stopped (SIGINT/SIGTERM: running jobs finish)."""
    global _env
    _env = WorkerEnv(connections, policy, stalled_after=stalled_after)
    with app.replace_connector(connector(url)) as worker_app:
        async with worker_app.open_async():
            await worker_app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                name=name or f"leadbridge-worker-{os.getpid()}",
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=stalled_after,
                delete_jobs="successful",
            )
