"""The SOQL subset's syntax tree, its error type, and `render` (tree -> text).

`parse(render(q)) == q` for every tree the parser can produce: literals keep the text they were
written with (quotes and escapes included), and positions do not take part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class SoqlError(Exception):
    """A query Salesforce would refuse: `error_code` is its errorCode (MALFORMED_QUERY,
    INVALID_FIELD, INVALID_TYPE, NUMBER_OUTSIDE_VALID_RANGE, ...), `message` its message."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Literal:
    kind: str  # str | num | date | datetime | relative | null | bool
    text: str  # as written; a str literal keeps its quotes and backslash escapes
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FieldRef:
    path: str  # as written: LastName, account.Name
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: str  # = != < <= > >= LIKE
    value: Literal


@dataclass(frozen=True)
class Membership:
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool = False  # NOT IN


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class Junction:
    op: str  # AND | OR
    operands: tuple[Condition, ...]  # two or more; SOQL never mixes AND and OR unbracketed


Condition = Comparison | Membership | Not | Junction


@dataclass(frozen=True)
class Aggregate:
    function: str  # COUNT
    field: FieldRef
    alias: str | None = None


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool = False
    nulls: str | None = None  # FIRST | LAST | None (Salesforce's default: first on ASC)

    @property
    def nulls_first(self) -> bool:
        return self.nulls == "FIRST" if self.nulls else not self.descending


@dataclass(frozen=True)
class Query:
    sobject: str
    fields: tuple[FieldRef, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    count: bool = False  # SELECT COUNT() ... : totalSize only
    where: Condition | None = None
    order: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    text: str = field(default="", compare=False)  # the source, for error carets


def render(q: Query) -> str:
    if q.count:
        select = "COUNT()"
    else:
        items = [f.path for f in q.fields] + [
            f"{a.function}({a.field.path})" + (f" {a.alias}" if a.alias else "")
            for a in q.aggregates
        ]
        select = ", ".join(items)
    out = [f"SELECT {select} FROM {q.sobject}"]
    if q.where is not None:
        out.append(f"WHERE {render_condition(q.where)}")
    if q.order:
        parts = []
        for o in q.order:
            text = o.field.path + (" DESC" if o.descending else " ASC")
            parts.append(text + (f" NULLS {o.nulls}" if o.nulls else ""))
        out.append("ORDER BY " + ", ".join(parts))
    if q.limit is not None:
        out.append(f"LIMIT {q.limit}")
    if q.offset is not None:
        out.append(f"OFFSET {q.offset}")
    return " ".join(out)


def render_condition(c: Condition) -> str:
    if isinstance(c, Comparison):
        return f"{c.field.path} {c.op} {c.value.text}"
    if isinstance(c, Membership):
        values = ", ".join(v.text for v in c.values)
        return f"{c.field.path} {'NOT IN' if c.negated else 'IN'} ({values})"
    if isinstance(c, Not):
        return f"NOT {bracketed(c.operand)}"
    return f" {c.op} ".join(bracketed(o) for o in c.operands)


def bracketed(c: Condition) -> str:
    text = render_condition(c)
    return f"({text})" if isinstance(c, Junction | Not) else text


def quote(value: str) -> str:
    """A Python string as a SOQL string literal (the inverse of the literal's decoding)."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{escaped}'"
