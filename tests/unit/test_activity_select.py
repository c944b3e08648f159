"""Which activities a sync pushes: the exclusion filter's AND/OR, the internal-email rule, the
six e-mail toggles, flood control, meetings, titles — table-driven over the pure decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from leadbridge.engine.activities.select import (
    ActivityFacts,
    decide,
    excluded_by,
    is_internal,
    rule_matches,
)
from leadbridge.policy.activities import ActivityPush, ExclusionRule
from leadbridge.policy.crm import PolicyFile


def rule(**kw: Any) -> ExclusionRule:
    return ExclusionRule.model_validate(kw)


BOARD_CONFIDENTIAL = rule(**{"from": {"domains": ["ymail.org"]}, "subject": ["Confidential"]})
FROM_AND_TO = rule(**{"from": {"domains": ["acme.com"]}, "to": {"domains": ["board.org"]}})
FROM_OR_TO = rule(
    **{"from": {"domains": ["acme.com"]}, "to": {"domains": ["board.org"]}, "join": "or"}
)
ADDRESS = rule(**{"to": {"domains": ["board.org"], "addresses": ["chair@board.org"]}})
TWO_KEYWORDS = rule(subject=["q3", "board"])


@pytest.mark.parametrize(
    ("name", "r", "sender", "to", "subject", "expected"),
    [
        # AND within a rule: the domain and the keyword, both
        (
            "domain and keyword",
            BOARD_CONFIDENTIAL,
            "x@ymail.org",
            ["a@b.com"],
            "Confidential plan",
            True,
        ),
        ("domain only", BOARD_CONFIDENTIAL, "x@ymail.org", ["a@b.com"], "Lunch?", False),
        ("keyword only", BOARD_CONFIDENTIAL, "x@other.org", ["a@b.com"], "CONFIDENTIAL", False),
        ("subdomain of the domain", BOARD_CONFIDENTIAL, "x@eu.ymail.org", [], "confidential", True),
        # From/To joined by AND
        ("and: both sides", FROM_AND_TO, "rep@acme.com", ["x@board.org"], "", True),
        ("and: any recipient", FROM_AND_TO, "rep@acme.com", ["a@c.io", "x@board.org"], "", True),
        ("and: from only", FROM_AND_TO, "rep@acme.com", ["x@else.org"], "", False),
        ("and: to only", FROM_AND_TO, "rep@else.com", ["x@board.org"], "", False),
        # From/To joined by OR
        ("or: from only", FROM_OR_TO, "rep@acme.com", ["x@else.org"], "", True),
        ("or: to only", FROM_OR_TO, "rep@else.com", ["x@board.org"], "", True),
        ("or: neither", FROM_OR_TO, "rep@else.com", ["x@else.org"], "", False),
        # an address listed narrows its side's domain
        ("address listed", ADDRESS, "a@b.com", ["Chair@Board.org"], "", True),
        ("other address on the domain", ADDRESS, "a@b.com", ["cfo@board.org"], "", False),
        # every keyword of the rule must appear
        ("both keywords", TWO_KEYWORDS, "a@b.com", [], "Board pack Q3", True),
        ("one keyword", TWO_KEYWORDS, "a@b.com", [], "Q3 numbers", False),
        ("empty rule matches nothing", rule(), "a@b.com", ["c@d.com"], "x", False),
    ],
)
def test_exclusion_rule(
    name: str, r: ExclusionRule, sender: str, to: list[str], subject: str, expected: bool
) -> None:
    assert rule_matches(r, sender, to, subject) is expected, name


def test_cc_is_never_looked_at_and_the_first_matching_rule_is_named() -> None:
    with pytest.raises(ValidationError):
        rule(cc={"domains": ["board.org"]})
    rules = [FROM_AND_TO, FROM_OR_TO]
    assert excluded_by(rules, "rep@else.com", ["x@board.org"], "") == 2
    assert excluded_by(rules, "rep@else.com", ["x@else.org"], "") is None


@pytest.mark.parametrize(
    ("sender", "to", "domains", "expected"),
    [
        ("ann@team.example", ["bob@team.example"], ["team.example"], True),
        ("ann@team.example", ["bob@team.example", "c@acme.com"], ["team.example"], False),
        ("ann@team.example", ["bob@labs.example"], ["team.example", "labs.example"], True),
        ("ann@gmail.com", ["bob@gmail.com"], ["gmail.com"], False),  # free mail: never
        ("ann@team.example", [], ["team.example"], False),
        ("ann@team.example", ["bob@team.example"], [], False),
    ],
)
def test_internal_email(sender: str, to: list[str], domains: list[str], expected: bool) -> None:
    assert is_internal(sender, to, domains) is expected


def policy(**emails: Any) -> ActivityPush:
    return ActivityPush.model_validate(
        {"enabled": True, "emails": {"mailbox_domains": ["team.example"], **emails}}
    )


def email(**kw: Any) -> ActivityFacts:
    base: dict[str, Any] = {
        "kind": "email",
        "subject": "Hello",
        "direction": "outgoing",
        "from_email": "rep@team.example",
        "to_emails": ("ann@acme.com",),
        "person_in_crm": True,
        "company_in_crm": True,
    }
    return ActivityFacts(**{**base, **kw})


@pytest.mark.parametrize(
    ("facts", "settings", "push", "reason"),
    [
        (email(sent_from_hub=True), {}, True, "sent from the hub"),
        (email(sent_from_hub=True), {"outgoing_sent_from_hub": False}, False, "outgoing_sent"),
        (email(), {}, False, "outgoing_not_sent_from_hub is off"),
        (email(), {"outgoing_not_sent_from_hub": True}, True, "not sent from the hub"),
        (email(direction="incoming", reply_to_hub=True), {}, True, "a reply"),
        (email(direction="incoming", reply_to_hub=True), {"incoming_replies": False}, False, ""),
        (email(direction="incoming"), {}, False, "incoming_other is off"),
        (email(direction="incoming"), {"incoming_other": True}, True, "another source"),
        (email(to_emails=("bob@team.example",)), {}, False, "internal is off"),
        (email(to_emails=("bob@team.example",)), {"internal": True}, True, "internal"),
        # flood control
        (email(sent_from_sequence=True), {"sequence": "replies_only"}, False, "replies_only"),
        (
            email(sent_from_sequence=True, direction="incoming", reply_to_hub=True),
            {"sequence": "replies_only"},
            True,
            "a reply",
        ),
        # not in the CRM
        (email(sent_from_hub=True, person_in_crm=False), {}, False, "push_when_not_in_crm"),
        (
            email(sent_from_hub=True, person_in_crm=False),
            {"push_when_not_in_crm": True},
            True,
            "",
        ),
        (
            email(sent_from_hub=True),
            {"exclude": [{"to": {"domains": ["acme.com"]}}]},
            False,
            "rule 1",
        ),
    ],
)
def test_email_decisions(
    facts: ActivityFacts, settings: dict[str, Any], push: bool, reason: str
) -> None:
    decision = decide(facts, policy(**settings))
    assert decision.push is push
    assert reason in decision.reason


def test_titles_subtype_and_the_other_kinds() -> None:
    when = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    p = ActivityPush.model_validate(
        {
            "enabled": True,
            "emails": {"sequence_subtype": True, "title_template": "[{kind}] {subject}"},
            "calls": {"title_template": "Call {outcome} {duration} on {date}"},
        }
    )
    seq = decide(email(sent_from_sequence=True), p)
    assert (seq.push, seq.title, seq.sequence_subtype) == (True, "[email] Hello", True)
    call = ActivityFacts(
        kind="call", occurred_at=when, call_outcome="Connected", call_duration_seconds=95,
        person_in_crm=True,
    )  # fmt: skip
    assert decide(call, p).title == "Call Connected 1:35 on 2026-11-02"
    bare = ActivityFacts(kind="call", person_in_crm=True)
    assert decide(bare, ActivityPush(enabled=True)).title == "Call"  # "Call: {outcome}"
    brackets = p.model_copy(update={"calls": p.calls.model_copy(
        update={"title_template": "Call {outcome} ({duration})"})})  # fmt: skip
    assert decide(bare, brackets).title == "Call"
    assert decide(
        ActivityFacts(kind="task", subject="Follow up", company_in_crm=True), p
    ).title == ("Task: Follow up")
    meeting = ActivityFacts(kind="meeting", subject="Demo", company_in_crm=True)
    assert "all_calendar_events" in decide(meeting, p).reason
    everything = p.model_copy(update={"meetings": p.meetings.model_copy(
        update={"all_calendar_events": True})})  # fmt: skip
    assert decide(meeting, everything).push
    assert decide(ActivityFacts(kind="note", person_in_crm=True), p).title == "Note"
    summary = ActivityFacts(kind="summary", subject="Call recap", person_in_crm=True)
    assert "deal" in decide(summary, p).reason
    off = ActivityPush.model_validate({"enabled": True, "notes": {"enabled": False}})
    assert "activities.notes.enabled" in decide(ActivityFacts(kind="note"), off).reason
    assert "activities.enabled" in decide(ActivityFacts(kind="note"), ActivityPush()).reason


def test_policy_file_settings_and_their_warnings() -> None:
    pf = PolicyFile.model_validate(
        {
            "syncs": {
                "salesforce": {
                    "activities": {
                        "enabled": True,
                        "emails": {"push_when_not_in_crm": True, "internal": True},
                        "meetings": {"all_calendar_events": True},
                    }
                }
            }
        }
    )
    warnings = " ".join(pf.sync().activities.warnings())
    assert "create contacts" in warnings and "all_calendar_events" in warnings
    assert "mailbox_domains is empty" in warnings and "flood" in warnings
    with pytest.raises(ValidationError, match="names 'nope'"):
        ActivityPush.model_validate({"tasks": {"title_template": "{nope}"}})
    with pytest.raises(ValidationError, match="join"):
        ActivityPush.model_validate({"emails": {"exclude": [{"join": "xor"}]}})
