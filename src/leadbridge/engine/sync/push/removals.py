"""Hub deletions reaching a CRM: the linked record deleted (deletion sync on for its kind), or
only unlinked (off). Either way the link is kept as `unlinked` with its remote id, so the CRM
record is never matched to someone new, and the tombstone never recreated."""

from __future__ import annotations

from collections.abc import Sequence

from leadbridge.connectors.errors import PermanentError
from leadbridge.engine.sync.apply import JOB
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.push.decide import Decision
from leadbridge.hub.store import log_error, resolve_errors

GONE = ("ENTITY_IS_DELETED", "NOT_FOUND", "OBJECT_NOT_FOUND")


async def apply_removals(
    ctx: SyncContext, run_id: int, decisions: Sequence[Decision]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    deletes: dict[str, list[Decision]] = {}
    for d in decisions:
        if d.action == "delete" and d.stream and d.remote_id:
            deletes.setdefault(d.stream, []).append(d)
    done: dict[tuple[str, str], str] = {}  # (stream, remote id) -> the link's note
    removed: set[tuple[str, str]] = set()  # deleted in the CRM
    failed: list[tuple[Decision, str]] = []
    for stream, group in deletes.items():
        results = await ctx.connector.write(
            stream, "delete", [(d, {"Id": d.remote_id}) for d in group]
        )
        kind = ctx.stream(stream).many()
        for result in results:
            d = result.ref
            if result.ok or getattr(result.error, "code", None) in GONE:
                done[(stream, str(d.remote_id))] = f"deleted in the hub; deleted in {ctx.label}"
                removed.add((stream, str(d.remote_id)))
                counts[f"{kind}_deleted"] = counts.get(f"{kind}_deleted", 0) + 1
            else:
                failed.append((d, str(result.error)))
    for d in decisions:
        if d.action == "unlink" and d.stream and d.remote_id:
            done[(d.stream, d.remote_id)] = f"deleted in the hub; {ctx.label} keeps it"
            counts["unlinked"] = counts.get("unlinked", 0) + 1
    with ctx.hub.session() as s:
        for stream in {name for name, _ in done}:
            ids = [rid for name, rid in done if name == stream]
            for rid, link in ctx.links.of_remote(s, stream, ids).items():
                link.status, link.last_error = "unlinked", done[(stream, rid)]
                link.error_class = link.failed_hash = link.next_attempt_at = None
                resolve_errors(s, ctx.workspace_id, JOB, link.hub_object, [link.hub_id])
            deleted = [rid for name, rid in removed if name == stream]
            for row in ctx.mirror.get(s, stream, deleted).values():
                row.deleted, row.event = True, "deleted"
        for d, message in failed:
            error = PermanentError(message)
            log_error(
                s,
                workspace_id=ctx.workspace_id,
                job=JOB,
                error_class="permanent",
                message=f"delete of {d.stream} {d.remote_id} failed: {error}",
                run_id=run_id,
                connection_id=ctx.connection.id,
                hub_object=d.hub_object,
                hub_id=d.hub_id,
                remote_id=d.remote_id,
                hint="delete the record in the CRM by hand, or restore the hub record",
            )
        if failed:
            counts["failed"] = counts.get("failed", 0) + len(failed)
    return counts
