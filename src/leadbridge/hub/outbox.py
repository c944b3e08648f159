"""The outbox: hub changes waiting to be pushed, read by every consumer (a sync of a
connection) from its own position. An item is pruned once every consumer has passed it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadbridge.hub.tables import OutboxItem, OutboxPosition


def consumer_of(connection_id: int, sync: str = "push") -> str:
    return f"connection:{connection_id}:{sync}"


def position(s: Session, workspace_id: int, consumer: str) -> int:
    """The consumer's position; a new consumer starts at the beginning of what is kept (items
    every other consumer has passed are gone; its first full push covers those)."""
    row = s.scalar(
        select(OutboxPosition).where(
            OutboxPosition.workspace_id == workspace_id, OutboxPosition.consumer == consumer
        )
    )
    if row is None:
        row = OutboxPosition(workspace_id=workspace_id, consumer=consumer, position=0)
        s.add(row)
        s.flush()
    return int(row.position)


def since(s: Session, workspace_id: int, after: int, limit: int | None = None) -> list[OutboxItem]:
    """The changes after a position, oldest first."""
    query = (
        select(OutboxItem)
        .where(OutboxItem.workspace_id == workspace_id, OutboxItem.id > after)
        .order_by(OutboxItem.id)
    )
    return list(s.scalars(query.limit(limit) if limit else query))


def newest(s: Session, workspace_id: int) -> int:
    return int(
        s.scalar(select(func.max(OutboxItem.id)).where(OutboxItem.workspace_id == workspace_id))
        or 0
    )


def advance(
    s: Session, workspace_id: int, consumer: str, to: int, others: Iterable[str] = ()
) -> None:
    """Move a consumer past `to`, then prune what every consumer (`others` too: consumers that
    have not read yet) has passed — but the newest of it: SQLite gives a new row the highest
    id + 1, so deleting the newest would hand out ids the positions already hold."""
    for name in {consumer, *others}:
        position(s, workspace_id, name)
    row = s.scalar(
        select(OutboxPosition).where(
            OutboxPosition.workspace_id == workspace_id, OutboxPosition.consumer == consumer
        )
    )
    assert row is not None
    row.position = max(int(row.position), to)
    s.flush()
    passed = s.scalar(
        select(func.min(OutboxPosition.position)).where(OutboxPosition.workspace_id == workspace_id)
    )
    if passed:
        s.execute(
            delete(OutboxItem).where(
                OutboxItem.workspace_id == workspace_id, OutboxItem.id < passed
            )
        )


def forget(s: Session, workspace_id: int, consumer: str) -> None:
    """A consumer that is gone (its connection removed) no longer holds items back."""
    s.execute(
        delete(OutboxPosition).where(
            OutboxPosition.workspace_id == workspace_id, OutboxPosition.consumer == consumer
        )
    )
