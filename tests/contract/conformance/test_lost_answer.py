"""An idempotent create after a lost answer: the write lands, its answer is lost (a 5xx after
the commit), and the record exists once after the recovery the catalog's create mode promises.

- `dedupe` / `upsert` (with the upsert key among the values): sending it again hands back the
  same record, the HTTP layer's resend reporting it `created` (the first attempt was ours) and
  an engine's resend in a later run finding the same record, not a second one;
- `intent` (or a plain create): the create is not sent twice, and a read from the cursor the
  last complete read committed finds the record by its match keys, which is what the engine
  relies on to adopt its intent instead of creating again.
"""

from __future__ import annotations

from leadbridge.connectors.base import Cursor

from .pair import Pair, Subject, collect, write_errors


async def test_a_create_whose_answer_was_lost_exists_once(subject: tuple[Pair, Subject]) -> None:
    pair, s = subject
    stream = pair.catalog.stream(s.stream)
    connector = pair.connect()
    await connector.schema(s.stream)
    values = [s.make(i) for i in range(3)]
    rows = [(f"ref-{i}", v) for i, v in enumerate(values)]
    plain = [pair.catalog.plain_create(stream, v) for v in values]
    assert len(set(plain)) == 1
    before = pair.count(s.stream)

    if not plain[0]:  # the system makes a resend safe: dedupe, or an upsert by its key
        calls = connector.calls.total
        with pair.answers_lost():
            results = await connector.write(s.stream, "create", rows)
        assert connector.calls.total - calls >= 2  # the lost attempt, and the resend
        assert all(r.ok for r in results), [r.error for r in results]
        assert all(r.created for r in results)  # made by our own first attempt
        assert pair.count(s.stream) == before + 3
        again = await connector.write(s.stream, "create", rows)  # a later run's resend
        assert [r.remote_id for r in again] == [r.remote_id for r in results]
        assert pair.count(s.stream) == before + 3
        for row, result in zip(values, again, strict=True):
            held = pair.held(s.stream, str(result.remote_id))
            assert held is not None and stream.match_keys(held) == stream.match_keys(row)
        return

    # A plain create: the last complete read's cursor, then the create whose answer is lost.
    pair.na("cursor")
    _, cursor, _ = await collect(connector.read_changed(s.stream, [], Cursor(), pair.clock.now))
    assert cursor is not None
    with pair.answers_lost():
        errors = await write_errors(connector.write(s.stream, "create", rows))
    assert errors and all(e.retryable for e in errors), errors  # transient: not resent blindly
    assert pair.count(s.stream) == before + 3  # landed once, never sent twice

    fields = stream.fields_to_read(list(values[0]))
    found, _, _ = await collect(connector.read_changed(s.stream, fields, cursor, pair.clock.now))
    for row in values:
        keys = stream.match_keys(row)
        matches = {r.id for r in found if stream.match_keys(r.fields) == keys}
        assert len(matches) == 1, (keys, matches)
