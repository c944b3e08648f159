"""Batch writes: one WriteResult per input, in input order, whatever order the remote answers
in; one bad record fails alone and the others land; a value the schema refuses fails before
sending and costs no call; what the remote holds afterwards is what was sent."""

from __future__ import annotations

from typing import Any

import pytest

from leadbridge.connectors.errors import PermanentError

from .pair import Pair, Subject

BATCH = 30


def assert_holds(pair: Pair, stream: str, remote_id: Any, values: dict[str, Any]) -> None:
    held = pair.held(stream, str(remote_id))
    assert held is not None, f"{stream} {remote_id} is not in the sandbox"
    differ = {k: (v, held.get(k)) for k, v in values.items() if held.get(k) != v}
    assert not differ, f"{stream} {remote_id}: sent vs held {differ}"


async def test_one_result_per_input_in_input_order_and_the_writes_land(
    subject: tuple[Pair, Subject],
) -> None:
    pair, s = subject
    connector = pair.connect()
    before = pair.count(s.stream)
    rows = [(f"ref-{i}", s.make(i)) for i in range(BATCH)]
    results = await connector.write(s.stream, "create", rows)

    assert [r.ref for r in results] == [ref for ref, _ in rows]
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert all(r.created for r in results)
    assert len({r.remote_id for r in results}) == BATCH
    assert pair.count(s.stream) == before + BATCH
    for (_, values), result in zip(rows, results, strict=True):
        assert_holds(pair, s.stream, result.remote_id, values)  # matched by values, not index

    updates = [(f"upd-{i}", {"Id": r.remote_id, **s.change(i)}) for i, r in enumerate(results)]
    updates.insert(3, ("ghost", {"Id": pair.missing_id(s.stream), **s.change(99)}))
    updated = await connector.write(s.stream, "update", updates)
    assert [r.ref for r in updated] == [ref for ref, _ in updates]
    assert [r.ref for r in updated if not r.ok] == ["ghost"]  # the missing record fails alone
    for (_, values), result in zip(updates, updated, strict=True):
        if result.ok:
            assert str(result.remote_id) == str(values["Id"])
            assert_holds(
                pair, s.stream, values["Id"], {k: v for k, v in values.items() if k != "Id"}
            )
    assert pair.count(s.stream) == before + BATCH


async def test_one_record_the_remote_refuses_fails_alone(subject: tuple[Pair, Subject]) -> None:
    pair, s = subject
    if isinstance(s.refused_remotely, str):
        pytest.skip(f"not applicable to {pair.catalog.label} {s.stream}: {s.refused_remotely}")
    refused, field = s.refused_remotely
    connector = pair.connect()
    before = pair.count(s.stream)
    rows = [(i, s.make(i)) for i in range(12)]
    rows[5] = (5, refused(5))
    results = await connector.write(s.stream, "create", rows)

    assert [r.ref for r in results] == list(range(12))
    assert [r.ref for r in results if not r.ok] == [5]
    error = results[5].error
    assert isinstance(error, PermanentError), error
    assert error.field == field, (error.field, error)
    assert pair.count(s.stream) == before + 11
    for (ref, values), result in zip(rows, results, strict=True):
        if ref != 5:
            assert_holds(pair, s.stream, result.remote_id, values)


@pytest.mark.parametrize("kind", ["restricted", "read_only", "required"])
async def test_a_value_the_schema_refuses_fails_before_sending(
    subject: tuple[Pair, Subject], kind: str
) -> None:
    pair, s = subject
    refused = s.refused_locally.get(kind)
    if isinstance(refused, str):
        pytest.skip(f"not applicable to {pair.catalog.label} {s.stream}: {refused}")
    assert refused is not None, f"the {pair.system} pair names no {kind} case for {s.stream}"
    connector = pair.connect()
    await connector.schema(s.stream)  # the schema is read once per run, not per write
    before, calls, remote_calls = pair.count(s.stream), connector.calls.total, pair.api_calls()

    (result,) = await connector.write(s.stream, "create", [("bad", refused)])
    assert isinstance(result.error, PermanentError), result
    assert result.error.field, result.error  # the field to fix: sent, or missing
    assert kind == "required" or result.error.field in refused, result.error
    assert result.error.hint, result.error  # what to do about it
    assert connector.calls.total == calls and pair.api_calls() == remote_calls  # no call
    assert pair.count(s.stream) == before

    # In a batch, it fails alone: the good records cost one call and land.
    mixed = await connector.write(s.stream, "create", [("good", s.make(1)), ("bad", refused)])
    assert [r.ok for r in mixed] == [True, False]
    assert pair.count(s.stream) == before + 1
    assert_holds(pair, s.stream, mixed[0].remote_id, s.make(1))
