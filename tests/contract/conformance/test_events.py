"""Remote events: a conversion, a merge and a deletion made in the system come out of the
reads the connector documents for them as RemoteEvents, on the records they happened to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadbridge.connectors.base import Connector, Cursor, RemoteRecord

from .pair import Pair, collect


async def read(
    connector: Connector, how: str, stream: str, fields: list[str], ids: list[str], since: Cursor
) -> list[RemoteRecord]:
    if how == "read_changed":
        records, _, _ = await collect(connector.read_changed(stream, fields, since, _now()))
        return records
    if how == "read_ids":
        return await connector.read_ids(stream, fields, ids)
    # Documented by the connector beside the protocol (queryAll, the recycle bin).
    assert since.modified_at is not None
    deleted: list[RemoteRecord] = await getattr(connector, how)(stream, since.modified_at)
    return deleted


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize("kind", ["converted", "merged", "deleted"])
async def test_events_come_out_of_the_reads(pair: Pair, kind: str) -> None:
    pair.na(kind)
    name, reads = pair.event_reads[kind]
    stream = pair.catalog.stream(name)
    connector = pair.connect()
    fields = stream.fields_to_read([])
    first = pair.seed(name, pair.sample(name, 1))
    second = pair.seed(name, pair.sample(name, 2))
    _, cursor, _ = await collect(connector.read_changed(name, fields, Cursor(), _now()))
    assert cursor is not None and cursor.modified_at is not None

    expected: dict[str, tuple[str, dict[str, str]]] = {}  # id -> (event, into by stream)
    if kind == "converted":
        expected[first] = ("converted", pair.convert(first))
    elif kind == "merged":
        survivor = pair.merge(name, first, second)
        for loser in {first, second} - {survivor}:
            expected[loser] = ("merged", {name: survivor})
    else:
        pair.delete(name, first)
        expected[first] = ("deleted", {})
    assert pair.held(name, second) is not None or kind == "merged"

    for how in reads:
        records = await read(connector, how, name, fields, list(expected), cursor)
        found = {r.id: r for r in records if r.id in expected}
        assert set(found) == set(expected), (how, set(found), set(expected))
        for rid, (event, into) in expected.items():
            record = found[rid]
            assert record.event is not None and record.event.kind == event, (how, record)
            assert record.deleted == (event != "converted"), (how, record)
            assert {s: record.event.target(s) for s in into} == into, (how, record.event)
