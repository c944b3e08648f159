"""Properties: generated WHERE clauses over generated records select exactly what a plain
Python predicate selects; parse(render(tree)) gives the tree back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.soql import (
    Comparison,
    Condition,
    FieldRef,
    Junction,
    Literal,
    Membership,
    Not,
    OrderItem,
    Query,
)

from .memory import MemorySource

INSTANTS = [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in (0, 5, 24, 49)]
DAYS = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 2, 29)]
TEXT = st.text(alphabet="aAb%_'\\ ", max_size=3)

# field -> (describe type, strategy of stored values, strategy of literal values)
FIELDS: dict[str, tuple[str, Any, Any]] = {
    # Salesforce stores no empty strings, and reads a '' literal as null.
    "Name": ("text", st.none() | TEXT.map(lambda t: t or None), TEXT),
    "NumberOfEmployees": ("num", st.none() | st.integers(-3, 3), st.integers(-3, 3)),
    "AnnualRevenue": (
        "num",
        st.none() | st.sampled_from([-1.5, 0.0, 2.25]),
        st.sampled_from([-1.5, 0.0, 2.25, 1.0]),
    ),
    "CreatedDate": ("datetime", st.none() | st.sampled_from(INSTANTS), st.sampled_from(INSTANTS)),
    "LastActivityDate": ("date", st.none() | st.sampled_from(DAYS), st.sampled_from(DAYS)),
    "IsPartner": ("bool", st.booleans(), st.booleans()),
}
record = st.fixed_dictionaries({name: spec[1] for name, spec in FIELDS.items()})


@st.composite
def literal(draw: st.DrawFn, field: str) -> tuple[Literal, Any]:
    """A literal as SOQL text, with the Python value it stands for."""
    kind = FIELDS[field][0]
    value = draw(FIELDS[field][2])
    if kind == "text":
        return Literal("str", soql.quote(value)), value or None
    if kind == "num":
        return Literal("num", str(value)), value
    if kind == "bool":
        text = draw(st.sampled_from(["true", "TRUE", "False"])) if value else "false"
        return Literal("bool", text), text.lower() == "true"
    if kind == "date":
        return Literal("date", value.isoformat()), value
    hours = draw(st.sampled_from([0, 2, -8]))  # the same instant, written in another offset
    local = value.astimezone(timezone(timedelta(hours=hours)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + (
        draw(st.sampled_from(["Z", ".000Z"])) if hours == 0 else local.strftime("%z")
    )
    if hours and draw(st.booleans()):
        text = text[:-2] + ":" + text[-2:]
    return Literal("datetime", text), value


@st.composite
def like_pattern(draw: st.DrawFn) -> tuple[Literal, Any]:
    parts = draw(
        st.lists(st.sampled_from(["a", "A", "b", "B", "%", "_", "\\%", "\\_", "\\'"]), max_size=4)
    )
    return Literal("str", "'" + "".join(parts) + "'"), parts


@st.composite
def leaf(draw: st.DrawFn) -> tuple[Condition, Any]:
    field = draw(st.sampled_from(sorted(FIELDS)))
    ref = FieldRef(draw(st.sampled_from([field, field.lower(), field.upper()])))
    shape = draw(st.sampled_from(["cmp", "null", "in", "like"]))
    if shape == "like" and FIELDS[field][0] == "text":
        lit, parts = draw(like_pattern())
        return Comparison(ref, "LIKE", lit), ("like", field, parts)
    if shape == "null":
        op = draw(st.sampled_from(["=", "!="]))
        return Comparison(ref, op, Literal("null", "null")), ("cmp", field, op, None)
    if shape == "in":
        pairs = draw(st.lists(literal(field), min_size=1, max_size=3))
        negated = draw(st.booleans())
        values = [v for _, v in pairs]
        return Membership(ref, tuple(lit for lit, _ in pairs), negated), (
            "in",
            field,
            values,
            negated,
        )
    ops = ["=", "!="] if FIELDS[field][0] == "bool" else ["=", "!=", "<", "<=", ">", ">="]
    op = draw(st.sampled_from(ops))
    lit, value = draw(literal(field))
    return Comparison(ref, op, lit), ("cmp", field, op, value)


def condition() -> st.SearchStrategy[tuple[Condition, Any]]:
    def extend(children: st.SearchStrategy[tuple[Condition, Any]]) -> Any:
        junction = st.tuples(
            st.sampled_from(["AND", "OR"]), st.lists(children, min_size=2, max_size=3)
        ).map(lambda t: (Junction(t[0], tuple(c for c, _ in t[1])), (t[0], [m for _, m in t[1]])))
        negation = children.map(lambda c: (Not(c[0]), ("NOT", c[1])))
        return junction | negation

    return st.recursive(leaf(), extend, max_leaves=6)


# --- the reference: plain Python over plain values -----------------------------------------


def norm(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(norm(a) == norm(b))


def like(parts: list[str], value: str) -> bool:
    """Backtracking matcher over the pattern's tokens (no regular expressions)."""
    text = value.lower()

    def match(i: int, j: int) -> bool:
        if i == len(parts):
            return j == len(text)
        p = parts[i]
        if p == "%":
            return any(match(i + 1, k) for k in range(j, len(text) + 1))
        if p == "_":
            return j < len(text) and match(i + 1, j + 1)
        ch = p[-1].lower()  # a\% \_ \' stand for the character itself
        return j < len(text) and text[j] == ch and match(i + 1, j + 1)

    return match(0, 0)


