"""SOQL text -> syntax tree (soql_ast), with Salesforce's MALFORMED_QUERY errors and carets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leadbridge.sandbox.salesforce.soql_ast import (
    Aggregate,
    Comparison,
    Condition,
    FieldRef,
    Junction,
    Literal,
    Membership,
    Not,
    OrderItem,
    Query,
    SoqlError,
)

MAX_OFFSET = 2000
# Parentheses and NOTs nest at most this deep (the parser and the evaluator recurse on them).
# Salesforce states no figure; a query nested deeper is refused as malformed (stricter).
MAX_NESTING = 100
RELATIVE = (
    r"(?:LAST|NEXT)_N_(?:DAYS|WEEKS|MONTHS|YEARS):\d+"
    r"|(?:LAST|NEXT)_90_DAYS|TODAY|YESTERDAY|TOMORROW"
    r"|(?:THIS|LAST|NEXT)_(?:WEEK|MONTH|YEAR)"
)
TOKEN = re.compile(
    rf"""\s*(?:
      (?P<str>'(?:\\.|[^'\\])*')
    | (?P<datetime>\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}(?:\.\d+)?
                   (?:Z|[+-]\d{{2}}:?\d{{2}}))
    | (?P<date>\d{{4}}-\d{{2}}-\d{{2}})(?![\dT])
    | (?P<num>-?\d+(?:\.\d+)?)(?![\w.])
    | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
    | (?P<relative>(?i:{RELATIVE}))(?![\w])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.X,
)
RESERVED = {
    "select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "limit",
    "offset", "null", "true", "false", "asc", "desc", "nulls",
}  # fmt: skip


@dataclass(frozen=True)
class Tok:
    kind: str  # str datetime date num op relative word end
    value: str
    pos: int


