"""Evaluate a parsed query against a RecordSource, with the describe's types deciding how each
literal is read and compared. Everything is compiled once per query (field paths, literals,
predicates), so a 50,000-row scan costs a few dictionary lookups per row."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, Protocol

from leadbridge.sandbox.salesforce.ids import to18
from leadbridge.sandbox.salesforce.soql_ast import (
    Comparison,
    Condition,
    FieldRef,
    Junction,
    Literal,
    Membership,
    Not,
    Query,
    SoqlError,
)
from leadbridge.sandbox.salesforce.soql_parse import caret
from leadbridge.sandbox.salesforce.soql_values import (
    IDS,
    NUMERIC,
    TEXT,
    as_instants,
    day_range,
    decode_string,
    format_value,
    key,
    parse_datetime,
    stored,
)

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


class RecordSource(Protocol):
    """What the engine reads. An org store may also offer `canonical(name)`, `row(sobject,
    id)` and `clock()`; the engine uses them when present and falls back otherwise."""

    def describe(self, sobject: str) -> dict[str, Any]: ...
    def rows(self, sobject: str) -> Iterable[Row]: ...


class QueryResult(NamedTuple):
    records: list[dict[str, Any]]  # API shape, "attributes" first
    total_size: int


@dataclass(frozen=True)
class Column:
    """One selected/filtered/sorted field path, resolved against the describes."""

    header: str  # canonical dotted path: LastName, Account.Name
    leaf: dict[str, Any]  # the field's describe
    relationship: str | None = None  # Account
    id_field: str | None = None  # AccountId
    targets: tuple[str, ...] = ()  # parent sobjects the id may point at

    @property
    def name(self) -> str:
        return str(self.leaf["name"])

    @property
    def kind(self) -> str:
        return str(self.leaf["type"])


def attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}


class Evaluator:
    def __init__(self, q: Query, source: RecordSource, now: datetime | None = None) -> None:
        self.q = q
        self.source = source
        self._now = now
        self._index: dict[str, dict[str, Row]] = {}
        obj = self.canonical(q.sobject)
        if obj is None:
            pos = q.text.find(q.sobject) if q.text else 0
            raise SoqlError(
                "INVALID_TYPE",
                caret(
                    q.text or q.sobject,
                    max(pos, 0),
                    f"sObject type '{q.sobject}' is not supported. If you are attempting to use "
                    "a custom object, be sure to append the '__c' after the entity name. Please "
                    "reference your WSDL or the describe call for the appropriate names.",
                ),
            )
        self.obj = obj
        self.fields = {f["name"].lower(): f for f in source.describe(obj)["fields"]}
        self.relations = {
            f["relationshipName"].lower(): f
            for f in self.fields.values()
            if f.get("relationshipName") and f.get("referenceTo")
        }
        self.columns = [self.column(f) for f in q.fields]
        self.counted = [self.column(a.field) for a in q.aggregates]
        if q.aggregates and q.fields:
            raise self.error(
                "MALFORMED_QUERY",
                q.fields[0],
                f"Field must be grouped or aggregated: {q.fields[0].path}",
            )
        self.order = [(self.column(o.field), o) for o in q.order]
        self.where = self.compile(q.where) if q.where is not None else None

    # --- the source, with fallbacks for a minimal RecordSource --------------------------------

    def canonical(self, name: str) -> str | None:
        fn = getattr(self.source, "canonical", None)
        if fn is not None:
            result = fn(name)
            return str(result) if result else None
        try:
            return str(self.source.describe(name)["name"])
        except (KeyError, LookupError):
            return None

    def lookup(self, sobject: str, record_id: str) -> Row | None:
        fn = getattr(self.source, "row", None)
        if fn is not None:
            found: Row | None = fn(sobject, record_id)
            return found
        if sobject not in self._index:
            self._index[sobject] = {r["Id"]: r for r in self.source.rows(sobject)}
        return self._index[sobject].get(to18(record_id) or record_id)

    def now(self) -> datetime:
        if self._now is not None:
            return self._now
        clock = getattr(self.source, "clock", None)
        return datetime.fromtimestamp(clock(), UTC) if callable(clock) else datetime.now(UTC)

    # --- field paths ----------------------------------------------------------------------------

    def error(self, code: str, ref: FieldRef | Literal, message: str) -> SoqlError:
        return SoqlError(code, caret(self.q.text, ref.pos, message) if self.q.text else message)

    def no_such_column(self, ref: FieldRef, name: str) -> SoqlError:
        return self.error(
            "INVALID_FIELD",
            ref,
            f"No such column '{name}' on entity '{self.obj}'. If you are attempting to use a "
            "custom field, be sure to append the '__c' after the custom field name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )

    def column(self, ref: FieldRef) -> Column:
        parts = ref.path.split(".")
        if len(parts) > 1 and parts[0].lower() == self.obj.lower():
            parts = parts[1:]  # SELECT Contact.LastName FROM Contact
        if len(parts) == 1:
            leaf = self.fields.get(parts[0].lower())
            if leaf is None:
                raise self.no_such_column(ref, parts[0])
            return Column(leaf["name"], leaf)
        if len(parts) > 2:  # the subset goes one level up
            raise self.no_such_column(ref, parts[0])
        ref_field = self.relations.get(parts[0].lower())
        if ref_field is None:
            raise self.error(
                "INVALID_FIELD",
                ref,
                f"Didn't understand relationship '{parts[0]}' in field path. If you are "
                "attempting to use a custom relationship, be sure to append the '__r' after the "
                "custom relationship name. Please reference your WSDL or the describe call for "
                "the appropriate names.",
            )
        # A polymorphic lookup (Lead.Owner: Group or User) reads the targets the org knows.
        targets = tuple(t for t in (self.canonical(n) for n in ref_field["referenceTo"]) if t)
        for target in targets:
            for f in self.source.describe(target)["fields"]:
                if f["name"].lower() == parts[1].lower():
                    return Column(
                        f"{ref_field['relationshipName']}.{f['name']}",
                        f,
                        ref_field["relationshipName"],
                        ref_field["name"],
                        targets,
                    )
        raise self.error(
            "INVALID_FIELD",
            ref,
            f"No such column '{parts[1]}' on entity '{targets[0] if targets else parts[0]}'. If "
            "you are attempting to use a custom field, be sure to append the '__c' after the "
            "custom field name. Please reference your WSDL or the describe call for the "
            "appropriate names.",
        )

    def parent(self, col: Column, row: Row) -> tuple[str, Row] | None:
        ref_id = row.get(col.id_field or "")
        if not ref_id:
            return None
        for target in col.targets:
            found = self.lookup(target, ref_id)
            if found is not None:
                return target, found
        return None

    def getter(self, col: Column) -> Callable[[Row], Any]:
        name, kind = col.name, col.kind
        if col.relationship is None:
            return lambda row: stored(kind, row.get(name))

        def through_parent(row: Row) -> Any:
            found = self.parent(col, row)
            return stored(kind, found[1].get(name)) if found else None

        return through_parent

    # --- literals and conditions ----------------------------------------------------------------

    def type_error(self, lit: Literal, col: Column) -> SoqlError:
        soap = str(col.leaf.get("soapType") or col.kind).split(":")[-1]
        soap = "id" if soap == "ID" else soap
        quoted = ""
        if lit.kind == "str":
            quoted = " and should not be enclosed in quotes"
        elif col.kind in TEXT or col.kind in IDS:
            quoted = " and should be enclosed in quotes"
        return self.error(
            "INVALID_FIELD",
            lit,
            f"value of filter criterion for field '{col.name}' must be of type {soap}{quoted}",
        )

    def value(self, lit: Literal, col: Column) -> Any:
        """A literal as the field's type reads it; the wrong kind of literal is an error."""
        kind = col.kind
        if lit.kind == "null":
            return None
        if lit.kind == "bool":
            if kind != "boolean":
                raise self.type_error(lit, col)
            return lit.text.lower() == "true"
        if lit.kind == "str":
            if kind not in TEXT and kind not in IDS:
                raise self.type_error(lit, col)
            text = decode_string(lit.text)
            assert isinstance(text, str)
            if kind in IDS:
                full = to18(text)
                if full is None:
                    raise self.error(
                        "INVALID_QUERY_FILTER_OPERATOR", lit, f"invalid ID field: {text}"
                    )
                return full
            return text or None  # Salesforce keeps no empty strings: '' means null (K)
        if lit.kind == "num":
            if kind not in NUMERIC:
                raise self.type_error(lit, col)
            return float(lit.text)
        try:
            if lit.kind == "date" and kind == "date":
                return date.fromisoformat(lit.text)
            if lit.kind == "datetime" and kind == "datetime":
                return parse_datetime(lit.text)
        except (ValueError, OverflowError):  # 2024-13-45, or a year past 9999 in UTC
            raise self.error("INVALID_FIELD", lit, f"invalid date/time: {lit.text}") from None
        raise self.type_error(lit, col)

    def compile(self, c: Condition) -> Predicate:
        if isinstance(c, Junction):
            parts = [self.compile(o) for o in c.operands]
            if c.op == "AND":
                return lambda row: all(p(row) for p in parts)
            return lambda row: any(p(row) for p in parts)
        if isinstance(c, Not):
            inner = self.compile(c.operand)
            return lambda row: not inner(row)
        col = self.column(c.field)
        get = self.getter(col)
        if isinstance(c, Membership):
            keys = {key(self.value(v, col)) for v in c.values}
            if c.negated:
                return lambda row: key(get(row)) not in keys
            return lambda row: key(get(row)) in keys
        if c.op == "LIKE":
            if col.kind not in TEXT and col.kind not in IDS:
                raise self.error(
                    "INVALID_FIELD",
                    c.field,
                    f"invalid operator on {col.kind} field: LIKE on field '{col.name}'",
                )
            if c.value.kind != "str":
                raise self.type_error(c.value, col)
            pattern = decode_string(c.value.text, like=True)
            assert isinstance(pattern, re.Pattern)
            return lambda row: (v := get(row)) is not None and bool(pattern.fullmatch(str(v)))
        if c.value.kind == "relative":
            return self.relative(c, col, get)
        other = key(self.value(c.value, col))
        op = c.op
        if op == "=":
            return lambda row: key(get(row)) == other
        if op == "!=":
            return lambda row: key(get(row)) != other
        if other is None:
            return lambda row: False
        compare: Callable[[Any], bool] = {
            "<": lambda v: v < other,
            "<=": lambda v: v <= other,
            ">": lambda v: v > other,
            ">=": lambda v: v >= other,
        }[op]
        return lambda row: (v := get(row)) is not None and compare(key(v))

    def relative(self, c: Comparison, col: Column, get: Callable[[Row], Any]) -> Predicate:
        if col.kind not in ("date", "datetime"):
            raise self.type_error(c.value, col)
        try:
            span = day_range(c.value.text, self.now().date())
        except (ValueError, OverflowError):  # LAST_N_DAYS:99999999 leaves the calendar
            raise self.error(
                "NUMBER_OUTSIDE_VALID_RANGE", c.value, f"invalid date literal: {c.value.text}"
            ) from None
        start, end = as_instants(span) if col.kind == "datetime" else span
        inside: Callable[[Any], bool] = {
            "=": lambda v: start <= v < end,
            "!=": lambda v: not start <= v < end,
            "<": lambda v: v < start,
            "<=": lambda v: v < end,
            ">": lambda v: v >= end,
            ">=": lambda v: v >= start,
        }[c.op]
        if c.op == "!=":
            return lambda row: (v := get(row)) is None or inside(v)
        return lambda row: (v := get(row)) is not None and inside(v)

    # --- running --------------------------------------------------------------------------------

    def matching(self, include_deleted: bool) -> list[Row]:
        rows = [r for r in self.source.rows(self.obj) if include_deleted or not r.get("IsDeleted")]
        if self.where is not None:
            where = self.where
            rows = [r for r in rows if where(r)]
        for col, item in reversed(self.order):  # stable sorts, last key first
            get = self.getter(col)
            decorated = [(key(get(r)), r) for r in rows]
            present = [d for d in decorated if d[0] is not None]
            missing = [d[1] for d in decorated if d[0] is None]
            present.sort(key=lambda d: d[0], reverse=item.descending)
            ordered = [d[1] for d in present]
            rows = missing + ordered if item.nulls_first else ordered + missing
        return rows

    def shape(self, row: Row, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": attributes(self.obj, row["Id"], version)}
        for col in self.columns:
            if col.relationship is None:
                out[col.name] = format_value(col.kind, row.get(col.name))
                continue
            found = self.parent(col, row)
            if found is None:
                out.setdefault(col.relationship, None)
                continue
            parent_type, parent = found
            nested = out.get(col.relationship) or {
                "attributes": attributes(parent_type, parent["Id"], version)
            }
            nested[col.name] = format_value(col.kind, parent.get(col.name))
            out[col.relationship] = nested
        return out


def execute(
    q: Query,
    source: RecordSource,
    *,
    include_deleted: bool = False,
    api_version: str = "59.0",
    now: datetime | None = None,
) -> QueryResult:
    """Records in the REST API's shape and totalSize. Deleted rows only with include_deleted
    (queryAll). COUNT() answers totalSize alone; COUNT(field) one AggregateResult."""
    ev = Evaluator(q, source, now)
    rows = ev.matching(include_deleted)
    if q.count:
        return QueryResult([], min(len(rows), q.limit) if q.limit is not None else len(rows))
    if q.aggregates:
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for i, (agg, col) in enumerate(zip(q.aggregates, ev.counted, strict=True)):
            get = ev.getter(col)
            record[agg.alias or f"expr{i}"] = sum(1 for r in rows if get(r) is not None)
        return QueryResult([record], 1)
    rows = rows[q.offset or 0 :]
    if q.limit is not None:
        rows = rows[: q.limit]
    return QueryResult([ev.shape(r, api_version) for r in rows], len(rows))


def columns(q: Query, source: RecordSource) -> list[str]:
    """The canonical dotted names of the selected fields (Bulk query CSV headers)."""
    return [c.header for c in Evaluator(q, source).columns]