def holds(model: Any, row: dict[str, Any]) -> bool:
    tag = model[0]
    if tag == "AND":
        return all(holds(m, row) for m in model[1])
    if tag == "OR":
        return any(holds(m, row) for m in model[1])
    if tag == "NOT":
        return not holds(model[1], row)
    if tag == "like":
        return row[model[1]] is not None and like(model[2], row[model[1]])
    if tag == "in":
        hit = any(equal(row[model[1]], v) for v in model[2])
        return not hit if model[3] else hit
    _, field, op, value = model
    v = row[field]
    if op == "=":
        return equal(v, value)
    if op == "!=":
        return not equal(v, value)
    if v is None or value is None:
        return False
    a, b = norm(v), norm(value)
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


# --- properties -----------------------------------------------------------------------------


def source_with(rows: list[dict[str, Any]]) -> MemorySource:
    src = MemorySource("Account")
    for row in rows:
        src.add("Account", **row)
    return src


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record, max_size=8), condition())
def test_where_agrees_with_python(rows: list[dict[str, Any]], cond: tuple[Condition, Any]) -> None:
    tree, model = cond
    src = source_with(rows)
    text = soql.render(Query("Account", (FieldRef("Id"),), where=tree))
    got = {
        r["attributes"]["url"].rsplit("/", 1)[1]
        for r in soql.execute(soql.parse(text), src).records
    }
    expected = {r["Id"] for r in src.records["Account"] if holds(model, r)}
    assert got == expected, text


order_item = st.builds(
    OrderItem,
    st.sampled_from(sorted(FIELDS)).map(FieldRef),
    st.booleans(),
    st.sampled_from([None, "FIRST", "LAST"]),
)
queries = st.builds(
    Query,
    st.sampled_from(["Account", "account", "Contact"]),
    st.lists(
        st.sampled_from(["Id", "Name", "Owner.Name", "account.Industry"]), min_size=1, max_size=3
    ).map(lambda names: tuple(FieldRef(n) for n in names)),
    where=st.none() | condition().map(lambda c: c[0]),
    order=st.lists(order_item, max_size=2).map(tuple),
    limit=st.none() | st.integers(0, 50_000),
    offset=st.none() | st.integers(0, 2000),
)


@settings(max_examples=300, deadline=None)
@given(queries)
def test_parse_render_round_trips(q: Query) -> None:
    text = soql.render(q)
    assert soql.parse(text) == q
    assert soql.render(soql.parse(text)) == text


@settings(max_examples=100, deadline=None)
@given(st.lists(record, min_size=1, max_size=8), st.lists(order_item, min_size=1, max_size=2))
def test_order_by_agrees_with_python(rows: list[dict[str, Any]], order: list[OrderItem]) -> None:
    src = source_with(rows)
    q = Query("Account", (FieldRef("Id"),), order=tuple(order))
    got = [
        r["attributes"]["url"].rsplit("/", 1)[1]
        for r in soql.execute(soql.parse(soql.render(q)), src).records
    ]
    expected = list(src.records["Account"])
    for item in reversed(order):  # stable sorts, last key first; nulls placed per item
        name = item.field.path
        present = sorted(
            (r for r in expected if r[name] is not None),
            key=lambda r: norm(r[name]),
            reverse=item.descending,
        )
        missing = [r for r in expected if r[name] is None]
        expected = missing + present if item.nulls_first else present + missing
    assert got == [r["Id"] for r in expected]


def test_like_reference_is_sane() -> None:
    assert like(["a", "%"], "abc") and not like(["a", "_"], "abc") and like(["\\%"], "%")
    assert re.fullmatch(".*", "") and not like(["\\%"], "x")
