"""The API budget: where the system reports a daily budget (Salesforce's Sforce-Limit-Info,
HubSpot's daily headers), the connector stops at its ceiling, before the remote's own limit."""

from __future__ import annotations

import pytest

from leadbridge.connectors.errors import BudgetExhaustedError
from leadbridge.connectors.http import Budget

from .pair import Pair

LIMIT, CEILING = 40, 0.75


async def test_the_connector_stops_at_its_ceiling_before_the_remote_s_limit(pair: Pair) -> None:
    pair.na("budget")
    s = pair.subjects[0]
    fields = pair.catalog.stream(s.stream).fields_to_read(list(s.make(0)))
    known = pair.seed(s.stream, s.make(0))
    pair.set_daily_limit(LIMIT)
    connector = pair.connect(budget=Budget(ceiling=CEILING))
    with pytest.raises(BudgetExhaustedError, match="ceiling"):
        for _ in range(LIMIT):
            assert [r.id for r in await connector.read_ids(s.stream, fields, [known])] == [known]
    assert pair.daily_used() == int(LIMIT * CEILING)  # our ceiling; the remote never refused

    before, calls = pair.count(s.stream), connector.calls.total
    with pytest.raises(BudgetExhaustedError):
        await connector.write(s.stream, "create", [(0, s.make(1))])
    assert connector.calls.total == calls and pair.count(s.stream) == before  # nothing sent
    assert pair.daily_used() == int(LIMIT * CEILING)
