"""The sandbox's SOQL subset, evaluated against an in-memory org with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.org import Org

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def org() -> Org:
    clock = [NOW - 3 * 86400]
    o = Org(seed=2, clock=lambda: clock[0])
    for i, (last, email) in enumerate(
        [("Ng", "ng@x.io"), ("Lee", None), ("Le%", "p@x.io"), ("Zed", "z@y.io")]
    ):
        clock[0] = NOW - (3 - i) * 86400  # created three days ago, two, one, today
        o.create("Contact", {"LastName": last, "Email": email, "Title": f"T{i}"})
    clock[0] = NOW
    return o


def ids(org: Org, where: str) -> list[str]:
    records, _ = soql.execute(
        soql.parse(f"SELECT LastName FROM Contact WHERE {where} ORDER BY LastName"), org
    )
    return [r["LastName"] for r in records]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = null", ["Lee"]),
        ("Email != null AND NOT LastName LIKE 'z%'", ["Le%", "Ng"]),
        ("LastName LIKE 'le\\%'", ["Le%"]),  # an escaped wildcard is a literal %
        ("LastName IN ('ng', 'ZED')", ["Ng", "Zed"]),
        ("LastName NOT IN ('Ng')", ["Le%", "Lee", "Zed"]),
        ("(Title = 'T0' OR Title = 'T3') AND Email LIKE '%.io'", ["Ng", "Zed"]),
        ("CreatedDate = TODAY", ["Zed"]),
        ("CreatedDate = YESTERDAY", ["Le%"]),
        ("CreatedDate >= LAST_N_DAYS:1", ["Le%", "Zed"]),
        ("CreatedDate < 2026-11-21T12:00:00Z", ["Ng"]),
    ],
)
def test_where(org: Org, where: str, expected: list[str]) -> None:
    assert ids(org, where) == expected


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "MALFORMED_QUERY"),
        ("SELECT FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Nope FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2026-01-01'", "INVALID_FIELD"),
        ("SELECT Id FROM Contact WHERE LastName = 2026-01-01", "INVALID_FIELD"),
        ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
    ],
)
def test_errors_carry_salesforce_codes(org: Org, query: str, code: str) -> None:
    with pytest.raises(soql.SoqlError) as info:
        soql.execute(soql.parse(query), org)
    assert info.value.error_code == code


def test_order_nulls_limit_offset_and_count(org: Org) -> None:
    q = "SELECT LastName, Email FROM Contact ORDER BY Email DESC NULLS LAST LIMIT 2 OFFSET 1"
    records, total = soql.execute(soql.parse(q), org)
    assert [r["LastName"] for r in records] == ["Le%", "Ng"] and total == 2
    assert soql.execute(soql.parse("SELECT COUNT() FROM Contact WHERE Email != null"), org) == (
        [],
        3,
    )


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["Ng", "Lee", "Le%", "Zed", "x"]), st.sampled_from(["=", "!=", "<", ">="]))
def test_comparisons_agree_with_python(org: Org, value: str, op: str) -> None:  # type: ignore[no-untyped-def]
    got = ids(org, f"LastName {op} '{value.replace('%', '%')}'")
    names = sorted(r["LastName"] for r in org.rows("Contact"))
    python = {
        "=": lambda a: a.lower() == value.lower(),
        "!=": lambda a: a.lower() != value.lower(),
        "<": lambda a: a.lower() < value.lower(),
        ">=": lambda a: a.lower() >= value.lower(),
    }[op]
    assert got == sorted(n for n in names if python(n))
