"""The hub's job ledger: a remote batch job recorded with the create intents it carries, in the
hub, before the job can write anything (connectors.base.JobLedger).

While a job is open here, its intents name it (`RecordLink.remote_job_id`) and no run plans a
create for them; `inflight.settle_jobs` finishes what a dead or impatient run left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from leadbridge.connectors.base import RemoteJob
from leadbridge.engine.sync.context import SyncContext
from leadbridge.hub.tables import RemoteJob as RemoteJobRow
from leadbridge.hub.tables import utcnow


class IntentLedger:
    def __init__(self, ctx: SyncContext, run_id: int, keys: Sequence[tuple[str, int]]) -> None:
        self.ctx = ctx
        self.run_id = run_id
        self.keys = list(keys)  # a ref (input index) -> (hub object, hub id)
        self.opened_jobs: list[str] = []

    async def opened(self, job: RemoteJob, refs: Sequence[Any]) -> None:
        """Committed before the connector hands the job its data."""
        ctx = self.ctx
        with ctx.hub.session() as s:
            s.add(
                RemoteJobRow(
                    workspace_id=ctx.workspace_id,
                    remote_system=ctx.system,
                    remote_scope=ctx.scope,
                    remote_job_id=job.id,
                    run_id=self.run_id,
                    object=job.object,
                    operation=job.operation,
                    meta=dict(job.meta),
                    state="open",
                )
            )
            wanted: dict[str, list[int]] = {}
            for ref in refs:
                hub_object, hub_id = self.keys[int(ref)]
                wanted.setdefault(hub_object, []).append(hub_id)
            for hub_object, ids in wanted.items():
                for links in ctx.links.of_hub(s, hub_object, ids).values():
                    link = links.get(job.object)
                    if link is not None and link.remote_id is None:
                        link.remote_job_id = job.id
        self.opened_jobs.append(job.id)

    def finished(self, s: Session) -> None:
        """The jobs this write opened, done: their results were recorded in this session."""
        if self.opened_jobs:
            close_jobs(s, self.ctx, self.opened_jobs, "results read by the run that made it")


def close_jobs(s: Session, ctx: SyncContext, job_ids: Sequence[str], outcome: str) -> None:
    s.execute(
        update(RemoteJobRow)
        .where(*job_filter(ctx), RemoteJobRow.remote_job_id.in_(list(job_ids)))
        .values(state="done", outcome=outcome, finished_at=utcnow())
    )


def job_filter(ctx: SyncContext) -> tuple[Any, ...]:
    return (
        RemoteJobRow.workspace_id == ctx.workspace_id,
        RemoteJobRow.remote_system == ctx.system,
        RemoteJobRow.remote_scope == ctx.scope,
    )
