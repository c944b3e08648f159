"""The lead-push job: qualified company leads become Apollo accounts with the right owner.

One run:
1. user sync (Apollo users -> user links, auto-mapped by e-mail);
2. plan (pure, engine.plan) over every lead of the workspace;
3. detach marks (hub-only) for linked leads that stopped qualifying;
4. creates, in batches: write the intent (a `pending` link) and commit, call bulk_create with
   dedupe, commit the results. A crash between Apollo's answer and our commit leaves `pending`
   links, which the next run sends again: dedupe hands back the accounts already made, adopted,
   never duplicated (ARCHITECTURE principle 6);
5. updates, in batches of up to 1,000 (bulk_update; PATCH for a domain change).
Connection-level failures (auth, access, rate window spent, budget) end the run early with a
clear status; the records not reached are simply taken by the next run.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from leadbridge.connectors.apollo.client import ApolloClient, chunked
from leadbridge.connectors.apollo.connector import ApolloAccounts, CreateItem, UpdateItem
from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import (
    AccessDeniedError,
    AuthError,
    BudgetExhaustedError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    TransientError,
    error_class_name,
)
from leadbridge.connectors.http import RetryPolicy, Sleep
from leadbridge.engine import lead_facts
from leadbridge.engine.apollo_session import open_apollo
from leadbridge.engine.plan import Action, Plan, PlanItem, build_plan
from leadbridge.engine.users import UserSyncResult, sync_users
from leadbridge.hub import store
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.runs import finish_run, start_run
from leadbridge.hub.tables import RecordLink, utcnow
from leadbridge.jobs.lease import held
from leadbridge.policy.apollo_push import ApolloPushSettings
from leadbridge.secrets import redact_text

JOB = "apollo-push"
SYSTEM, REMOTE_OBJECT, HUB_OBJECT = "apollo", "account", "company"
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


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, capped at 6 hours, with ±20 % jitter so retries do not stampede."""
    minutes = min(360.0, float(2 ** max(0, attempts - 1)))
    return timedelta(minutes=minutes * random.uniform(0.8, 1.2))


