"""Run rows: one per execution of a job, with its holder, counts, API calls and outcome.

A run is `running` while its holder process works on it. A holder that dies (`kill -9`, a crash,
a machine gone) cannot say so: its runs are marked `interrupted` by whoever notices first — the
next holder of its lease, or `status` finding that the process is gone from this host.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadbridge.hub.db import Hub
from leadbridge.hub.liveness import dead_here, process_holder
from leadbridge.hub.tables import SyncRun, utcnow
from leadbridge.secrets import redact_text

INTERRUPTED = "interrupted: its process ended before it finished (killed or crashed)"


def start_run(hub: Hub, job: str, connection_id: int | None) -> int:
    with hub.session() as s:
        run = SyncRun(
            workspace_id=hub.workspace_id,
            job=job,
            connection_id=connection_id,
            holder=process_holder(),
        )
        s.add(run)
        s.flush()
        return run.id


def finish_run(
    hub: Hub,
    run_id: int,
    status: str,
    counts: dict[str, Any],
    *,
    message: str | None = None,
    api_calls: int = 0,
) -> None:
    with hub.session() as s:
        run = s.get(SyncRun, run_id)
        assert run is not None
        run.status, run.counts = status, dict(counts)
        run.message = redact_text(message) if message else message  # may quote an API's echo
        run.finished_at = utcnow()
        run.api_calls = api_calls


def interrupt_runs(s: Session, process: str | None, connection_id: int | None = None) -> None:
    """The runs a gone holder process left `running` (on one connection, or on all)."""
    if process is None:
        return
    query = update(SyncRun).where(SyncRun.status == "running", SyncRun.holder == process)
    if connection_id is not None:
        query = query.where(SyncRun.connection_id == connection_id)
    s.execute(query.values(status="interrupted", finished_at=utcnow(), message=INTERRUPTED))


def settle_dead_runs(s: Session, workspace_id: int) -> None:
    """Mark `interrupted` the running runs whose holder is a process of this host that is gone."""
    holders = s.scalars(
        select(SyncRun.holder)
        .where(SyncRun.workspace_id == workspace_id, SyncRun.status == "running")
        .distinct()
    )
    for holder in list(holders):
        if dead_here(holder):
            interrupt_runs(s, holder)
