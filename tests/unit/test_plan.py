"""The classifier shared by run, plan and explain: every criterion, gates and actions."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbridge.connectors.apollo.preset import PRESET
from leadbridge.engine.leadpush.plan import (
    Action,
    LinkState,
    PushRules,
    build_plan,
    plan_lead,
    values_for,
)
from leadbridge.engine.leadpush.qualify import (
    CompanyLead,
    OwnerDirectory,
    StageLadder,
    criteria,
    failures,
)
from leadbridge.engine.sync.failures import payload_hash
from leadbridge.policy.apollo_push import DEFAULT_STAGES, OnDisqualified

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OWNERS = OwnerDirectory(active={1: "u1", 2: "u2"}, deleted=frozenset({3}))
RULES = PushRules()
MAP = PRESET.object_map("account")


def lead(**kw: object) -> CompanyLead:
    base = dict(
        id=10,
        name="Acme",
        domain="acme.com",
        website=None,
        icp_fit="strong",
        stage="evaluation",
        is_lead=True,
        is_customer=False,
        quarantine="active",
        owner_id=1,
        updated_at=NOW - timedelta(hours=1),
    )
    base.update(kw)
    return CompanyLead(**base)  # type: ignore[arg-type]


def test_a_qualified_unlinked_lead_is_created_with_the_mapped_owner() -> None:
    item = plan_lead(lead(), None, RULES, MAP, OWNERS, NOW)
    assert item.action is Action.CREATE
    assert item.values is not None
    assert item.values["owner_id"] == "u1"
    assert item.values["website"] == "https://acme.com"
    assert all(c.passed for c in item.checks)


@pytest.mark.parametrize(
    ("change", "criterion"),
    [
        ({"is_lead": False}, "company lead"),
        ({"is_customer": True}, "not a customer"),
        ({"stage": "customer"}, "not a customer"),
        ({"icp_fit": "not_a_fit"}, "ICP fit"),
        ({"icp_fit": "unknown"}, "ICP fit"),
        ({"stage": "target"}, "stage"),  # the threshold itself is not above it
        ({"stage": "pending"}, "stage"),
        ({"stage": None}, "stage"),
        ({"stage": "not_a_fit"}, "stage"),
        ({"quarantine": "quarantined"}, "not quarantined"),
        ({"name": "  "}, "name"),
        ({"domain": None}, "domain"),
        ({"domain": "www.acme.com"}, "domain"),  # not normalised: not a valid primary domain
        ({"owner_id": None}, "owner"),
        ({"owner_id": 99}, "owner"),
        ({"owner_id": 3}, "owner"),  # mapped to a deleted Apollo user
    ],
)
def test_each_criterion_alone_blocks_the_push(change: dict[str, object], criterion: str) -> None:
    item = plan_lead(lead(**change), None, RULES, MAP, OWNERS, NOW)
    assert item.action is Action.SKIP
    assert item.reason_key == criterion
    assert next(c.name for c in failures(item.checks)) == criterion


def test_customer_and_not_a_fit_never_pass_any_threshold() -> None:
    for threshold in DEFAULT_STAGES[:-1]:
        ladder = StageLadder(DEFAULT_STAGES, threshold)
        assert not ladder.above_threshold("customer")
        assert not ladder.above_threshold("not_a_fit")
    with pytest.raises(ValueError, match="cannot be a rank"):
        StageLadder(("target", "customer"), "target")
    with pytest.raises(ValueError, match="not one of"):
        StageLadder(DEFAULT_STAGES, "closing")


def test_settle_buffer_waits_for_recent_edits() -> None:
    item = plan_lead(lead(updated_at=NOW - timedelta(minutes=2)), None, RULES, MAP, OWNERS, NOW)
    assert item.action is Action.WAIT and item.reason_key == "settle buffer"
    item = plan_lead(lead(updated_at=NOW - timedelta(minutes=6)), None, RULES, MAP, OWNERS, NOW)
    assert item.action is Action.CREATE


def linked(payload_lead: CompanyLead, **kw: object) -> LinkState:
    values = values_for(payload_lead, MAP, OWNERS)
    assert values is not None
    base = dict(
        hub_id=payload_lead.id,
        remote_id="a1",
        status="created",
        payload_hash=payload_hash(values),
        pushed=values,
    )
    base.update(kw)
    return LinkState(**base)  # type: ignore[arg-type]


def test_linked_and_unchanged_sends_nothing_and_a_rename_updates() -> None:
    l0 = lead()
    link = linked(l0)
    assert plan_lead(l0, link, RULES, MAP, OWNERS, NOW).action is Action.UNCHANGED
    renamed = plan_lead(replace(l0, name="Acme Corp"), link, RULES, MAP, OWNERS, NOW)
    assert renamed.action is Action.UPDATE
    assert renamed.changes == {"name": ("Acme", "Acme Corp")}
    assert renamed.previous is not None and renamed.previous["name"] == "Acme"
    reowned = plan_lead(replace(l0, owner_id=2), link, RULES, MAP, OWNERS, NOW)
    assert reowned.changes == {"owner_id": ("u1", "u2")}


def test_a_touch_that_changes_no_pushed_field_is_unchanged() -> None:
    l0 = lead()
    link = linked(l0)
    touched = replace(l0, updated_at=NOW - timedelta(minutes=30))
    assert plan_lead(touched, link, RULES, MAP, OWNERS, NOW).action is Action.UNCHANGED


def test_disqualified_linked_lead_is_detached_once_then_skipped() -> None:
    l0 = lead()
    gone = replace(l0, quarantine="quarantined")
    item = plan_lead(gone, linked(l0), RULES, MAP, OWNERS, NOW)
    assert item.action is Action.DETACH and "left as is" in item.reason
    marked = linked(l0, stale_reason=item.reason)
    assert plan_lead(gone, marked, RULES, MAP, OWNERS, NOW).action is Action.SKIP
    # requalifying clears the mark
    back = plan_lead(l0, marked, RULES, MAP, OWNERS, NOW)
    assert back.action is Action.UNCHANGED and back.clear_stale


def test_keep_updating_pushes_changes_of_a_disqualified_linked_lead() -> None:
    rules = PushRules(on_disqualified=OnDisqualified.KEEP_UPDATING)
    l0 = lead()
    changed = replace(l0, quarantine="quarantined", name="Acme 2")
    assert plan_lead(changed, linked(l0), rules, MAP, OWNERS, NOW).action is Action.UPDATE


def test_retry_gates() -> None:
    l0 = lead()
    values = values_for(l0, MAP, OWNERS)
    assert values is not None
    transient = LinkState(
        10,
        None,
        "error",
        attempts=2,
        error_class="transient",
        last_error="500",
        next_attempt_at=NOW + timedelta(minutes=3),
    )
    assert plan_lead(l0, transient, RULES, MAP, OWNERS, NOW).action is Action.WAIT
    due = replace(transient, next_attempt_at=NOW - timedelta(seconds=1))
    assert plan_lead(l0, due, RULES, MAP, OWNERS, NOW).action is Action.CREATE
    exhausted = replace(due, attempts=RULES.max_attempts)
    item = plan_lead(l0, exhausted, RULES, MAP, OWNERS, NOW)
    assert item.action is Action.SKIP and "gave up" in item.reason
    permanent = LinkState(
        10,
        None,
        "error",
        attempts=1,
        error_class="permanent",
        last_error="owner not on team",
        failed_hash=payload_hash(values),
    )
    assert plan_lead(l0, permanent, RULES, MAP, OWNERS, NOW).action is Action.SKIP
    # the data changed since the permanent failure: one more try
    assert (
        plan_lead(replace(l0, owner_id=2), permanent, RULES, MAP, OWNERS, NOW).action
        is Action.CREATE
    )


def test_pending_intent_is_recreated_for_dedupe_recovery() -> None:
    item = plan_lead(lead(), LinkState(10, None, "pending"), RULES, MAP, OWNERS, NOW)
    assert item.action is Action.CREATE and "not confirmed" in item.reason


def test_remote_plan_tells_adopt_from_create() -> None:
    plan = build_plan(
        [lead(), lead(id=11, domain="beta.io", name="Beta")],
        {},
        RULES,
        MAP,
        OWNERS,
        NOW,
        remote_domains=frozenset({"beta.io"}),
    )
    assert [i.action for i in plan.items] == [Action.CREATE, Action.ADOPT]


stages = st.sampled_from([*DEFAULT_STAGES, "customer", "not_a_fit", None])
fits = st.sampled_from(["strong", "moderate", "not_a_fit", "unknown"])


@given(
    stage=stages,
    fit=fits,
    quarantine=st.sampled_from(["active", "quarantined"]),
    customer=st.booleans(),
    owner=st.sampled_from([None, 1, 2, 3, 99]),
    threshold=st.sampled_from(DEFAULT_STAGES[:-1]),
)
def test_create_iff_every_criterion_holds(stage, fit, quarantine, customer, owner, threshold):  # type: ignore[no-untyped-def]
    rules = PushRules(ladder=StageLadder(DEFAULT_STAGES, threshold))
    candidate = lead(
        stage=stage, icp_fit=fit, quarantine=quarantine, is_customer=customer, owner_id=owner
    )
    expected = (
        fit in ("strong", "moderate")
        and stage in DEFAULT_STAGES
        and DEFAULT_STAGES.index(stage) > DEFAULT_STAGES.index(threshold)
        and quarantine == "active"
        and not customer
        and owner in (1, 2)
    )
    item = plan_lead(candidate, None, rules, MAP, OWNERS, NOW)
    assert (item.action is Action.CREATE) == expected
    assert all(c.passed for c in criteria(candidate, rules.ladder, OWNERS)) == expected
