"""Adding people to a campaign (CampaignWriter): one result per input in input order, each
person a member once however often sent; a campaign the system does not have, or a user who
may not add members, raises before anything is written."""

from __future__ import annotations

from typing import Any, cast

import pytest

from leadbridge.connectors.base import CampaignWriter
from leadbridge.connectors.errors import AccessDeniedError, PermanentError

from .pair import Pair


async def test_people_join_once_and_a_missing_campaign_or_permission_writes_nothing(
    pair: Pair,
) -> None:
    pair.na("campaigns")
    connector = cast(Any, pair.connect())
    assert isinstance(connector.campaign_word, str)
    writer = cast(CampaignWriter, connector)
    stream = pair.campaign_person_stream
    people = [pair.seed(stream, pair.sample(stream, 700 + i)) for i in range(4)]

    with pytest.raises(PermanentError) as missing:
        await writer.add_to_campaign("No such campaign", [("a", stream, people[0])])
    assert missing.value.code == "CAMPAIGN_NOT_FOUND" and missing.value.hint

    campaign = pair.make_campaign("Conformance campaign")
    first = await writer.add_to_campaign(
        "Conformance campaign", [(f"p{i}", stream, p) for i, p in enumerate(people[:2])]
    )
    assert [r.ref for r in first] == ["p0", "p1"]
    assert all(r.ok and r.created for r in first), [r.error for r in first]
    assert pair.campaign_members(campaign) == set(people[:2])

    again = await writer.add_to_campaign(
        "Conformance campaign", [(i, stream, p) for i, p in enumerate(people[:3])]
    )
    assert [r.ref for r in again] == [0, 1, 2]
    assert [(r.ok, r.created) for r in again] == [(True, False), (True, False), (True, True)]
    assert pair.campaign_members(campaign) == set(people[:3])

    pair.deny_campaign_members()
    with pytest.raises(AccessDeniedError):
        await writer.add_to_campaign("Conformance campaign", [("d", stream, people[3])])
    assert pair.campaign_members(campaign) == set(people[:3])
