"""Reads: everything exactly once across pages; by a compound cursor, every record changed after
it up to the cap exactly once with many rows in one second (the sandboxes stamp whole seconds
or milliseconds), late commits found inside the overlap, nothing re-read outside it, and a
cursor that catches up after a complete read; by ids, what is asked, missing ones left out."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from leadbridge.connectors.base import Cursor, RemoteRecord

from .pair import OVERLAP, Pair, Subject, collect

TIES = 250  # in one instant: more than a page of every system


def once(records: list[RemoteRecord]) -> set[str]:
    seen = Counter(r.id for r in records)
    twice = [rid for rid, n in seen.items() if n > 1]
    assert not twice, f"read more than once: {twice[:5]}"
    return set(seen)


def seed_many(pair: Pair, s: Subject, start: int, count: int) -> set[str]:
    return {pair.seed(s.stream, s.make(i)) for i in range(start, start + count)}


async def test_a_read_from_nothing_returns_every_record_once(
    subject: tuple[Pair, Subject],
) -> None:
    pair, s = subject
    pair.clock.freeze()
    pair.small_pages()
    made = seed_many(pair, s, 0, TIES)
    pair.clock.advance(1)
    connector = pair.connect()
    fields = pair.catalog.stream(s.stream).fields_to_read(list(s.make(0)))
    records, cursor, _ = await collect(
        connector.read_changed(s.stream, fields, Cursor(), pair.clock.now)
    )
    assert made <= once(records)
    assert connector.calls.total >= 2  # the system paged: 250 records are more than one page
    by_id = {r.id: r for r in records}
    sample = next(iter(made))
    held = pair.held(s.stream, sample)
    assert held is not None
    assert all(by_id[sample].fields.get(k) == held.get(k) for k in s.make(0))
    if "cursor" in pair.not_applicable:  # what the declaration says: it reads everything
        assert cursor == Cursor()
    else:  # a complete read commits a position
        assert cursor is not None and cursor.modified_at is not None


async def test_a_cursor_read_takes_ties_across_pages_up_to_the_cap(
    subject: tuple[Pair, Subject],
) -> None:
    pair, s = subject
    pair.na("cursor")
    pair.clock.freeze()
    pair.small_pages()
    t0 = pair.clock.now
    pair.clock.advance(-3600)
    old = pair.seed(s.stream, s.make(9000))  # long before the cursor and its overlap
    pair.clock.advance(3600)
    start = Cursor(t0 - timedelta(minutes=1))  # what an earlier read committed
    tied = seed_many(pair, s, 0, TIES)  # one instant, across page boundaries
    singles = set()
    for i in range(3):
        pair.clock.advance(1)
        singles.add(pair.seed(s.stream, s.make(TIES + i)))
    cap = pair.clock.now
    pair.clock.advance(2)
    after = pair.seed(s.stream, s.make(9001))  # after the cap: the next run's
    connector = pair.connect()

    fields = pair.catalog.stream(s.stream).fields_to_read(list(s.make(0)))
    records, cursor, pages = await collect(connector.read_changed(s.stream, fields, start, cap))
    ids = once(records)
    assert ids == tied | singles, (len(ids), old in ids, after in ids)
    assert pages >= 2
    stamps = [r.modified_at for r in records]
    assert all(stamps) and stamps == sorted(stamps)  # type: ignore[type-var]
    assert cursor is not None and cursor.modified_at == max(stamps)  # type: ignore[type-var]


async def test_late_commits_are_read_in_the_overlap_and_the_cursor_catches_up(
    subject: tuple[Pair, Subject],
) -> None:
    pair, s = subject
    pair.na("cursor")
    pair.clock.freeze()
    t0 = pair.clock.now
    start = Cursor(t0 - timedelta(minutes=1))
    burst = seed_many(pair, s, 0, 20)
    pair.clock.advance(1)
    burst.add(pair.seed(s.stream, s.make(20)))
    pair.clock.advance(1)
    late = pair.begin_late(s.stream, s.make(21))  # stamped now, seen only later
    pair.clock.advance(0.5)
    connector = pair.connect()
    fields = pair.catalog.stream(s.stream).fields_to_read([*s.make(0), *s.change(0)])

    first, cursor1, _ = await collect(
        connector.read_changed(s.stream, fields, start, pair.clock.now)
    )
    assert once(first) == burst  # the late record is not there yet
    assert cursor1 is not None and cursor1.modified_at is not None
    late_id = pair.finish_late(late)
    pair.clock.advance(1)
    fresh = pair.seed(s.stream, s.make(22))
    pair.clock.advance(0.5)

    second, cursor2, _ = await collect(
        connector.read_changed(s.stream, fields, cursor1, pair.clock.now)
    )
    assert {late_id, fresh} <= once(second)
    # Re-read: only what lies inside the overlap before the committed cursor.
    assert all(r.modified_at >= cursor1.modified_at - OVERLAP for r in second)  # type: ignore[operator]
    assert cursor2 is not None and cursor2.modified_at is not None

    pair.clock.advance(3600)  # a quiet hour: the cursor catches up to the cap less the overlap
    quiet = pair.clock.now
    third, cursor3, _ = await collect(connector.read_changed(s.stream, fields, cursor2, quiet))
    assert all(r.modified_at >= cursor2.modified_at - OVERLAP for r in third)  # type: ignore[operator]
    assert cursor3 is not None and cursor3.modified_at is not None
    assert cursor3.modified_at >= quiet - OVERLAP
    pair.clock.advance(60)
    edited = sorted(burst)[7]
    pair.edit(s.stream, edited, s.change(7))
    pair.clock.advance(1)
    fourth, _, _ = await collect(connector.read_changed(s.stream, fields, cursor3, pair.clock.now))
    assert [r.id for r in fourth] == [edited]  # the burst is not read again
    assert all(fourth[0].fields.get(k) == v for k, v in s.change(7).items())


async def test_read_ids_returns_what_is_asked_and_leaves_out_the_missing(
    subject: tuple[Pair, Subject],
) -> None:
    pair, s = subject
    ids = [pair.seed(s.stream, s.make(i)) for i in range(3)]
    connector = pair.connect()
    fields = pair.catalog.stream(s.stream).fields_to_read(list(s.make(0)))
    asked = [ids[0], pair.missing_id(s.stream), ids[2], ids[0]]
    records = await connector.read_ids(s.stream, fields, asked)
    assert sorted(r.id for r in records) == sorted([ids[0], ids[2]])
    for record in records:
        assert not record.deleted and record.event is None
        number = ids.index(record.id)
        assert all(record.fields.get(k) == v for k, v in s.make(number).items()), record.fields
