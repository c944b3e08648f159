"""A stream's read cursor in the hub, per remote scope: read before a pull, saved with each page
(in the page's transaction, so a killed run resumes after the last page it committed)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.connectors.base import Cursor
from leadbridge.engine.sync.context import SyncContext
from leadbridge.hub.tables import SyncCursor


def _row(s: Session, ctx: SyncContext, obj: str) -> SyncCursor | None:
    return s.scalar(
        select(SyncCursor).where(
            SyncCursor.workspace_id == ctx.workspace_id,
            SyncCursor.remote_system == ctx.system,
            SyncCursor.remote_scope == ctx.scope,
            SyncCursor.object == obj,
        )
    )


def load_cursor(s: Session, ctx: SyncContext, obj: str) -> Cursor:
    """Where the last read of `obj` stopped (the beginning when it was never read)."""
    row = _row(s, ctx, obj)
    return Cursor(row.modified_at, row.last_id) if row else Cursor()


def save_cursor(s: Session, ctx: SyncContext, obj: str, cursor: Cursor) -> None:
    row = _row(s, ctx, obj) or SyncCursor(
        workspace_id=ctx.workspace_id,
        remote_system=ctx.system,
        remote_scope=ctx.scope,
        object=obj,
    )
    row.modified_at, row.last_id = cursor.modified_at, cursor.last_id
    s.add(row)
