"""The deal push classifier and the stage mirror, pure: table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from leadbridge.connectors.catalog import DealStage
from leadbridge.connectors.hubspot.catalog import CATALOG as HUBSPOT
from leadbridge.connectors.salesforce.catalog import CATALOG as SALESFORCE
from leadbridge.engine.deals.plan import DealFacts, hub_values, plan_deal, same
from leadbridge.engine.deals.stages import Pipelines
from leadbridge.policy.crm import DealMode, DealPolicy

T0 = datetime(2026, 12, 1, tzinfo=UTC)
SF = Pipelines.of(
    [
        DealStage(None, None, "Prospecting", "Prospecting", 0.1),
        DealStage(None, None, "Closed Won", "Closed Won", 1.0, True, True),
    ],
    "Salesforce",
)
HS = Pipelines.of(
    [
        DealStage("default", "Sales Pipeline", "qualifiedtobuy", "Qualified To Buy", 0.4),
        DealStage("default", "Sales Pipeline", "closedwon", "Closed Won", 1.0, True, True),
        DealStage("p2", "Renewals", "renewing", "Renewing", 0.5),
    ],
    "HubSpot",
)


@pytest.mark.parametrize(
    ("pipes", "pipeline", "stage", "value"),
    [
        (SF, None, "prospecting", "Prospecting"),
        (SF, None, "Closed  Won", "Closed Won"),
        (HS, None, "Qualified To Buy", "qualifiedtobuy"),  # the first pipeline
        (HS, "Sales Pipeline", "closedwon", "closedwon"),
        (HS, "renewals", "Renewing", "renewing"),
    ],
)
def test_a_stage_is_named_by_label_or_value(
    pipes: Pipelines, pipeline: str | None, stage: str, value: str
) -> None:
    found = pipes.resolve(pipeline, stage)
    assert isinstance(found, DealStage) and found.value == value


@pytest.mark.parametrize(
    ("pipes", "pipeline", "stage", "message"),
    [
        (SF, None, "Won-ish", "stage 'Won-ish' is not a Salesforce stage"),
        (SF, None, None, "a deal needs a stage"),
        (HS, None, "Renewing", "not a HubSpot stage of pipeline 'Sales Pipeline'"),
        (HS, "Nope", "Renewing", "pipeline 'Nope' is not a HubSpot deal pipeline"),
    ],
)
def test_a_stage_the_crm_does_not_have_is_refused_with_the_known_ones(
    pipes: Pipelines, pipeline: str | None, stage: str | None, message: str
) -> None:
    found = pipes.resolve(pipeline, stage)
    assert isinstance(found, str) and message in found


def facts(**kw: object) -> DealFacts:
    values = {"name": "Acme", "amount": Decimal("10"), "close_date": date(2027, 1, 1)}
    values |= {"stage": "Prospecting", "pipeline": None, "owner": None, "company": None}
    base: dict[str, object] = {
        "id": 1,
        "values": values,
        "changed_at": dict.fromkeys(values, T0),
    }
    base.update(kw)
    return DealFacts(**base)


STREAM = SALESFORCE.deals
assert STREAM is not None


def test_a_new_deal_is_created_with_every_value() -> None:
    item = plan_deal(facts(), STREAM, SF, DealPolicy(mode="two_way"))
    assert item.action == "create"
    assert item.values == {
        "Name": "Acme",
        "Amount": 10.0,
        "CloseDate": "2027-01-01",
        "StageName": "Prospecting",
    }


@pytest.mark.parametrize(
    ("mode", "changed", "pushed", "action", "sent"),
    [
        ("two_way", ["name"], {"Name": "Old"}, "update", {"Name": "Acme"}),
        ("two_way", ["amount"], {"Amount": 5}, "skip", None),  # CRM-owned
        ("push_only", ["amount"], {"Amount": 5}, "update", {"Amount": 10.0}),
        ("two_way", ["name"], {"Name": "Acme"}, "skip", None),  # no echo
        ("two_way", [], {}, "skip", None),
        ("pull_only", ["name"], {"Name": "Old"}, "skip", None),
        ("hide", ["name"], {"Name": "Old"}, "skip", None),
    ],
)
def test_a_linked_deal_sends_what_changed_and_is_not_crm_owned(
    mode: DealMode, changed: list[str], pushed: dict[str, object], action: str, sent: object
) -> None:
    later = T0 + timedelta(hours=1)
    stamps = {n: (later if n in changed else T0) for n in facts().values}
    item = plan_deal(
        facts(remote_id="006x", synced_at=T0, changed_at=stamps, pushed=pushed),
        STREAM,
        SF,
        DealPolicy(mode=mode),
    )
    assert item.action == action, item.reason
    if sent is not None:
        assert item.values == sent


def test_hidden_and_undone_deals_are_not_pushed() -> None:
    policy = DealPolicy(mode="two_way")
    assert plan_deal(facts(hidden=True), STREAM, SF, policy).action == "skip"
    assert plan_deal(facts(link_status="undone"), STREAM, SF, policy).action == "skip"


def test_hubspot_stage_ids_come_in_as_labels_and_go_out_as_ids() -> None:
    stream = HUBSPOT.deals
    assert stream is not None
    fields = {
        "dealname": "X",
        "amount": "12.5",
        "closedate": "2027-01-31T00:00:00Z",
        "dealstage": "renewing",
        "pipeline": "p2",
    }
    values = hub_values(stream, fields, HS)
    assert values == {
        "name": "X",
        "amount": Decimal("12.50"),
        "close_date": date(2027, 1, 31),
        "pipeline": "Renewals",
        "stage": "Renewing",
    }
    item = plan_deal(
        facts(values={**facts().values, "pipeline": "Renewals", "stage": "Renewing"}),
        stream,
        HS,
        DealPolicy(mode="two_way"),
    )
    assert item.values["dealstage"] == "renewing" and item.values["pipeline"] == "p2"


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [("100", 100.0, True), ("2027-01-31T00:00:00Z", "2027-01-31", True), ("a", "b", False)],
)
def test_values_compare_as_the_crm_holds_them(a: object, b: object, equal: bool) -> None:
    assert same(a, b) is equal
