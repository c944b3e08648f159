"""`/metrics` in Prometheus' text format (prometheus-client). A collector reads the hub on each
scrape, so the numbers are the hub's own (runs of every process sharing it, not one process's
memory): runs and records by job and outcome, API calls and budget per connection, open errors,
connection health, the scheduler's heartbeat."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from leadbridge.hub.tables import ErrorLogEntry, SyncRun
from leadbridge.web.state import WebState
from leadbridge.web.status import connections_json, health_json, scheduler_json


class HubCollector(Collector):
    def __init__(self, state: WebState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        hub_ok, health = health_json(self.state)
        del hub_ok
        up = GaugeMetricFamily("leadbridge_hub_up", "1 when the hub database answers")
        up.add_metric([], 1.0 if health["hub"]["ok"] else 0.0)
        yield up
        alive = GaugeMetricFamily("leadbridge_scheduler_alive", "1 while the scheduler ticks")
        alive.add_metric([], 1.0 if scheduler_json(self.state)["alive"] else 0.0)
        yield alive
        if not health["hub"]["ok"]:
            return
        yield from self._runs()
        yield from self._connections()

    def _runs(self) -> Iterator[Metric]:
        hub = self.state.hub
        runs = CounterMetricFamily(
            "leadbridge_runs", "runs by job and status", labels=["job", "status"]
        )
        records = CounterMetricFamily(
            "leadbridge_records", "records by job and outcome", labels=["job", "outcome"]
        )
        calls = CounterMetricFamily(
            "leadbridge_api_calls", "API calls spent by runs", labels=["connection"]
        )
        errors = GaugeMetricFamily(
            "leadbridge_open_errors", "open entries of the error log", labels=["job", "class"]
        )
        names = {c.id: c.name for c in self.state.connections.all()}
        by_status: Counter[tuple[str, str]] = Counter()
        by_outcome: dict[tuple[str, str], float] = {}
        by_connection: Counter[str] = Counter()
        with hub.session() as s:
            for job, status, counts, api_calls, connection_id in s.execute(
                select(
                    SyncRun.job,
                    SyncRun.status,
                    SyncRun.counts,
                    SyncRun.api_calls,
                    SyncRun.connection_id,
                ).where(SyncRun.workspace_id == hub.workspace_id)
            ):
                by_status[(job, status)] += 1
                for outcome, n in (counts or {}).items():
                    if isinstance(n, int | float):
                        by_outcome[(job, str(outcome))] = by_outcome.get((job, str(outcome)), 0) + n
                by_connection[names.get(connection_id, "none")] += api_calls or 0
            open_errors = list(
                s.execute(
                    select(ErrorLogEntry.job, ErrorLogEntry.error_class, func.count())
                    .where(
                        ErrorLogEntry.workspace_id == hub.workspace_id,
                        ErrorLogEntry.resolved_at.is_(None),
                    )
                    .group_by(ErrorLogEntry.job, ErrorLogEntry.error_class)
                )
            )
        for (job, status), n in sorted(by_status.items()):
            runs.add_metric([job, status], n)
        for (job, outcome), n in sorted(by_outcome.items()):
            records.add_metric([job, outcome], n)
        for connection, n in sorted(by_connection.items()):
            calls.add_metric([connection], n)
        for job, error_class, n in open_errors:
            errors.add_metric([job, error_class], n)
        yield from (runs, records, calls, errors)

    def _connections(self) -> Iterator[Metric]:
        healthy = GaugeMetricFamily(
            "leadbridge_connection_healthy",
            "1 when a connection is usable (credentials open, not paused)",
            labels=["connection", "kind", "health"],
        )
        used = GaugeMetricFamily(
            "leadbridge_api_budget_used",
            "API calls used of the daily allowance",
            labels=["connection"],
        )
        limit = GaugeMetricFamily(
            "leadbridge_api_budget_limit", "the daily API allowance", labels=["connection"]
        )
        for c in connections_json(self.state):
            healthy.add_metric([c["name"], c["kind"], c["health"]], 1.0 if c["healthy"] else 0.0)
            if c["budget"]:
                used.add_metric([c["name"]], float(c["budget"]["used"] or 0))
                limit.add_metric([c["name"]], float(c["budget"]["limit"]))
        yield from (healthy, used, limit)


def registry_for(state: WebState) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(state))
    return registry
