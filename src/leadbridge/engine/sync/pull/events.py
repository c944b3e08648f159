"""Remote deletions and merges, applied by one set of rules whichever CRM reported them.

- A deleted record's link is taken out of play (`remote_deleted`, its remote id kept): no push
  fails on it and none recreates it, unless a person pushes the record by hand. With deletion
  sync on for its kind, the hub record is tombstoned too (journaled: `undo` of the pull restores
  it), unless it still lives in the CRM as another variant (a contact after its lead is gone).
- A deleted record restored in the CRM (Salesforce's undelete, HubSpot's restore) is linked
  again, and its hub record, tombstoned by that deletion, restored.
- A merge with merge sync on: the hub record linked to a loser is merged into the one linked to
  the survivor (hub.removal.merge_records), the loser's link removed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadbridge.connectors.catalog import Stream
from leadbridge.engine.sync.apply import JOB, write_hub
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.pull.run import PullReport
from leadbridge.hub.removal import detach_links, merge_records
from leadbridge.hub.store import resolve_errors
from leadbridge.hub.tables import DETACHED, Company, CrmRecord, Person, RecordLink, utcnow


def hub_record(s: Session, kind: str, hub_id: int) -> Person | Company | None:
    return s.get(Person, hub_id) if kind == "person" else s.get(Company, hub_id)


def follow_deletion(
    s: Session,
    ctx: SyncContext,
    report: PullReport,
    stream: Stream,
    row: CrmRecord,
    link: RecordLink,
) -> None:
    if link.status in DETACHED:
        return
    link.status = "remote_deleted"
    link.last_error = (
        f"deleted in {ctx.label} ({stream.one()} {row.remote_id}, seen by run {report.run_id})"
    )
    link.error_class = link.failed_hash = link.next_attempt_at = None
    link.attempts = 0
    resolve_errors(s, ctx.workspace_id, JOB, link.hub_object, [link.hub_id])
    record = hub_record(s, link.hub_object, link.hub_id)
    others = ctx.links.of_hub(s, link.hub_object, [link.hub_id]).get(link.hub_id, {})
    lives_on = any(
        other.remote_id and other.status not in DETACHED and other is not link
        for other in others.values()
    )
    if (
        record is None
        or record.deleted_at is not None
        or lives_on
        or not ctx.policy.deletion_sync.on(stream.kind)
    ):
        report.add(f"{stream.many()}_deleted_unlinked")
        return
    write_hub(s, report.run_id, record, {"deleted_at": utcnow()}, row.modified_at)
    report.add(f"hub_deleted_{stream.kind}")


def mirror_merge(
    s: Session,
    ctx: SyncContext,
    report: PullReport,
    stream: Stream,
    row: CrmRecord,
    link: RecordLink,
    taken: RecordLink,
) -> bool:
    """Merge the hub record linked to the loser into the one linked to the survivor (merge
    sync on); False when there is nothing to merge (either is gone or deleted)."""
    loser = hub_record(s, link.hub_object, link.hub_id)
    keeper = hub_record(s, taken.hub_object, taken.hub_id)
    if loser is None or keeper is None or keeper.deleted_at is not None:
        return False
    if loser.deleted_at is None:
        merge_records(s, keeper, loser, origin="sync", unlink=False)
        detach_links(s, loser, f"merged in {ctx.label} into {stream.one()} {taken.remote_id}")
    s.delete(link)  # the loser's link: the survivor's is the one that stays
    s.flush()
    report.add(f"hub_merged_{stream.kind}")
    return True


def follow_restore(
    s: Session,
    ctx: SyncContext,
    report: PullReport,
    stream: Stream,
    row: CrmRecord,
    link: RecordLink,
) -> bool:
    """A record back from the recycle bin: its `remote_deleted` link in play again; False when
    the link is out of play for another reason (the hub record was deleted or merged)."""
    if link.status != "remote_deleted" or row.deleted or row.event is not None:
        return False
    link.status, link.last_error = "adopted", None
    record = hub_record(s, link.hub_object, link.hub_id)
    if record is not None and record.deleted_at is not None and record.merged_into is None:
        write_hub(s, report.run_id, record, {"deleted_at": None}, row.modified_at)
    report.add(f"{stream.many()}_restored")
    return True
