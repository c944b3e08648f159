"""A SOQL subset: parse, then evaluate against an org's rows with the describe's types.

SELECT f, Parent.f | COUNT() FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …]
[LIMIT n] [OFFSET m]. Conditions: AND / OR / NOT / parentheses; = != <> < <= > >=; [NOT] IN (…);
LIKE (% _ and backslash escapes, case-insensitive); = null / != null; strings, numbers, true /
false, date (YYYY-MM-DD) and datetime literals, which must meet fields of their own kind, as in
Salesforce. Errors carry Salesforce's codes: MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE,
NUMBER_OUTSIDE_VALID_RANGE.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol


class SoqlError(Exception):
    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


class RecordSource(Protocol):
    def describe(self, sobject: str) -> dict[str, Any]: ...
    def rows(self, sobject: str) -> Iterable[dict[str, Any]]: ...
    def row(self, sobject: str, record_id: str) -> dict[str, Any] | None: ...
    def canonical(self, sobject: str) -> str | None: ...


TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:\\.|[^'\\])*')
    | (?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
    | (?P<rel>(?:LAST|NEXT)_N_DAYS:\d+|TODAY|YESTERDAY|TOMORROW)(?![A-Za-z0-9_])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.X,
)
KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "like",
    "order",
    "by",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "limit",
    "offset",
    "null",
    "true",
    "false",
    "count",
}


@dataclass(frozen=True)
class Tok:
    kind: str
    value: str
    pos: int


def tokenize(text: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[pos:].split()[0]}'")
        kind = m.lastgroup or ""
        out.append(Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


@dataclass
class Cond:
    op: str  # and, or, not, cmp, in, nin, like
    args: list[Any] = field(default_factory=list)


@dataclass
class Query:
    sobject: str
    fields: list[str]
    count: bool = False
    where: Cond | None = None
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # field, asc, nulls_first
    limit: int | None = None
    offset: int = 0
    text: str = ""


class Parser:
    def __init__(self, text: str) -> None:
        if not text or not text.strip():
            raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def word(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "word" and t.value.lower() in words

    def take(self) -> Tok:
        t = self.peek()
        if t is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.i += 1
        return t

    def expect_word(self, word: str) -> None:
        t = self.take()
        if t.kind != "word" or t.value.lower() != word:
            raise SoqlError(
                "MALFORMED_QUERY", f"unexpected token: '{t.value}' (expecting {word.upper()})"
            )

    def expect_op(self, op: str) -> None:
        t = self.take()
        if t.value != op:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{t.value}' (expecting '{op}')")

    def parse(self) -> Query:
        self.expect_word("select")
        fields, count = [], False
        if self.word("count") and self.peek(1) and self.peek(1).value == "(":  # type: ignore[union-attr]
            self.take(), self.take()
            self.expect_op(")")
            count = True
        else:
            while True:
                t = self.take()
                if t.kind != "word" or t.value.lower() in KEYWORDS - {"first", "last"}:
                    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{t.value}'")
                fields.append(t.value)
                if self.peek() is not None and self.peek().value == ",":  # type: ignore[union-attr]
                    self.take()
                    continue
                break
        self.expect_word("from")
        obj = self.take()
        if obj.kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{obj.value}'")
        q = Query(obj.value, fields, count, text=self.text)
        if self.word("where"):
            self.take()
            q.where = self.or_expr()
        if self.word("order"):
            self.take()
            self.expect_word("by")
            while True:
                name = self.take().value
                asc = True
                if self.word("asc", "desc"):
                    asc = self.take().value.lower() == "asc"
                nulls_first = asc
                if self.word("nulls"):
                    self.take()
                    nulls_first = self.take().value.lower() == "first"
                q.order.append((name, asc, nulls_first))
                if self.peek() is not None and self.peek().value == ",":  # type: ignore[union-attr]
                    self.take()
                    continue
                break
        if self.word("limit"):
            self.take()
            q.limit = self.integer()
        if self.word("offset"):
            self.take()
            q.offset = self.integer()
            if q.offset > 2000:
                raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        if self.peek() is not None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self.peek().value}'")  # type: ignore[union-attr]
        return q

    def integer(self) -> int:
        t = self.take()
        if t.kind != "num" or "." in t.value:
            raise SoqlError(
                "MALFORMED_QUERY", f"unexpected token: '{t.value}' (expecting a number)"
            )
        return int(t.value)

    def or_expr(self) -> Cond:
        left = self.and_expr()
        while self.word("or"):
            self.take()
            left = Cond("or", [left, self.and_expr()])
        return left

    def and_expr(self) -> Cond:
        left = self.unary()
        while self.word("and"):
            self.take()
            left = Cond("and", [left, self.unary()])
        return left

    def unary(self) -> Cond:
        if self.word("not"):
            self.take()
            return Cond("not", [self.unary()])
        t = self.peek()
        if t is not None and t.value == "(":
            self.take()
            inner = self.or_expr()
            self.expect_op(")")
            return inner
        return self.comparison()

    def comparison(self) -> Cond:
        name = self.take()
        if name.kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{name.value}'")
        if self.word("not") and self.peek(1) and self.peek(1).value.lower() == "in":  # type: ignore[union-attr]
            self.take(), self.take()
            return Cond("nin", [name.value, self.value_list()])
        if self.word("in"):
            self.take()
            return Cond("in", [name.value, self.value_list()])
        if self.word("like"):
            self.take()
            return Cond("like", [name.value, self.literal()])
        op = self.take()
        if op.kind != "op" or op.value in "(),":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{op.value}'")
        return Cond("cmp", [name.value, "!=" if op.value == "<>" else op.value, self.literal()])

    def value_list(self) -> list[Tok]:
        self.expect_op("(")
        values = [self.literal()]
        while self.peek() is not None and self.peek().value == ",":  # type: ignore[union-attr]
            self.take()
            values.append(self.literal())
        self.expect_op(")")
        return values

    def literal(self) -> Tok:
        t = self.take()
        if t.kind in ("str", "num", "date", "dt", "rel") or (
            t.kind == "word" and t.value.lower() in ("null", "true", "false")
        ):
            return t
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{t.value}'")


def parse(text: str) -> Query:
    return Parser(text).parse()


# --- evaluation -----------------------------------------------------------------------------


def parse_datetime(value: str) -> datetime:
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_value(kind: str, value: Any) -> Any:
    """A stored value as the REST API serialises it."""
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime):
        return (
            value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{value.microsecond // 1000:03d}+0000"
        )
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return value


NUMERIC = {"int", "double", "currency", "percent"}


class Evaluator:
    def __init__(self, q: Query, source: RecordSource) -> None:
        self.q = q
        self.source = source
        obj = source.canonical(q.sobject)
        if obj is None:
            col = q.text.find(q.sobject) + 1
            raise SoqlError(
                "INVALID_TYPE",
                f"\n{q.text}\n{'^':>{col}}\nERROR at Row:1:Column:{col}\nsObject type "
                f"'{q.sobject}' is not supported. If you are attempting to use a custom object, be "
                "sure to append the '__c' after the entity name. Please reference your WSDL or "
                "the describe call for the appropriate names.",
            )
        self.obj = obj
        self.describe = source.describe(obj)
        self.fields = {f["name"].lower(): f for f in self.describe["fields"]}

    def resolve(self, path: str) -> tuple[list[str], dict[str, Any]]:
        """Field path -> canonical names along the way and the leaf field's describe."""
        parts = path.split(".")
        if parts[0].lower() == self.obj.lower() and len(parts) > 1:
            parts = parts[1:]
        fields, names = self.fields, []
        for i, part in enumerate(parts):
            if i < len(parts) - 1:
                ref = next(
                    (
                        f
                        for f in fields.values()
                        if (f.get("relationshipName") or "").lower() == part.lower()
                    ),
                    None,
                )
                if ref is None or not ref.get("referenceTo"):
                    self.invalid(path)
                assert ref is not None
                names.append(ref["relationshipName"])
                names.append(ref["name"])  # the id field that leads there
                parent = self.source.describe(ref["referenceTo"][0])
                fields = {f["name"].lower(): f for f in parent["fields"]}
            else:
                leaf = fields.get(part.lower())
                if leaf is None:
                    self.invalid(path)
                assert leaf is not None
                names.append(leaf["name"])
                return names, leaf
        self.invalid(path)
        raise AssertionError

    def invalid(self, path: str) -> None:
        col = self.q.text.find(path) + 1
        raise SoqlError(
            "INVALID_FIELD",
            f"\n{self.q.text}\n{'^':>{col}}\nERROR at Row:1:Column:{col}\nNo such column "
            f"'{path.split('.')[-1]}' on entity '{self.obj}'. If you are attempting to use a "
            "custom field, be sure to append the '__c' after the custom field name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )

    def value(self, row: dict[str, Any], path: str) -> tuple[Any, dict[str, Any]]:
        names, leaf = self.resolve(path)
        current: dict[str, Any] | None = row
        i = 0
        while i < len(names) - 1:
            ref_id = current.get(names[i + 1]) if current else None
            parent_type = self.parent_type(names[i + 1], current)
            current = self.source.row(parent_type, ref_id) if ref_id and parent_type else None
            i += 2
        return (current.get(leaf["name"]) if current else None), leaf

    def parent_type(self, id_field: str, row: dict[str, Any] | None) -> str | None:
        describe = self.describe
        f = next((x for x in describe["fields"] if x["name"] == id_field), None)
        return f["referenceTo"][0] if f and f.get("referenceTo") else None

    def literal(self, tok: Tok, leaf: dict[str, Any]) -> Any:
        kind = leaf["type"]
        if tok.kind == "word":
            low = tok.value.lower()
            if low == "null":
                return None
            if kind != "boolean":
                self.type_error(tok, leaf)
            return low == "true"
        if tok.kind == "str":
            if kind in ("datetime", "date", "boolean") or kind in NUMERIC:
                self.type_error(tok, leaf)
            return re.sub(r"\\(.)", r"\1", tok.value[1:-1])
        if tok.kind == "num":
            if kind not in NUMERIC:
                self.type_error(tok, leaf)
            return float(tok.value)
        if tok.kind == "dt":
            if kind != "datetime":
                self.type_error(tok, leaf)
            return parse_datetime(tok.value)
        if tok.kind == "date":
            if kind != "date":
                self.type_error(tok, leaf)
            return date.fromisoformat(tok.value)
        self.type_error(tok, leaf)

    def type_error(self, tok: Tok, leaf: dict[str, Any]) -> None:
        quoted = " and should not be enclosed in quotes" if tok.kind == "str" else ""
        raise SoqlError(
            "INVALID_FIELD",
            f"\n{self.q.text}\nERROR at Row:1:Column:{tok.pos + 1}\nvalue of filter criterion "
            f"for field '{leaf['name']}' must be of type {leaf['type']}{quoted}",
        )

    def day_range(self, tok: Tok, leaf: dict[str, Any]) -> tuple[Any, Any]:
        """TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n as [start, end)."""
        if leaf["type"] not in ("date", "datetime"):
            self.type_error(tok, leaf)
        today = self.now().date()
        word, _, n = tok.value.upper().partition(":")
        start, end = {
            "TODAY": (today, today + timedelta(days=1)),
            "YESTERDAY": (today - timedelta(days=1), today),
            "TOMORROW": (today + timedelta(days=1), today + timedelta(days=2)),
            "LAST_N_DAYS": (today - timedelta(days=int(n or 0)), today + timedelta(days=1)),
            "NEXT_N_DAYS": (today, today + timedelta(days=int(n or 0) + 1)),
        }[word]
        if leaf["type"] == "datetime":
            return (
                datetime.combine(start, datetime.min.time(), UTC),
                datetime.combine(end, datetime.min.time(), UTC),
            )
        return start, end

    def now(self) -> datetime:
        clock = getattr(self.source, "clock", None)
        return datetime.fromtimestamp(clock(), UTC) if clock else datetime.now(UTC)

    def test(self, cond: Cond, row: dict[str, Any]) -> bool:
        if cond.op == "and":
            return self.test(cond.args[0], row) and self.test(cond.args[1], row)
        if cond.op == "or":
            return self.test(cond.args[0], row) or self.test(cond.args[1], row)
        if cond.op == "not":
            return not self.test(cond.args[0], row)
        value, leaf = self.value(row, cond.args[0])
        if cond.op in ("in", "nin"):
            options = [self.literal(t, leaf) for t in cond.args[1]]
            hit = any(equal(value, o) for o in options)
            return hit if cond.op == "in" else (value is not None and not hit)
        if cond.op == "like":
            pattern = self.literal(cond.args[1], leaf)
            if value is None or pattern is None:
                return False
            return like(str(pattern)).match(str(value)) is not None
        _, op, tok = cond.args
        if tok.kind == "rel":
            start, end = self.day_range(tok, leaf)
            if value is None:
                return op == "!="
            inside = start <= value < end
            return {
                "=": inside,
                "!=": not inside,
                "<": value < start,
                "<=": value < end,
                ">": value >= end,
                ">=": value >= start,
            }[op]
        other = self.literal(tok, leaf)
        if op == "=":
            return equal(value, other)
        if op == "!=":
            return not equal(value, other)
        if value is None or other is None:
            return False
        a, b = comparable(value), comparable(other)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    def run(self, include_deleted: bool) -> tuple[list[dict[str, Any]], int]:
        q = self.q
        for f in q.fields:
            self.resolve(f)
        for f, _, _ in q.order:
            self.resolve(f)
        rows = [r for r in self.source.rows(self.obj) if include_deleted or not r.get("IsDeleted")]
        if q.where is not None:
            rows = [r for r in rows if self.test(q.where, r)]
        total = len(rows)
        for name, asc, nulls_first in reversed(q.order):
            present = [r for r in rows if self.value(r, name)[0] is not None]
            missing = [r for r in rows if self.value(r, name)[0] is None]
            present.sort(key=lambda r, n=name: comparable(self.value(r, n)[0]), reverse=not asc)  # type: ignore[misc]
            rows = missing + present if nulls_first else present + missing
        rows = rows[q.offset :]
        if q.limit is not None:
            rows = rows[: q.limit]
            total = min(total, q.limit) if not q.count else total
        if q.count:
            return [], min(total, q.limit) if q.limit is not None else total
        return rows, total


def equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(comparable(a) == comparable(b))


def comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return float(value)
    return value


def like(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.I | re.S)


def execute(
    q: Query, source: RecordSource, *, include_deleted: bool = False, api_version: str = "59.0"
) -> tuple[list[dict[str, Any]], int]:
    """(records in API shape, totalSize)."""
    ev = Evaluator(q, source)
    rows, total = ev.run(include_deleted)
    return [shape(ev, row, q.fields, api_version) for row in rows], total


def shape(ev: Evaluator, row: dict[str, Any], fields: list[str], version: str) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": attributes(ev.obj, row["Id"], version)}
    for path in fields:
        names, leaf = ev.resolve(path)
        if len(names) == 1:
            out[names[0]] = format_value(leaf["type"], row.get(names[0]))
            continue
        rel, id_field = names[0], names[1]
        ref_id = row.get(id_field)
        parent_type = ev.parent_type(id_field, row)
        parent = ev.source.row(parent_type, ref_id) if ref_id and parent_type else None
        if parent is None:
            out.setdefault(rel, None)
            continue
        nested = out.get(rel) or {
            "attributes": attributes(parent_type or "", parent["Id"], version)
        }
        nested[names[-1]] = format_value(leaf["type"], parent.get(names[-1]))
        out[rel] = nested
    return out


def attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}


Predicate = Callable[[dict[str, Any]], bool]
