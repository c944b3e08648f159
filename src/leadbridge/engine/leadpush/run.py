"""The lead push: qualified company leads become accounts of the connection's system (Apollo)
with the right owner — a push-only sync on the same engine as the CRM syncs.

One run:
1. user sync: the system's users as one complete list, into the user links (auto-mapped by
   e-mail; a hand mapping stays) — the one user sync of hub/userlinks.py;
2. plan (pure, plan.py) over every lead of the workspace, the qualification as its gate;
3. detach marks (hub-only) for linked leads that stopped qualifying;
4. creates in batches through the engine's write path (engine/sync/apply.py): the intents are
   committed before the call, and the system's dedupe hands back what an earlier attempt made
   (adopted, or created when it was ours), never duplicated (ARCHITECTURE principle 6);
5. updates of what changed, in batches of up to 1,000.
Failures follow the one failure policy (engine/sync/failures.py). Connection-level failures
(auth, access, rate window spent, budget) end the run early with a clear status; the records not
reached are taken by the next run. The caller holds the connection's lease (jobs/tasks.py).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import not_

from leadbridge.connectors.base import Cursor
from leadbridge.connectors.errors import (
    AccessDeniedError,
    AuthError,
    BudgetExhaustedError,
    ConnectorError,
    RateLimitedError,
    TransientError,
)
from leadbridge.connectors.http import RetryPolicy, Sleep
from leadbridge.engine.leadpush import facts, quiet
from leadbridge.engine.leadpush.plan import Action, Plan, PushRules, build_plan
from leadbridge.engine.sync.apply import Write, write
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.systems import LEAD_PUSH_SYSTEMS, LeadPushSystem
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.runs import finish_run, start_run
from leadbridge.hub.store import chunks
from leadbridge.hub.tables import RecordLink, utcnow
from leadbridge.hub.userlinks import RemoteUser, UserSyncResult
from leadbridge.policy.apollo_push import ApolloPushSettings
from leadbridge.policy.crm import CrmSync

JOB = "apollo-push"
HUB_OBJECT = "company"
UPDATE_BATCH = 1000
Progress = Callable[[str, int, int], None]


@dataclass
class RunReport:
    run_id: int
    status: str
    counts: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    api_calls: int = 0
    message: str | None = None
    users: UserSyncResult | None = None

    @property
    def qualified(self) -> int:
        return sum(self.counts[k] for k in ("created", "adopted", "updated", "unchanged", "failed"))


class LeadPush:
    def __init__(
        self,
        hub: Hub,
        connections: Connections,
        connection: ConnectionInfo,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.hub = hub
        self.connections = connections
        self.connection = connection
        self.system: LeadPushSystem = LEAD_PUSH_SYSTEMS[connection.kind]
        self.settings = ApolloPushSettings.load(connection.settings.get("apollo_push"))
        self.rules = PushRules.of(self.settings)
        self.transport = transport
        self.policy = policy
        self.sleep = sleep
        self.clock = clock

    @property
    def label(self) -> str:
        return self.system.catalog.label

    @property
    def stream(self) -> str:
        return self.system.catalog.first("company").name

    @property
    def scope(self) -> str:
        if not self.connection.remote_scope:
            raise AuthError(f"the {self.label} team of this connection is unknown; reconnect it")
        return self.connection.remote_scope

    # --- plan -----------------------------------------------------------------------------------

    def plan(
        self,
        remote_domains: frozenset[str] | None = None,
        lead_ids: list[int] | None = None,
        *,
        everything: bool = False,
    ) -> Plan:
        """Every lead's plan item (or `lead_ids`'); leads quiet since they were last in sync under
        the same fingerprint are counted as unchanged, not evaluated, unless `everything`."""
        ws, system = self.hub.workspace_id, self.system.catalog.system
        mapping = self.system.preset.object_map(self.system.catalog.first("company").section)
        planned_at = utcnow()
        with self.hub.session() as s:
            owners = facts.owner_directory(s, ws, system, self.scope, self.label)
            mark = quiet.fingerprint(self.rules, mapping, owners)
            where = []
            if lead_ids is None and not everything and mark == self._state().get("fingerprint"):
                where.append(not_(quiet.quiet(ws, system, self.scope, self.stream)))
            leads = facts.load_leads(s, ws, lead_ids, where)
            scope = facts.lead_filter(ws, lead_ids, where) if where or lead_ids else ()
            links = facts.load_links(s, ws, system, self.scope, self.stream, HUB_OBJECT, scope)
            skipped = facts.count_leads(s, ws) - len(leads) if where else 0
        plan = build_plan(leads, links, self.rules, mapping, owners, self.clock(), remote_domains)
        return Plan(plan.items, quiet=skipped, fingerprint=mark, planned_at=planned_at)

    def _state(self) -> dict[str, Any]:
        fresh = self.connections.get(self.connection.name)
        return dict(fresh.settings.get("lead_push_state") or {})

    def _planned_all(self, plan: Plan) -> None:
        """A run evaluated every lead not quiet under `plan.fingerprint`: those it found
        unchanged are in sync as of its read, and the next plan may pass them by."""
        assert plan.planned_at is not None
        system = self.system.catalog.system
        unchanged = [i.lead_id for i in plan.by_action(Action.UNCHANGED)]
        quiet.confirm(self.hub, system, self.scope, self.stream, unchanged, plan.planned_at)
        if self._state().get("fingerprint") != plan.fingerprint:
            fresh = self.connections.get(self.connection.name)
            settings = {**fresh.settings, "lead_push_state": {"fingerprint": plan.fingerprint}}
            self.connections.update_settings(self.connection.id, settings)

    async def remote_domains(self) -> frozenset[str]:
        """The domains the system holds accounts for (a read of every account: API calls)."""
        from leadbridge.normalize import normalize_domain

        ctx = await self.open()
        try:
            found: set[str] = set()
            async for page in ctx.connector.read_changed(self.stream, [], Cursor(), self.clock()):
                found.update(
                    d for r in page.records if (d := normalize_domain(r.fields.get("domain")))
                )
            return frozenset(found)
        finally:
            await ctx.connector.aclose()

    # --- run ------------------------------------------------------------------------------------

    async def open(self) -> SyncContext:
        connector = await self.system.open(
            self.connections,
            self.connection,
            self.settings,
            transport=self.transport,
            policy=self.policy,
            sleep=self.sleep,
        )
        policy = CrmSync(connection=self.connection.name)  # push-only: no CRM policy applies
        ctx = SyncContext(
            self.hub, self.connections, self.connection, policy, connector, self.system.preset
        )
        ctx.clock = self.clock
        return ctx

    async def run(
        self, progress: Progress | None = None, *, sync_users_first: bool = True
    ) -> RunReport:
        self.scope  # noqa: B018 — an unknown team fails before a run is recorded
        ctx = await self.open()  # credentials that cannot be opened: no run is recorded
        report = RunReport(run_id=start_run(self.hub, JOB, self.connection.id), status="running")
        try:
            await self._run(ctx, report, progress, sync_users_first)
            report.status = "partial" if report.counts["failed"] else "succeeded"
            self.connections.set_health(self.connection.id, "ok")
        except (AuthError, AccessDeniedError) as exc:
            health = "auth_failed" if isinstance(exc, AuthError) else "access_denied"
            self.connections.set_health(self.connection.id, health, str(exc))
            report.status, report.message = "failed", self._connection_message(exc)
        except (RateLimitedError, BudgetExhaustedError) as exc:
            report.status = "deferred"
            report.message = f"stopped early, the rest waits for the next run: {exc}"
        except TransientError as exc:
            report.status = "failed"
            report.message = f"{self.label} kept failing ({exc}); the next run picks up from here"
        finally:
            if report.status == "running":  # an unexpected crash: recorded, then raised
                report.status, report.message = "failed", "crashed; see the log"
            report.api_calls = ctx.connector.calls.total
            await ctx.connector.aclose()
            finish_run(
                self.hub,
                report.run_id,
                report.status,
                {**report.counts, "skipped": dict(report.skipped)},
                message=report.message,
                api_calls=report.api_calls,
            )
        return report

    async def sync_users(self, ctx: SyncContext) -> UserSyncResult:
        """The system's users, a complete list, into the user links."""
        stream = self.system.catalog.first("user")
        users: list[RemoteUser] = []
        async for page in ctx.connector.read_changed(stream.name, [], Cursor(), self.clock()):
            users.extend(
                RemoteUser(
                    r.id,
                    stream.value(r.fields, "email"),
                    stream.value(r.fields, "first_name"),
                    stream.value(r.fields, "last_name"),
                    active=bool(r.fields.get("active", True)),
                )
                for r in page.records
            )
        with self.hub.session() as s:
            return ctx.users.sync(s, users, complete=True, create_hub_users=False)

    async def _run(
        self,
        ctx: SyncContext,
        report: RunReport,
        progress: Progress | None,
        sync_users_first: bool,
    ) -> None:
        if sync_users_first:
            report.users = await self.sync_users(ctx)
        plan = self.plan()
        for item in plan.items:
            if item.action in (Action.SKIP, Action.WAIT):
                report.skipped[item.reason_key] += 1
        report.counts["unchanged"] = plan.counts()[Action.UNCHANGED.value]
        report.counts["detached"] = len(plan.by_action(Action.DETACH))
        self._mark_links(ctx, plan, report.run_id)
        creates = plan.by_action(Action.CREATE, Action.ADOPT)
        updates = plan.by_action(Action.UPDATE)
        total, done = len(creates) + len(updates), 0
        if progress:
            progress("push", 0, total)
        batches = [
            *(("create", b) for b in chunks(creates, self.settings.batch_size)),
            *(("update", b) for b in chunks(updates, UPDATE_BATCH)),
        ]
        for kind, batch in batches:
            writes = [
                Write(
                    HUB_OBJECT,
                    item.lead_id,
                    self.stream,
                    dict(item.values or {})
                    if kind == "create"
                    else {k: new for k, (_, new) in item.changes.items()},
                    remote_id=item.remote_id if kind == "update" else None,
                    before=dict(item.previous or {}),
                    as_of=plan.planned_at,
                )
                for item in batch
                if item.values
            ]
            outcome = await write(
                ctx, report.run_id, self.stream, writes, rules=self.rules.retry, job=JOB
            )
            for status in ("created", "adopted", "updated", "failed"):
                report.counts[status] += getattr(outcome, status)
            done += len(batch)
            if progress:
                progress("push", done, total)
        self._planned_all(plan)  # last: a run cut short leaves its fingerprint unrecorded

    def _mark_links(self, ctx: SyncContext, plan: Plan, run_id: int) -> None:
        detach = {i.lead_id: i.reason for i in plan.by_action(Action.DETACH)}
        clear = [i.lead_id for i in plan.items if i.clear_stale]
        if not detach and not clear:
            return
        with self.hub.session() as s:
            links = ctx.links.of_hub(s, HUB_OBJECT, [*detach, *clear])
            for hub_id, by_stream in links.items():
                link: RecordLink | None = by_stream.get(self.stream)
                if link is not None:
                    link.stale_reason = detach.get(hub_id)
                    link.last_run_id = run_id

    def _connection_message(self, exc: ConnectorError) -> str:
        if isinstance(exc, AuthError):
            return (
                f"{self.label} rejected the credentials ({exc}); reconnect with "
                f"`leadbridge connect {self.connection.kind}`"
            )
        return (
            f"{self.label} refused access ({exc}); the key or token lacks a scope or plan this "
            "job needs"
        )


def bound_calls(records: int, batch: int) -> int:
    return math.ceil(records / batch) if records else 0


def report_lines(report: RunReport) -> list[str]:
    """A run's outcome as a person reads it (Rich markup), for the CLI and the demo."""
    c = report.counts
    lines = [
        f"run {report.run_id}: [bold]{report.status}[/bold] — "
        f"{report.qualified} qualified: {c['created']} created, {c['adopted']} adopted, "
        f"{c['updated']} updated, {c['unchanged']} unchanged, {c['failed']} failed; "
        f"{report.api_calls} API calls"
    ]
    if report.skipped:
        lines.append(
            "not pushed: " + ", ".join(f"{n} {k}" for k, n in report.skipped.most_common())
        )
    if c["detached"]:
        lines.append(f"{c['detached']} linked leads stopped qualifying (accounts left as is)")
    if report.message:
        lines.append(f"[yellow]{report.message}[/yellow]")
    if c["failed"]:
        lines.append("see `leadbridge errors`")
    return lines
