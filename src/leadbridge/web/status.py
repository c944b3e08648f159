"""The state of the whole product as the overview, `/api/v1/status`, `/healthz` and `/metrics`
show it: the hub, each connection's health (credentials that cannot be opened count), the CRM
syncs' counts, API calls and budget, and whether the scheduler is alive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from leadbridge.engine.status import hub_status
from leadbridge.hub.tables import SyncRun, utcnow
from leadbridge.web.serialize import iso, run_json
from leadbridge.web.state import WebState

HEALTHY = ("ok", "unknown")  # unknown: connected, no run has reported on it yet


def budget_of(state: WebState, connection: str) -> dict[str, Any] | None:
    crm = state.runner.crm if state.runner is not None else None
    budget = crm.budget(connection) if crm is not None else None
    if budget is None or budget.limit is None:
        return None
    return {"used": budget.used, "limit": budget.limit, "ceiling": budget.ceiling}


def calls_today(state: WebState) -> dict[int, int]:
    """API calls the runs of each connection spent in the last 24 hours."""
    since = utcnow() - timedelta(days=1)
    with state.hub.session() as s:
        rows = s.execute(
            select(SyncRun.connection_id, func.sum(SyncRun.api_calls))
            .where(SyncRun.workspace_id == state.hub.workspace_id, SyncRun.started_at >= since)
            .group_by(SyncRun.connection_id)
        )
        return {int(cid): int(n or 0) for cid, n in rows if cid is not None}


def connections_json(state: WebState) -> list[dict[str, Any]]:
    unreadable = state.connections.credential_problems()
    calls = calls_today(state)
    out = []
    for c in state.connections.all():
        health = "credentials_unreadable" if c.id in unreadable else c.health
        out.append(
            {
                "id": c.id,
                "name": c.name,
                "kind": c.kind,
                "remote_scope": c.remote_scope,
                "base_url": c.base_url,
                "health": health,
                "healthy": health in HEALTHY,
                "detail": unreadable.get(c.id, c.health_detail),
                "api_calls_24h": calls.get(c.id, 0),
                "budget": budget_of(state, c.name),
            }
        )
    return out


def scheduler_json(state: WebState) -> dict[str, Any]:
    runner = state.runner
    if runner is None and state.workers:
        from leadbridge.jobs.worker import live_workers

        n = live_workers(state.hub)  # `leadbridge worker` processes with a recent heartbeat
        return {"running": n > 0, "alive": n > 0, "workers": n, "last_tick": None}
    if runner is None:
        return {"running": False, "alive": False, "last_tick": None, "in_tick_since": None}
    beat = runner.beat
    return {
        "running": beat.serving,
        "alive": beat.alive(runner.tick),
        "last_tick": iso(beat.last_tick),
        "in_tick_since": iso(beat.tick_started),
        "failed_ticks": beat.failed_ticks,
    }


def status_json(state: WebState, runs: int = 10) -> dict[str, Any]:
    st = hub_status(state.hub, runs=runs)
    return {
        "companies": st.companies,
        "people": st.people,
        "users": st.users,
        "links": dict(st.links),
        "stale_links": st.stale_links,
        "open_errors": st.open_errors,
        "potential_duplicates": dict(st.potential_duplicates),
        "crm": [crm.as_dict() for crm in st.crm],
        "connections": connections_json(state),
        "scheduler": scheduler_json(state),
        "runs": [run_json(r) for r in st.runs],
    }


def health_json(state: WebState) -> tuple[bool, dict[str, Any]]:
    """(healthy, body): the hub answers, every connection is usable, the scheduler ticks."""
    try:
        with state.hub.session() as s:
            s.execute(text("SELECT 1"))
        hub_ok, hub_detail = True, None
    except Exception as exc:  # the database is down or unreachable: say so, do not crash
        hub_ok, hub_detail = False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    connections = connections_json(state) if hub_ok else []
    scheduler = scheduler_json(state)
    ok = hub_ok and all(c["healthy"] for c in connections) and scheduler["alive"]
    body = {
        "ok": ok,
        "hub": {"ok": hub_ok, "detail": hub_detail},
        "connections": [
            {"name": c["name"], "kind": c["kind"], "health": c["health"], "detail": c["detail"]}
            for c in connections
        ],
        "scheduler": scheduler,
    }
    return ok, body
