"""The sandbox's SOQL engine, pure and without I/O: `parse(text) -> Query`, `execute(query,
source) -> QueryResult(records, total_size)`, `render(query) -> text`.

The subset: SELECT fields (case-insensitive, answered in the describe's casing), parent fields
one level up (Account.Name, Owner.Name, nested with their attributes), COUNT() and COUNT(field)
FROM one object; WHERE with AND / OR (never mixed without parentheses, as in Salesforce), NOT,
parentheses, = != <> < <= > >=, [NOT] IN (...), LIKE (% _, \\% \\_ literal, case-insensitive),
= null / != null, strings, numbers, true/false, date and datetime literals that must meet
fields of their own kind, and relative dates (TODAY, LAST_N_DAYS:n, THIS_MONTH, ...); ORDER BY
several fields ASC/DESC NULLS FIRST/LAST (nulls first on ASC by default); LIMIT; OFFSET (at most
2000). Errors carry Salesforce's codes and caret layout: MALFORMED_QUERY, INVALID_FIELD,
INVALID_TYPE, INVALID_QUERY_FILTER_OPERATOR, NUMBER_OUTSIDE_VALID_RANGE.
"""

from __future__ import annotations

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
    quote,
    render,
)
from leadbridge.sandbox.salesforce.soql_eval import (
    QueryResult,
    RecordSource,
    attributes,
    columns,
    execute,
)
from leadbridge.sandbox.salesforce.soql_parse import parse
from leadbridge.sandbox.salesforce.soql_values import format_value, parse_datetime

__all__ = [
    "Aggregate",
    "Comparison",
    "Condition",
    "FieldRef",
    "Junction",
    "Literal",
    "Membership",
    "Not",
    "OrderItem",
    "Query",
    "QueryResult",
    "RecordSource",
    "SoqlError",
    "attributes",
    "columns",
    "execute",
    "format_value",
    "parse",
    "parse_datetime",
    "quote",
    "render",
]