def caret(text: str, pos: int, message: str) -> str:
    """Salesforce's error layout: the query line, a caret under the spot, Row and Column."""
    row = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    col = pos - line_start + 1
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}"


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = TOKEN.match(text, pos)
        if m is None:
            start = len(text) - len(text[pos:].lstrip())
            bad = text[start:].split()[0]
            raise SoqlError("MALFORMED_QUERY", caret(text, start, f"unexpected token: '{bad}'"))
        kind = m.lastgroup or ""
        out.append(Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    out.append(Tok("end", "<EOF>", len(text.rstrip())))
    return out


class Parser:
    def __init__(self, text: str) -> None:
        if not text or not text.strip():
            raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.nesting = 0

    # --- token helpers ----------------------------------------------------------------------

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def at(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.value.lower() in words

    def at_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.value == op

    def next(self) -> Tok:
        t = self.tok
        if t.kind != "end":
            self.i += 1
        return t

    def fail(self, t: Tok | None = None) -> SoqlError:
        t = t or self.tok
        return SoqlError(
            "MALFORMED_QUERY", caret(self.text, t.pos, f"unexpected token: '{t.value}'")
        )

    def keyword(self, word: str) -> None:
        if not self.at(word):
            raise self.fail()
        self.next()

    def op(self, op: str) -> None:
        if not self.at_op(op):
            raise self.fail()
        self.next()

    def name(self) -> FieldRef:
        t = self.tok
        if t.kind != "word" or t.value.lower() in RESERVED:
            raise self.fail()
        self.next()
        return FieldRef(t.value, t.pos)

    def integer(self) -> int:
        t = self.tok
        if t.kind != "num" or not t.value.isdigit():
            raise self.fail()
        self.next()
        return int(t.value)

    # --- grammar ----------------------------------------------------------------------------

    def query(self) -> Query:
        self.keyword("select")
        fields: list[FieldRef] = []
        aggregates: list[Aggregate] = []
        count = False
        if self.at("count") and [t.value for t in self.toks[self.i + 1 : self.i + 3]] == ["(", ")"]:
            self.i += 3
            count = True
        else:
            while True:
                if self.tok.kind == "word" and self.toks[self.i + 1].value == "(":
                    aggregates.append(self.aggregate())
                else:
                    fields.append(self.name())
                if not self.at_op(","):
                    break
                self.next()
        self.keyword("from")
        sobject = self.name().path
        where = order = None
        limit = offset = None
        if self.at("where"):
            self.next()
            where = self.condition()
        if self.at("order"):
            self.next()
            self.keyword("by")
            order = self.order_items()
        if self.at("limit"):
            self.next()
            limit = self.integer()
        if self.at("offset"):
            self.next()
            offset_tok = self.tok
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise SoqlError(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    caret(self.text, offset_tok.pos, "Maximum SOQL offset allowed is 2000"),
                )
        if self.tok.kind != "end":
            raise self.fail()
        return Query(
            sobject,
            tuple(fields),
            tuple(aggregates),
            count,
            where,
            tuple(order or ()),
            limit,
            offset,
            text=self.text,
        )

    def aggregate(self) -> Aggregate:
        func = self.next()
        if func.value.lower() != "count":  # the subset has COUNT(field) only
            raise self.fail(func)
        self.op("(")
        inner = self.name()
        self.op(")")
        alias = None
        if self.tok.kind == "word" and self.tok.value.lower() not in RESERVED:
            alias = self.next().value
        return Aggregate("COUNT", inner, alias)

    def order_items(self) -> list[OrderItem]:
        items = []
        while True:
            ref = self.name()
            descending = False
            if self.at("asc", "desc"):
                descending = self.next().value.lower() == "desc"
            nulls = None
            if self.at("nulls"):
                self.next()
                if not self.at("first", "last"):
                    raise self.fail()
                nulls = self.next().value.upper()
            items.append(OrderItem(ref, descending, nulls))
            if not self.at_op(","):
                return items
            self.next()

    def condition(self) -> Condition:
        """AND-chains or OR-chains; mixing them needs parentheses, as in Salesforce."""
        first = self.unary()
        if not self.at("and", "or"):
            return first
        op = self.tok.value.upper()
        operands = [first]
        while self.at("and", "or"):
            if self.tok.value.upper() != op:
                raise self.fail()
            self.next()
            operands.append(self.unary())
        return Junction(op, tuple(operands))

    def unary(self) -> Condition:
        if not (self.at("not") or self.at_op("(")):
            return self.simple()
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise SoqlError(
                "MALFORMED_QUERY",
                caret(
                    self.text,
                    self.tok.pos,
                    f"unexpected token: '{self.tok.value}': conditions nest at most "
                    f"{MAX_NESTING} levels deep",
                ),
            )
        try:
            if self.next().value.lower() == "not":
                return Not(self.unary())
            inner = self.condition()
            self.op(")")
            return inner
        finally:
            self.nesting -= 1

    def simple(self) -> Condition:
        ref = self.name()
        if self.at("not") and self.toks[self.i + 1].value.lower() == "in":
            self.i += 2
            return Membership(ref, self.value_list(), negated=True)
        if self.at("in"):
            self.next()
            return Membership(ref, self.value_list())
        if self.at("like"):
            self.next()
            return Comparison(ref, "LIKE", self.literal())
        t = self.tok
        if t.kind != "op" or t.value in "(),":
            raise self.fail()
        self.next()
        return Comparison(ref, "!=" if t.value == "<>" else t.value, self.literal())

    def value_list(self) -> tuple[Literal, ...]:
        self.op("(")
        values = [self.literal()]
        while self.at_op(","):
            self.next()
            values.append(self.literal())
        self.op(")")
        return tuple(values)

    def literal(self) -> Literal:
        t = self.tok
        if t.kind in ("str", "num", "date", "datetime", "relative"):
            self.next()
            return Literal(t.kind, t.value, t.pos)
        if t.kind == "word" and t.value.lower() == "null":
            self.next()
            return Literal("null", t.value, t.pos)
        if t.kind == "word" and t.value.lower() in ("true", "false"):
            self.next()
            return Literal("bool", t.value, t.pos)
        raise self.fail()


def parse(text: str) -> Query:
    return Parser(text).query()
