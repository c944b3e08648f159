"""Error classes, by the sandboxes' fault knobs: the remote's 401 is AuthError (after one
refresh where OAuth), a missing scope or permission AccessDeniedError, a rate limit
RateLimitedError with the server's wait (or waited out inside the retry policy), a 5xx
TransientError after retries, a garbled body ProtocolError; and a write stopped by any of them
half-lands nothing. (A record the remote refuses is a PermanentError with its field:
test_writes.)"""

from __future__ import annotations

from typing import Any

import pytest

from leadbridge.connectors.base import Connector
from leadbridge.connectors.errors import (
    AccessDeniedError,
    AuthError,
    BudgetExhaustedError,
    ProtocolError,
    RateLimitedError,
    TransientError,
)

from .pair import FAST, Pair, write_errors


def first(pair: Pair) -> tuple[str, dict[str, Any], list[str]]:
    s = pair.subjects[0]
    return s.stream, s.make(0), pair.catalog.stream(s.stream).fields_to_read(list(s.make(0)))


async def read_one(connector: Connector, pair: Pair, remote_id: str) -> None:
    stream, _, fields = first(pair)
    (found,) = await connector.read_ids(stream, fields, [remote_id])
    assert found.id == remote_id


async def assert_write_refused(
    pair: Pair, connector: Connector, kind: type[Exception] | tuple[type[Exception], ...]
) -> None:
    """A write stopped for the connection raises (it is no record's fault) and lands nothing."""
    stream, _, _ = first(pair)
    before = pair.count(stream)
    with pytest.raises(kind):
        rows = [(i, pair.subjects[0].make(100 + i)) for i in range(3)]
        await connector.write(stream, "create", rows)
    assert pair.count(stream) == before


async def test_unknown_credentials_are_an_auth_error_not_retried(pair: Pair) -> None:
    stream, values, _ = first(pair)
    known = pair.seed(stream, values)
    connector = pair.bad_credentials()
    with pytest.raises(AuthError):
        await read_one(connector, pair, known)
    assert connector.calls.total == 1
    await assert_write_refused(pair, connector, AuthError)


async def test_an_expired_token_is_refreshed_once_and_a_refused_refresh_is_auth(
    pair: Pair,
) -> None:
    stream, values, _ = first(pair)
    known = pair.seed(stream, values)
    case = await pair.oauth()
    await read_one(case.connector, pair, known)
    assert case.attempts == []
    pair.expire_access_tokens()
    await read_one(case.connector, pair, known)  # refreshed once, and the call went on
    assert case.attempts == [True]

    pair.revoke_refresh_tokens()  # the user disconnected the app
    pair.expire_access_tokens()
    with pytest.raises(AuthError):
        await read_one(case.connector, pair, known)
    assert case.attempts == [True, False]  # one refresh tried, not more
    await assert_write_refused(pair, case.connector, AuthError)


async def test_a_missing_scope_or_permission_is_access_denied(pair: Pair) -> None:
    stream, values, _ = first(pair)
    known = pair.seed(stream, values)
    connector = pair.denied()
    with pytest.raises(AccessDeniedError):
        await read_one(connector, pair, known)
    assert connector.calls.total == 1  # not retried: no retry gets the scope
    await assert_write_refused(pair, connector, AccessDeniedError)


async def test_rate_limits_are_waited_out_or_raised_with_the_server_s_wait(pair: Pair) -> None:
    stream, values, _ = first(pair)
    known = pair.seed(stream, values)
    connector = pair.connect()
    pair.rate_limit(1, long=False)
    await read_one(connector, pair, known)  # a short wait, inside the retry policy
    assert connector.calls.total == 2

    wait = pair.rate_limit(1, long=True)
    with pytest.raises(RateLimitedError) as raised:
        await read_one(connector, pair, known)
    assert raised.value.retry_after is not None
    if wait is not None:
        assert raised.value.retry_after == wait  # the server's own
    else:
        assert raised.value.retry_after > FAST.max_rate_limit_wait
    # Still limited: a write defers too (once the day's limit is known, on our own budget).
    pair.rate_limit(1, long=True)
    await assert_write_refused(pair, connector, (RateLimitedError, BudgetExhaustedError))


async def test_5xx_is_transient_after_retries_and_nothing_half_lands(pair: Pair) -> None:
    stream, values, _ = first(pair)
    known = pair.seed(stream, values)
    connector = pair.connect()
    await connector.schema(stream)
    before = pair.count(stream)
    calls = connector.calls.total
    with pair.failing():
        with pytest.raises(TransientError) as raised:
            await read_one(connector, pair, known)
        assert raised.value.status is not None and raised.value.status >= 500
        assert connector.calls.total == calls + FAST.max_attempts  # a read is retried
        rows = [(i, pair.subjects[0].make(100 + i)) for i in range(3)]
        errors = await write_errors(connector.write(stream, "create", rows))
    assert errors and all(isinstance(e, TransientError) for e in errors), errors
    assert pair.count(stream) == before  # the 5xx came before anything took effect
    await read_one(connector, pair, known)  # and the connector goes on after it


async def test_a_garbled_answer_is_a_protocol_error_after_retries(pair: Pair) -> None:
    stream, values, _ = first(pair)
    known = pair.seed(stream, values)
    connector = pair.connect()
    pair.garbage(FAST.max_attempts)
    with pytest.raises(ProtocolError):
        await read_one(connector, pair, known)
    assert connector.calls.total == FAST.max_attempts  # a read is safe to ask again
    await read_one(connector, pair, known)  # a sane answer again: read as usual
