"""The two-way CRM sync as a scheduled job: what `leadbridge serve` runs for each sync of the
policy whose connection exists (checked every tick, so a connection made later is picked up).

Each tick, per sync:

1. nothing while the connection is paused (auth failed or access denied: until it is
   reconnected), while a failure backs off, or while the setup window is open;
2. the initial pull of every stream (users, companies, people) when it has not finished (progress in
   the log), otherwise an incremental pull once `pull.interval_minutes` have passed;
3. once the initial pull is done, the outbox is drained: hub changes reach the CRM within a tick,
   many changes coalesced into batched writes.

The connection's CRM lease (jobs/crm_lease.py) is held for the tick's work, so runs of one
connection never overlap, across processes too; a tick that finds it held skips the sync and tries
again on the next one. One sync's failure never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from leadbridge.connectors.errors import AccessDeniedError, AuthError, ConnectorError
from leadbridge.connectors.http import Budget, RetryPolicy
from leadbridge.engine.sync import outbox
from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems import CRM_SYSTEMS
from leadbridge.hub import schedules
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.schedules import Slot, crm_slot_name
from leadbridge.jobs.crm_lease import crm_lease
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.jobs.tasks import (
    activity_push_task,
    deals_task,
    drain_task,
    pull_task,
    push_all_task,
)
from leadbridge.policy.crm import CrmSync, PolicyFile
from leadbridge.secrets import redact

log = logging.getLogger("leadbridge.runner")

CrmJob = Literal["initial_pull", "pull", "push", "deals"]
CRM_JOB = "crm-sync"
PAUSED = ("auth_failed", "access_denied", "paused")  # until `leadbridge connect` sets it ok
MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class CrmRun:
    """One CRM job the runner started for a sync: its run row (when one was written), its
    status (`succeeded`, `partial`, `failed`; `skipped` when another holder had the lease)."""

    sync: str
    job: CrmJob
    status: str
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    message: str | None = None


@dataclass
class _SyncState:
    """What a process keeps between ticks (an open client); when a sync is due lives in the
    hub (hub/schedules.py), so a restart or another worker goes on with the same schedule."""

    ctx: SyncContext | None = None
    key: tuple[object, ...] = ()
    said: str | None = None  # the last "waiting" line logged, not to repeat it every tick


class CrmSchedule:
    """Runs the CRM sync of every policy sync whose connection exists."""

    def __init__(
        self,
        hub: Hub,
        connections: Connections,
        policy: PolicyFile,
        *,
        retry: RetryPolicy | None = None,
        open_context: Callable[..., SyncContext] = sync_context,
    ) -> None:
        self.hub = hub
        self.connections = connections
        self.policy = policy
        self.retry = retry
        self._open_context = open_context
        self._states: dict[str, _SyncState] = {}

    def describe(self) -> list[str]:
        """One line per sync: scheduled, or waiting for its connection."""
        existing = self._connections()
        lines = []
        for name, sync in self.policy.syncs.items():
            if sync.connection in existing:
                lines.append(
                    f"sync {name}: connection {sync.connection!r}, pull every "
                    f"{sync.pull.interval_minutes} min, hub changes pushed every tick"
                )
            else:
                lines.append(
                    f"sync {name}: no connection {sync.connection!r} yet "
                    f"({_connect_hint()}); it starts once there is one"
                )
        return lines

    async def run_due(self, now: datetime) -> list[CrmRun]:
        existing = self._connections()
        due = [
            self._run_sync(name, sync, existing[sync.connection], now)
            for name, sync in self.policy.syncs.items()
            if sync.connection in existing
        ]
        results = await asyncio.gather(*due)
        return [run for runs in results for run in runs]

    async def aclose(self) -> None:
        for state in self._states.values():
            await self._drop(state)

    def budget(self, connection: str) -> Budget | None:
        """The API budget a sync's open client last read from its system's headers (the
        connectors that report one keep it on their client), for the dashboard and metrics."""
        for name, sync in self.policy.syncs.items():
            state = self._states.get(name)
            if sync.connection == connection and state is not None and state.ctx is not None:
                budget = getattr(getattr(state.ctx.connector, "client", None), "budget", None)
                if isinstance(budget, Budget):
                    return budget
        return None

    async def replace_policy(self, policy: PolicyFile) -> None:
        """Use a new policy from the next tick on (edited in the web app): contexts made with
        the old one are closed, schedules and back-offs start afresh."""
        await self.aclose()
        self._states.clear()
        await asyncio.to_thread(schedules.forget, self.hub, CRM_JOB)
        self.policy = policy

    async def run_one(self, name: str, now: datetime) -> list[CrmRun]:
        """The tick of one sync (what a worker's task runs): nothing when it is not due."""
        sync = self.policy.syncs.get(name)
        if sync is None:
            return []
        info = self._connections().get(sync.connection)
        return [] if info is None else await self._run_sync(name, sync, info, now)

    # --- one sync ------------------------------------------------------------------------------

    def _connections(self) -> dict[str, ConnectionInfo]:
        return {c.name: c for c in self.connections.all() if c.kind in CRM_SYSTEMS}

    async def _run_sync(
        self, name: str, sync: CrmSync, info: ConnectionInfo, now: datetime
    ) -> list[CrmRun]:
        state = self._states.setdefault(name, _SyncState())
        if info.health in PAUSED:
            self._say(state, name, f"paused ({info.health}): {info.health_detail or 'reconnect'}")
            return []
        slot = await asyncio.to_thread(
            schedules.load, self.hub, crm_slot_name(name), CRM_JOB, info.id
        )
        if slot.waiting(now):
            return []
        before = replace(slot)
        runs = await self._tick(state, slot, name, sync, info, now)
        if runs:
            slot.last_run_at, slot.last_status = now, runs[-1].status
        if slot != before:
            await asyncio.to_thread(schedules.save, self.hub, slot)
        return runs

    async def _tick(
        self,
        state: _SyncState,
        slot: Slot,
        name: str,
        sync: CrmSync,
        info: ConnectionInfo,
        now: datetime,
    ) -> list[CrmRun]:
        runs: list[CrmRun] = []
        job: CrmJob = "pull"
        try:
            ctx = await self._context(state, sync, info)
            ctx.clock = lambda: now
            if ctx.in_setup_window():
                until = ctx.setup_until()
                self._say(
                    state, name, f"waits for the setup window (until {until:%Y-%m-%d %H:%M} UTC)"
                )
                return []
            initial = not ctx.initial_pull_done()
            pull_due = initial or slot.due(now)
            if not pull_due and not outbox.waiting(ctx):
                return []
            job = "initial_pull" if initial else "pull" if pull_due else "push"
            async with crm_lease(ctx):
                if pull_due:
                    if initial:
                        ctx.progress = _progress(name)
                        log.info("sync %s: initial pull starts", name)
                    pulled = await pull_task(ctx)
                    ctx.progress = None
                    runs.append(_run(name, job, pulled.run_id, pulled.counts))
                    slot.next_due_at = now + timedelta(minutes=sync.pull.interval_minutes)
                    log.info("sync %s: %s run %d: %s", name, job, pulled.run_id, pulled.counts)
                    # The backstop: every hub record under the rules (those that never changed
                    # since connecting, and what a crashed run left); no calls when in sync.
                    job = "push"
                    full = await push_all_task(ctx)
                    runs.append(_run(name, job, full.run_id, full.counts))
                    log.info("sync %s: full push run %d: %s", name, full.run_id, full.counts)
                    # Deals, once the policy gives the sync a `deals:` section (issue 12).
                    if "deals" in sync.model_fields_set and ctx.catalog.deals is not None:
                        job = "deals"
                        dealt = await deals_task(ctx)
                        if dealt.run_id is not None:
                            runs.append(_run(name, job, dealt.run_id, dealt.counts))
                            log.info("sync %s: deals run %d: %s", name, dealt.run_id, dealt.counts)
                if ctx.initial_pull_done():
                    job = "push"
                    pushed = await drain_task(ctx)
                    if pushed is not None:
                        runs.append(_run(name, job, pushed.run_id, pushed.counts))
                        log.info("sync %s: push run %d: %s", name, pushed.run_id, pushed.counts)
                    try:
                        acts = await activity_push_task(ctx)
                    except SyncRefused as exc:  # e.g. the key field is missing: said, not
                        acts = None  # a failure of the records' sync
                        self._say(state, name, f"activity push refused: {exc}")
                    if acts is not None and acts.run_id is not None:
                        runs.append(_run(name, job, acts.run_id, acts.counts))
                        log.info("sync %s: activity push run %d: %s", name, acts.run_id,
                                 acts.counts)  # fmt: skip
        except LeaseHeld as exc:
            log.info("sync %s: skipped this tick: %s", name, exc)
            return [*runs, CrmRun(name, job, "skipped", message=str(exc))]
        except Exception as exc:  # one sync's failure must not stop the others' schedules
            runs.append(
                CrmRun(name, job, "failed", message=self._failed(state, slot, name, info, exc, now))
            )
            await self._drop(state)
            return runs
        slot.failures, slot.retry_at, state.said = 0, None, None
        return runs

    async def _context(self, state: _SyncState, sync: CrmSync, info: ConnectionInfo) -> SyncContext:
        """The sync's context, kept across ticks (one HTTP client per connection, its describe
        cache); opened again when the credentials were replaced (a reconnect, or a refresh)
        or the connection activated, so it never goes on with tokens that are gone."""
        _, credentials_version = self.connections.credentials(info.id)
        key = (
            info.id,
            info.base_url,
            info.remote_scope,
            repr((info.settings.get("crm") or {}).get("setup_until")),
            credentials_version,
        )
        if state.ctx is None or state.key != key:
            await self._drop(state)
            state.ctx = self._open_context(self.hub, self.connections, sync, retry=self.retry)
            state.key = key
        return state.ctx

    async def _drop(self, state: _SyncState) -> None:
        ctx, state.ctx, state.key = state.ctx, None, ()
        if ctx is not None:
            try:
                await ctx.connector.aclose()
            except Exception as exc:  # closing a broken client must not break the tick
                log.debug("closing a connector failed: %s", type(exc).__name__)

    def _failed(
        self,
        state: _SyncState,
        slot: Slot,
        name: str,
        info: ConnectionInfo,
        exc: Exception,
        now: datetime,
    ) -> str:
        message = redact(str(exc)) or type(exc).__name__
        if isinstance(exc, AuthError | AccessDeniedError):
            health = "auth_failed" if isinstance(exc, AuthError) else "access_denied"
            what = "refused the credentials" if health == "auth_failed" else "denied access"
            label = CRM_SYSTEMS[info.kind].catalog.label if info.kind in CRM_SYSTEMS else info.kind
            detail = (
                f"{label} {what} ({message}); automatic sync is paused until you reconnect "
                f"with `leadbridge connect {info.kind}`"
            )
            self.connections.set_health(info.id, health, detail)
            log.error("sync %s: %s", name, detail)
            state.said = None
            return detail
        slot.failures += 1
        wait = min(MAX_BACKOFF, timedelta(minutes=2 ** (slot.failures - 1)))
        slot.retry_at = now + wait
        if isinstance(exc, ConnectorError):
            log.error("sync %s failed: %s; next try in %s", name, message, wait)
        else:
            trace = redact("".join(traceback.format_exception(exc)))
            log.error("sync %s crashed: %s; next try in %s\n%s", name, message, wait, trace)
        return message

    def _say(self, state: _SyncState, name: str, what: str) -> None:
        if state.said != what:
            state.said = what
            log.info("sync %s %s", name, what)


def _run(sync: str, job: CrmJob, run_id: int, counts: dict[str, int]) -> CrmRun:
    return CrmRun(sync, job, "partial" if counts.get("failed") else "succeeded", run_id, counts)


def _progress(name: str) -> Callable[[str, int], None]:
    totals: dict[str, int] = {}

    def report(stream: str, n: int) -> None:
        totals[stream] = totals.get(stream, 0) + n
        log.info("sync %s: initial pull: %s %d read", name, stream, totals[stream])

    return report


def _connect_hint() -> str:
    return " or ".join(f"`leadbridge connect {kind}`" for kind in CRM_SYSTEMS)
