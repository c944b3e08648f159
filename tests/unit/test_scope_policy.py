"""The policy's sync scope and personas: parsed, normalised, typos refused at their line."""

from __future__ import annotations

import pytest

from leadbridge.policy.loader import PolicyError, parse_policy

POLICY = """\
version: 1
personas:
  mql_ready: {title_contains: [VP, head of], stages: [Interested]}
syncs:
  salesforce:
    connection: salesforce
    scope: {tags: [" Webinar  2026 ", webinar 2026], personas: [mql_ready]}
    campaign: Webinar 2026
"""


def test_scope_and_campaign_are_read_with_tags_normalised() -> None:
    sync = parse_policy(POLICY).sync()
    assert sync.scope.tags == ["webinar 2026"]
    assert sync.scope.restricted
    assert sync.scope.rules()["mql_ready"].title_contains == ["VP", "head of"]
    assert sync.scope.describe() == "tags webinar 2026; personas mql_ready"
    assert sync.campaign == "Webinar 2026"


def test_no_scope_means_everyone() -> None:
    sync = parse_policy("version: 1\nsyncs: {salesforce: {connection: salesforce}}\n").sync()
    assert not sync.scope.restricted and sync.campaign is None


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value.problems


def test_an_unknown_persona_is_refused_at_its_line_with_the_likely_name() -> None:
    assert problems(POLICY.replace("personas: [mql_ready]", "personas: [mql_redy]")) == [
        "line 7: syncs.salesforce.scope.personas.0: unknown persona 'mql_redy' (did you mean "
        "'mql_ready'? declared under personas: mql_ready)"
    ]


def test_typos_in_scope_and_persona_settings_are_refused_with_did_you_mean() -> None:
    assert problems(POLICY.replace("scope: {tags", "scope: {tgs")) == [
        "line 7: syncs.salesforce.scope.tgs: unknown setting (did you mean 'tags'?)"
    ]
    assert problems(POLICY.replace("stages: [Interested]", "stags: [Interested]")) == [
        "line 3: personas.mql_ready.stags: unknown setting (did you mean 'stages'?)"
    ]


def test_a_persona_without_a_condition_and_an_empty_campaign_are_refused() -> None:
    found = problems(POLICY.replace("{title_contains: [VP, head of], stages: [Interested]}", "{}"))
    assert len(found) == 1 and "a persona needs a condition" in found[0]
    found = problems(POLICY.replace("campaign: Webinar 2026", 'campaign: ""'))
    assert len(found) == 1 and found[0].startswith("line 8: syncs.salesforce.campaign:")
