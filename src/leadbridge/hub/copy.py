"""Copying a hub to another database (`leadbridge migrate-hub`): e.g. a SQLite hub to the
PostgreSQL one that `serve` and the workers share.

Both are brought to the newest schema; the destination must be empty. Every table is copied in
dependency order (a row's parents first) in one transaction on the destination, in chunks, so
memory stays flat; then PostgreSQL's id sequences are moved past the copied ids, and every
table's row count is compared. Any failure rolls the destination back: it stays empty and the
source is never written to (beyond its own migrations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, func, select, text

from leadbridge.hub.db import make_engine, migrate
from leadbridge.hub.tables import Base

CHUNK = 1_000


class HubCopyError(RuntimeError):
    """The copy cannot be made (destination not empty, counts differ)."""


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int


def copy_hub(
    source_url: str, target_url: str, *, progress: Callable[[TableCopy], None] | None = None
) -> list[TableCopy]:
    if _same(source_url, target_url):
        raise HubCopyError("the source and the destination are the same database")
    source, target = make_engine(source_url), make_engine(target_url)
    try:
        migrate(source)
        migrate(target)
        return _copy(source, target, progress)
    finally:
        source.dispose()
        target.dispose()


def _copy(
    source: Engine, target: Engine, progress: Callable[[TableCopy], None] | None
) -> list[TableCopy]:
    tables = Base.metadata.sorted_tables  # parents before children
    with target.connect() as dst:
        busy = [t.name for t in tables if dst.scalar(select(func.count()).select_from(t))]
    if busy:
        raise HubCopyError(
            f"the destination hub is not empty ({', '.join(busy)} hold rows): copy into a new, "
            "empty database"
        )
    done: list[TableCopy] = []
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            order = list(table.primary_key.columns)
            rows = src.execution_options(yield_per=CHUNK).execute(select(table).order_by(*order))
            copied = 0
            for chunk in rows.mappings().partitions(CHUNK):
                dst.execute(table.insert(), [dict(r) for r in chunk])
                copied += len(chunk)
            if target.dialect.name == "postgresql":
                _move_sequence(dst, table.name, order)
            expected = src.scalar(select(func.count()).select_from(table)) or 0
            landed = dst.scalar(select(func.count()).select_from(table)) or 0
            if not expected == landed == copied:
                raise HubCopyError(
                    f"{table.name}: {expected} rows in the source, {landed} in the destination; "
                    "nothing was copied"
                )
            step = TableCopy(table.name, landed)
            done.append(step)
            if progress is not None:
                progress(step)
    return done


def _move_sequence(dst: Connection, table: str, keys: list[Column[Any]]) -> None:
    """New rows on PostgreSQL get ids after the copied ones (an explicit id skips the
    sequence)."""
    if len(keys) != 1 or not isinstance(keys[0].type, Integer):
        return
    column = keys[0].name
    dst.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence(:t, :c), "
            f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false) '
            "WHERE pg_get_serial_sequence(:t, :c) IS NOT NULL"
        ),
        {"t": table, "c": column},
    )


def _same(a: str, b: str) -> bool:
    return make_engine(a).url == make_engine(b).url
