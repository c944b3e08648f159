"""The policy file's errors, and the write rules as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadbridge.connectors.salesforce.preset import PRESET
from leadbridge.engine.sync.resolve import resolve
from leadbridge.engine.systems import sections
from leadbridge.policy.crm import FieldMap
from leadbridge.policy.loader import PolicyError, parse_policy


def test_policy_typos_and_bad_values_are_reported_with_line_numbers() -> None:
    text = (
        "version: 1\nsyncs:\n  sf:\n    setup_windw_hours: 3\n    push: {create_people_as: Leads}\n"
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, sections=sections())
    problems = "\n".join(caught.value.problems)
    assert "line 4" in problems and "did you mean 'setup_window_hours'" in problems
    assert (
        "line 5" in problems and "'Leads' is not a person object (did you mean 'lead'?" in problems
    )


def test_policy_refuses_unknown_stages_and_rules_that_do_not_fit() -> None:
    with pytest.raises(PolicyError, match="Bogus not among the stages"):
        parse_policy("syncs:\n  sf:\n    push: {contacts: {mode: stages, stages: [Bogus]}}\n")
    with pytest.raises(ValueError, match="latest"):
        FieldMap(hub="email", crm="Email", direction="both", rule="overwrite")


def test_defaults_follow_the_ownership_policy() -> None:
    lead = PRESET.object_map("lead").by_crm()
    assert lead["Status"].direction == "crm_to_hub" and lead["OwnerId"].direction == "crm_to_hub"
    assert lead["Email"].direction == "hub_to_crm" and lead["FirstName"].direction == "both"


T0, T1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
FIELDS = [
    FieldMap(hub="first_name", crm="FirstName", direction="both"),
    FieldMap(hub="title", crm="Title", direction="hub_to_crm"),
    FieldMap(hub="phone", crm="Phone", direction="hub_to_crm", rule="auto_fill"),
    FieldMap(hub="lead_status", crm="Status", direction="crm_to_hub"),
]


def test_rules_echo_autofill_overwrite_and_latest_change() -> None:
    snap = {"FirstName": "Ann", "Title": "CTO", "Phone": "1", "Status": "Open"}
    hub = {"first_name": "Ann", "title": "CTO", "phone": "2", "lead_status": "Open"}
    # Our own write read back is no change; auto-fill leaves a filled field alone.
    assert not resolve(FIELDS, hub, snap, snap)
    # The CRM changed the shared name and the status: both flow into the hub.
    r = resolve(FIELDS, hub, {**snap, "FirstName": "Anne", "Status": "Working"}, snap)
    assert r.hub == {"first_name": "Anne", "lead_status": "Working"} and not r.crm
    # Both changed the shared field: the later change wins, either way round.
    crm = {**snap, "FirstName": "CrmAnn"}
    hub2 = {**hub, "first_name": "HubAnn"}
    assert resolve(
        FIELDS, hub2, crm, snap, hub_changed_at={"first_name": T1}, crm_modified_at=T0
    ).crm == {"FirstName": "HubAnn"}
    assert resolve(
        FIELDS, hub2, crm, snap, hub_changed_at={"first_name": T0}, crm_modified_at=T1
    ).hub == {"first_name": "CrmAnn"}
    # A CRM that stamps whole seconds (Salesforce): a hub change 0.4 s after the stamp's second
    # began may be older than the CRM's change in that second. It ties, and a tie is the CRM's.
    stamp, second = T0.replace(second=7), timedelta(seconds=1)
    hub_at = {"first_name": stamp + timedelta(milliseconds=400)}
    assert resolve(FIELDS, hub2, crm, snap, hub_changed_at=hub_at, crm_modified_at=stamp).crm == {
        "FirstName": "HubAnn"
    }  # compared to the microsecond, the hub is later
    assert resolve(
        FIELDS, hub2, crm, snap, hub_changed_at=hub_at, crm_modified_at=stamp,
        crm_stamp_precision=second,
    ).hub == {"first_name": "CrmAnn"}  # fmt: skip
    later = {"first_name": stamp + second}  # the next second: the hub's change is later
    assert resolve(
        FIELDS, hub2, crm, snap, hub_changed_at=later, crm_modified_at=stamp,
        crm_stamp_precision=second,
    ).crm == {"FirstName": "HubAnn"}  # fmt: skip
    # Overwrite sends the hub's value where it differs; an empty CRM field is auto-filled.
    r = resolve(FIELDS, {**hub, "title": "CEO"}, {**snap, "Phone": None}, snap)
    assert r.crm == {"Title": "CEO", "Phone": "2"}
    # A manual push sends hub values whatever the rule, but never a CRM-owned field.
    r = resolve(FIELDS, {**hub, "lead_status": "Mine"}, snap, snap, manual=True)
    assert r.crm == {"Phone": "2"} and r.hub == {"lead_status": "Open"}


def test_deletion_and_merge_sync_per_kind_default_off_and_typos_are_clear() -> None:
    default = parse_policy("syncs:\n  sf: {}\n").sync()
    assert (default.deletion_sync.person, default.deletion_sync.company) == ("off", "off")
    assert (default.merge_sync.person, default.merge_sync.company) == ("off", "off")
    both = parse_policy("syncs:\n  sf:\n    deletion_sync: on\n    merge_sync: yes\n").sync()
    assert both.deletion_sync.on("person") and both.deletion_sync.on("company")
    assert both.merge_sync.on("person") and both.merge_sync.on("company")
    one = parse_policy("syncs:\n  sf:\n    deletion_sync: {company: 'on'}\n").sync()
    assert one.deletion_sync.on("company") and not one.deletion_sync.on("person")
    with pytest.raises(PolicyError, match=r"line 3: .*deletion_sync.person: Input should be 'on'"):
        parse_policy("syncs:\n  sf:\n    deletion_sync: {person: of}\n")
    with pytest.raises(PolicyError, match=r"line 3: .*merge_sync.persn: .*did you mean 'person'"):
        parse_policy("syncs:\n  sf:\n    merge_sync: {persn: on}\n")
