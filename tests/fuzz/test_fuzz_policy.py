"""Fuzzing the policy loader: random YAML, random edits of a real policy, deep nesting, big
numbers and typos. A file is a policy or one PolicyError whose problems carry line numbers;
never another exception."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbridge.policy.crm import PERSON_FIELDS, PolicyFile
from leadbridge.policy.loader import PolicyError, parse_policy
from tests.e2e.cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)

FUZZ = settings(
    max_examples=int(os.environ.get("LEADBRIDGE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID = """version: 1
syncs:
  salesforce:
    connection: salesforce
    setup_window_hours: 6
    pull: {interval_minutes: 30}
    push:
      enabled: true
      create_people_as: Lead
      contacts: {mode: stages, stages: [Interested, "No stage"]}
      people_source: {field: LeadSource, value: leadbridge}
    custom_fields: [{name: score, object: person}]
    lead:
      fields:
        - {hub: first_name, crm: FirstName, direction: both}
        - {hub: title, crm: Title, direction: hub_to_crm}
        - {hub: custom.score, crm: Score__c, direction: hub_to_crm, rule: auto_fill}
"""
KEYS = [
    "version", "syncs", "salesforce", "connection", "setup_window_hours", "pull",
    "interval_minutes", "push", "enabled", "lead", "fields", "hub", "crm", "direction",
    "rule", "batch_size", "custom_fields", "stages", "contacts", "mode",
]  # fmt: skip
LINE = re.compile(r"^line \d+: ")


def outcome(text: str) -> PolicyFile | PolicyError:
    try:
        return parse_policy(text)
    except PolicyError as exc:
        assert exc.problems, "a PolicyError names its problems"
        assert "\n" not in str(exc) or "\n" in text, "one line (unless it quotes the file)"
        return exc


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(KEYS + list(PERSON_FIELDS) + ["titel", "Lead", "both", "hub_to_crm"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=30,
)


@given(document=documents)
@FUZZ
def test_random_yaml_documents(document: Any) -> None:
    outcome(yaml.safe_dump(document, allow_unicode=True))
    outcome(yaml.safe_dump({"version": 1, "syncs": {"salesforce": document}}))


@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 3), st.text(max_size=3)),
        min_size=1,
        max_size=4,
    )
)
@FUZZ
def test_random_edits_of_a_real_policy(edits: list[tuple[int, int, str]]) -> None:
    text = VALID
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    outcome(text)


@given(depth=st.integers(1, 1200), flow=st.booleans(), kind=st.sampled_from("[{-"))
@FUZZ
def test_deep_nesting(depth: int, flow: bool, kind: str) -> None:
    if kind == "-":
        body = "".join(f"{'  ' * i}-\n" for i in range(min(depth, 120))) + "  " * depth + "x\n"
    else:
        close = "]" if kind == "[" else "}"
        inner = "x" if kind == "[" else "a: x"
        body = (kind if kind == "[" else "{a: ") * depth + inner + close * depth
        if not flow:
            body = "syncs:\n  salesforce:\n    pull: " + body
    result = outcome(body + "\n")
    if depth > 45 and kind != "-":
        assert isinstance(result, PolicyError)


BOUNDS = {
    "batch_size": (1, 200),
    "setup_window_hours": (0, 720),
    "pull: {interval_minutes": (1, 10_080),
    "version": (1, 1),
}


@given(
    digits=st.one_of(st.integers(1, 6), st.integers(1, 6000)),
    where=st.sampled_from(sorted(BOUNDS)),
    sign=st.sampled_from(["", "-"]),
)
@FUZZ
def test_big_numbers(digits: int, where: str, sign: str) -> None:
    number = sign + "9" * digits
    if where == "version":
        text = f"version: {number}\n"
    elif where.startswith("pull"):
        text = f"syncs:\n  salesforce:\n    {where}: {number}}}\n"
    else:
        text = f"syncs:\n  salesforce:\n    {where}: {number}\n"
    result = outcome(text)
    low, high = BOUNDS[where]
    in_range = digits < 10 and low <= int(number) <= high
    assert isinstance(result, PolicyFile) == in_range, result
    if isinstance(result, PolicyError):
        assert all(LINE.match(p) for p in result.problems), result.problems


@given(
    line=st.sampled_from([i for i, text in enumerate(VALID.splitlines()) if "hub:" in text]),
    typo=st.sampled_from(["titel", "frist_name", "emial", "custom.scor", "lastname"]),
)
@FUZZ
def test_a_typo_in_a_field_map_is_reported_at_its_line(line: int, typo: str) -> None:
    lines = VALID.splitlines()
    lines[line] = re.sub(r"hub: [\w.]+", f"hub: {typo}", lines[line])
    result = outcome("\n".join(lines) + "\n")
    assert isinstance(result, PolicyError)
    assert result.problems[0].startswith(f"line {line + 1}: "), result.problems
    assert "did you mean" in result.problems[0]


@given(document=documents, deep=st.integers(0, 200))
@settings(FUZZ, max_examples=min(FUZZ.max_examples, 15))
def test_policy_check_never_prints_a_traceback(tmp_path: Path, document: Any, deep: int) -> None:
    path = tmp_path / "leadbridge.yaml"
    text = yaml.safe_dump({"version": 1, "syncs": {"salesforce": document}})
    path.write_text(text + ("x: " + "[" * deep + "]" * deep + "\n" if deep else ""))
    result = lb("policy", "check", "--policy", str(path))
    assert result.exit_code == 1  # a policy error, or no Salesforce connection: one line
    assert result.output.startswith("error: ")