class ApolloPush:
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
        self.settings = ApolloPushSettings.load(connection.settings.get("apollo_push"))
        self.rules = self.settings.rules()
        self.transport = transport
        self.policy = policy
        self.sleep = sleep
        self.clock = clock
        self._recovering: set[int] = set()

    @property
    def scope(self) -> str:
        if not self.connection.remote_scope:
            raise AuthError("the Apollo team of this connection is unknown; reconnect it")
        return self.connection.remote_scope

    def client(self) -> ApolloClient:
        return open_apollo(
            self.connections,
            self.connection,
            transport=self.transport,
            policy=self.policy,
            sleep=self.sleep,
        )

    # --- plan -----------------------------------------------------------------------------------

    def plan(
        self, remote_domains: frozenset[str] | None = None, lead_ids: list[int] | None = None
    ) -> Plan:
        ws = self.hub.workspace_id
        with self.hub.session() as s:
            leads = lead_facts.load_leads(s, ws, lead_ids)
            links = lead_facts.load_links(s, ws, SYSTEM, self.scope, REMOTE_OBJECT, HUB_OBJECT)
            owners = lead_facts.owner_directory(s, ws, SYSTEM, self.scope)
        return build_plan(leads, links, self.rules, owners, self.clock(), remote_domains)

    # --- run ------------------------------------------------------------------------------------

    async def run(
        self, progress: Progress | None = None, *, sync_users_first: bool = True
    ) -> RunReport:
        async with held(
            self.hub,
            f"{JOB}:{self.connection.id}",
            busy=f"{JOB} of connection {self.connection.name!r} is already running",
            connection_id=self.connection.id,
        ):
            client = self.client()  # credentials that cannot be opened: no run is recorded
            run_id = self._start_run()
            report = RunReport(run_id=run_id, status="running")
            try:
                await self._run(client, report, progress, sync_users_first)
                report.status = "partial" if report.counts["failed"] else "succeeded"
                self.connections.set_health(self.connection.id, "ok")
            except (AuthError, AccessDeniedError) as exc:
                health = "auth_failed" if isinstance(exc, AuthError) else "access_denied"
                self.connections.set_health(self.connection.id, health, str(exc))
                report.status, report.message = "failed", _connection_message(exc)
            except (RateLimitedError, BudgetExhaustedError) as exc:
                report.status = "deferred"
                report.message = f"stopped early, the rest waits for the next run: {exc}"
            except TransientError as exc:
                report.status = "failed"
                report.message = f"Apollo kept failing ({exc}); the next run picks up from here"
            finally:
                if report.status == "running":  # an unexpected crash: recorded, then raised
                    report.status, report.message = "failed", "crashed; see the log"
                report.api_calls = client.calls.total
                await client.aclose()
                self._finish_run(report)
            return report

    async def _run(
        self,
        client: ApolloClient,
        report: RunReport,
        progress: Progress | None,
        sync_users_first: bool,
    ) -> None:
        if sync_users_first:
            report.users = await sync_users(self.hub, client, self.scope)
        website_field = await self._website_field(client)
        accounts = ApolloAccounts(client, website_field_id=website_field)
        plan = self.plan()
        for item in plan.items:
            if item.action in (Action.SKIP, Action.WAIT):
                report.skipped[item.reason_key] += 1
        report.counts["unchanged"] = len(plan.by_action(Action.UNCHANGED))
        report.counts["detached"] = len(plan.by_action(Action.DETACH))
        self._mark_links(plan, report.run_id)

        creates = plan.by_action(Action.CREATE, Action.ADOPT)
        updates = plan.by_action(Action.UPDATE)
        total, done = len(creates) + len(updates), 0
        if progress:
            progress("push", 0, total)
        for batch in chunked(creates, self.settings.batch_size):
            self._write_intents(batch, report.run_id)
            results = await accounts.create(
                [CreateItem(i.lead_id, i.payload) for i in batch if i.payload],
                self.settings.batch_size,
            )
            self._record(batch, results, report, creating=True)
            done += len(batch)
            if progress:
                progress("push", done, total)
        for batch in chunked(updates, 1000):
            results = await accounts.update(
                [
                    UpdateItem(i.lead_id, i.remote_id, i.payload, i.previous)
                    for i in batch
                    if i.payload and i.remote_id
                ]
            )
            self._record(batch, results, report, creating=False)
            done += len(batch)
            if progress:
                progress("push", done, total)

    async def _website_field(self, client: ApolloClient) -> str | None:
        """The id of the account custom field that receives the website (cached per connection)."""
        wanted = self.settings.website_field
        if not wanted:
            return None
        cached = self.connection.settings.get("website_field_id")
        if cached and self.connection.settings.get("website_field_for") == wanted:
            return str(cached)
        fields = await client.typed_custom_fields()
        for f in fields:
            if f.get("modality", "account") == "account" and wanted in (f.get("id"), f.get("name")):
                settings = dict(self.connection.settings)
                settings.update(website_field_id=f["id"], website_field_for=wanted)
                self.connections.update_settings(self.connection.id, settings)
                return str(f["id"])
        return None

    # --- bookkeeping (each a short transaction) -------------------------------------------------

    def _start_run(self) -> int:
        return start_run(self.hub, JOB, self.connection.id)

    def _finish_run(self, report: RunReport) -> None:
        counts = {**report.counts, "skipped": dict(report.skipped)}
        finish_run(
            self.hub,
            report.run_id,
            report.status,
            counts,
            message=report.message,
            api_calls=report.api_calls,
        )

    def _links(self, s: Any, hub_ids: list[int]) -> dict[int, RecordLink]:
        ws = self.hub.workspace_id
        rows = s.scalars(
            select(RecordLink).where(
                *store.link_filter(ws, SYSTEM, self.scope, REMOTE_OBJECT, HUB_OBJECT),
                RecordLink.hub_id.in_(hub_ids),
            )
        )
        return {r.hub_id: r for r in rows}

    def _mark_links(self, plan: Plan, run_id: int) -> None:
        detach = {i.lead_id: i.reason for i in plan.by_action(Action.DETACH)}
        clear = [i.lead_id for i in plan.items if i.clear_stale]
        if not detach and not clear:
            return
        with self.hub.session() as s:
            for hub_id, link in self._links(s, [*detach, *clear]).items():
                link.stale_reason = detach.get(hub_id)
                link.last_run_id = run_id

    def _write_intents(self, batch: list[PlanItem], run_id: int) -> None:
        """Before the API call: a `pending` link per create, committed."""
        ws = self.hub.workspace_id
        with self.hub.session() as s:
            existing = self._links(s, [i.lead_id for i in batch])
            for item in batch:
                link = existing.get(item.lead_id)
                if link is None:
                    link = RecordLink(
                        workspace_id=ws,
                        remote_system=SYSTEM,
                        remote_scope=self.scope,
                        remote_object=REMOTE_OBJECT,
                        hub_object=HUB_OBJECT,
                        hub_id=item.lead_id,
                        attempts=0,
                    )
                    s.add(link)
                # An earlier run died mid-call, or its create failed in a way that may have
                # landed (a timeout, a lost answer): a dedupe match now is our own account.
                unconfirmed = link.status == "pending" or (
                    link.status == "error" and link.error_class != "permanent"
                )
                if unconfirmed and link.remote_id is None and link.last_run_id != run_id:
                    self._recovering.add(item.lead_id)
                link.status = "pending"
                link.last_run_id = run_id

    def _record(
        self,
        batch: list[PlanItem],
        results: list[WriteResult],
        report: RunReport,
        *,
        creating: bool,
    ) -> None:
        ws, now = self.hub.workspace_id, utcnow()
        by_id = {int(r.ref): r for r in results}
        with self.hub.session() as s:
            links = self._links(s, [i.lead_id for i in batch])
            succeeded: list[int] = []
            for item in batch:
                result, link = by_id.get(item.lead_id), links.get(item.lead_id)
                if result is None or link is None or item.payload is None:
                    continue
                if result.ok:
                    recovered = item.lead_id in self._recovering
                    if creating:
                        status = "created" if (result.created or recovered) else "adopted"
                    else:
                        status = "updated"
                    taken = self._remote_taken(s, result.remote_id, item.lead_id)
                    if taken:
                        result = WriteResult(
                            result.ref,
                            error=PermanentError(
                                f"Apollo account {result.remote_id} is already linked to hub "
                                f"company {taken}",
                                hint="two hub companies resolve to one Apollo account: merge "
                                "the duplicate companies in the hub",
                            ),
                        )
                    else:
                        link.remote_id = result.remote_id
                        link.status = status
                        link.payload_hash = item.payload.digest()
                        link.pushed = item.payload.as_dict()
                        link.attempts = 0
                        link.next_attempt_at = None
                        link.last_error = link.error_class = link.failed_hash = None
                        link.last_synced_at = now
                        report.counts[status] += 1
                        succeeded.append(item.lead_id)
                        continue
                assert result.error is not None
                self._record_failure(s, link, item, result.error, report)
            store.resolve_errors(s, ws, JOB, HUB_OBJECT, succeeded, now)

    def _remote_taken(self, s: Any, remote_id: str | None, hub_id: int) -> int | None:
        other = s.scalar(
            select(RecordLink.hub_id).where(
                *store.link_filter(
                    self.hub.workspace_id, SYSTEM, self.scope, REMOTE_OBJECT, HUB_OBJECT
                ),
                RecordLink.remote_id == remote_id,
                RecordLink.hub_id != hub_id,
            )
        )
        return int(other) if other is not None else None

    def _record_failure(
        self, s: Any, link: RecordLink, item: PlanItem, error: ConnectorError, report: RunReport
    ) -> None:
        assert item.payload is not None
        klass = error_class_name(error)
        link.status = "error"
        link.attempts = (link.attempts or 0) + 1
        link.last_error = redact_text(str(error))  # shown by explain and plan
        link.error_class = klass
        link.last_run_id = report.run_id
        report.counts["failed"] += 1
        if isinstance(error, PermanentError):
            link.failed_hash = item.payload.digest()
            link.next_attempt_at = None
            gave_up = True
        else:
            link.next_attempt_at = utcnow() + retry_delay(link.attempts)
            gave_up = link.attempts >= self.rules.max_attempts
        if gave_up or link.attempts == 1:
            hint = getattr(error, "hint", None)
            if not isinstance(error, PermanentError):
                hint = (
                    f"retried automatically with backoff (attempt {link.attempts} of "
                    f"{self.rules.max_attempts})"
                    if not gave_up
                    else "gave up retrying; `leadbridge errors retry` after the cause is fixed"
                )
            store.log_error(
                s,
                workspace_id=self.hub.workspace_id,
                job=JOB,
                error_class=klass,
                message=str(error),
                run_id=report.run_id,
                connection_id=self.connection.id,
                hub_object=HUB_OBJECT,
                hub_id=item.lead_id,
                remote_id=link.remote_id,
                field=getattr(error, "field", None),
                hint=hint,
            )


def _connection_message(exc: ConnectorError) -> str:
    if isinstance(exc, AuthError):
        return (
            f"Apollo rejected the credentials ({exc}); reconnect with `leadbridge connect apollo`"
        )
    return f"Apollo refused access ({exc}); the key or token lacks a scope or plan this job needs"


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
