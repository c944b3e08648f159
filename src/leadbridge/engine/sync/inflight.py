"""Finishing remote batch jobs an earlier run left open (it was killed, or gave up waiting).

Each open job of the org is looked at again through the connector: one that never had its
upload closed is aborted (nothing of it was written: its intents are planned again); one still
running is waited for up to `wait` seconds, and otherwise left for the next run (its records
stay out of every plan meanwhile); a finished one has its results read into the links of the
intents it carried — created, journaled under the run that sent them (so `undo` of that run
removes them), mirrored — or into the error log.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from leadbridge.connectors.base import RemoteJob, RemoteRecord, WriteResult
from leadbridge.connectors.errors import NotProcessedError
from leadbridge.engine.sync.apply import Write, failure, journal_row, linked
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.ledger import close_jobs, job_filter
from leadbridge.hub.store import by_ids, log_error
from leadbridge.hub.tables import JournalEntry, RecordLink, utcnow
from leadbridge.hub.tables import RemoteJob as RemoteJobRow

log = logging.getLogger("leadbridge.engine")
JOB_WAIT = 600.0  # seconds a run waits for an earlier run's job before going on without it


async def settle_jobs(ctx: SyncContext, *, wait: float = JOB_WAIT) -> Counter[str]:
    counts: Counter[str] = Counter()
    with ctx.hub.session() as s:
        jobs = list(
            s.scalars(
                select(RemoteJobRow)
                .where(*job_filter(ctx), RemoteJobRow.state == "open")
                .order_by(RemoteJobRow.id)
            )
        )
    for job in jobs:
        with ctx.hub.session() as s:
            intents = list(
                s.scalars(
                    select(RecordLink)
                    .where(
                        RecordLink.workspace_id == ctx.workspace_id,
                        RecordLink.remote_job_id == job.remote_job_id,
                    )
                    .order_by(RecordLink.id)
                )
            )
        log.info(
            "bulk job %s of run %s (%d records) was left open: reading it",
            job.remote_job_id,
            job.run_id,
            len(intents),
        )
        if ctx.progress:
            ctx.progress(f"bulk job {job.remote_job_id} of run {job.run_id}", len(intents))
        outcome = await ctx.connector.job_outcome(
            RemoteJob(job.remote_job_id, job.object, job.operation, dict(job.meta or {})),
            [(link.id, dict(link.pushed or {})) for link in intents],
            wait=wait,
        )
        if not outcome.finished:
            counts["jobs_still_running"] += 1
            log.info("bulk job %s is still %s", job.remote_job_id, outcome.state)
            continue
        with ctx.hub.session() as s:
            summary = _record(s, ctx, job, outcome.results)
            close_jobs(s, ctx, [job.remote_job_id], f"{outcome.state}: {_said(summary)}")
        counts.update({f"job_{k}": n for k, n in summary.items()})
    return counts


def _record(
    s: Session, ctx: SyncContext, job: RemoteJobRow, results: list[WriteResult]
) -> Counter[str]:
    run_id = job.run_id or 0
    now = utcnow()
    links = by_ids(s, RecordLink, [int(r.ref) for r in results])
    done = ctx.links.of_remote(s, job.object, [str(r.remote_id) for r in results if r.ok])
    summary: Counter[str] = Counter()
    journal = []
    mirror: list[RemoteRecord] = []
    for result in results:
        link = links.get(int(result.ref))
        if link is None:
            continue
        w = Write(link.hub_object, link.hub_id, job.object, dict(link.pushed or {}))
        if isinstance(result.error, NotProcessedError):
            # Never written: no trace of a create remains (the next plan creates it afresh,
            # with no pull needed to tell whether it landed).
            if link.remote_id is None:
                s.delete(link)
            else:
                link.remote_job_id = None
            summary["not_processed"] += 1
        elif result.error is not None:
            failure(s, ctx, run_id, w, link, result.error)
            summary["failed"] += 1
        else:
            rid = str(result.remote_id)
            other = done.get(rid)
            if other is not None and other.id != link.id:
                _orphan(s, ctx, job, link, rid, other)
                summary["duplicates"] += 1
                continue
            linked(run_id, w, link, rid, "created")
            link.status = "created"
            journal.append(journal_row(ctx, run_id, w, rid, now))
            mirror.append(RemoteRecord(job.object, rid, dict(w.values)))
            summary["created"] += 1
    if journal:
        s.execute(insert(JournalEntry), journal)
    ctx.store_mirror(s, mirror, run_id, read=False)
    return summary


def _orphan(
    s: Session, ctx: SyncContext, job: RemoteJobRow, intent: RecordLink, rid: str, other: RecordLink
) -> None:
    """The job created a record that someone linked elsewhere meanwhile: say so, never guess."""
    intent.remote_job_id = None
    log_error(
        s,
        workspace_id=ctx.workspace_id,
        job="crm_duplicates",
        error_class="potential_duplicate",
        message=f"{job.object} {rid}, created by bulk job {job.remote_job_id} for this record, "
        f"is linked to hub {other.hub_object} {other.hub_id}",
        run_id=job.run_id,
        connection_id=ctx.connection.id,
        hub_object=intent.hub_object,
        hub_id=intent.hub_id,
        remote_id=rid,
        hint="merge the two records in the CRM (leadbridge never merges them silently)",
    )


def _said(summary: Counter[str]) -> str:
    return ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(summary.items())) or "empty"
