"""Telling HubSpot's batch answers apart: results come back in an order of their own (recorded;
the sandbox shuffles them), so they are matched to inputs by id, by e-mail, or — for a create
with no key — by the values sent, never by position.

Values are matched as HubSpot stores them (e-mails lower-cased, numbers, booleans and dates
normalised), and a batch never holds two inputs with the same key: two identical companies go
out in different calls, so every answer names exactly one input.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from leadbridge.connectors.base import WriteResult
from leadbridge.policy.schema import ObjectSchema

T = TypeVar("T")
UNSET: Any = object()  # the relation field was not given (as opposed to given empty)


@dataclass
class Item:
    """One input record on its way to HubSpot."""

    index: int  # position in the caller's input
    ref: Any
    props: dict[str, str]  # properties as sent (strings), relation and id set aside
    record_id: str | None = None  # the record's id (update, delete, an adopted create)
    company: Any = UNSET  # the primary company id; "" removes it
    trace: str = ""  # objectWriteTraceId: a 207 error names its input by it
    values: dict[str, Any] = field(default_factory=dict, repr=False)  # as given, for checks
    result: WriteResult | None = field(default=None, repr=False)

    @property
    def email(self) -> str:
        return (self.props.get("email") or "").strip().lower()


def wire(value: Any) -> str:
    """A value as HubSpot takes it: every property is a string, "" clears it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return str(int(moment.timestamp() * 1000))
    return str(value)


def chunks(items: Sequence[T], key: Callable[[T], Hashable], size: int) -> list[list[T]]:
    """Batches of at most `size`, in input order, none holding two items with one key."""
    out: list[list[T]] = []
    keys: list[set[Hashable]] = []
    first_open = 0
    for item in items:
        k = key(item)
        n = first_open
        while n < len(out) and (len(out[n]) >= size or k in keys[n]):
            n += 1
        if n == len(out):
            out.append([])
            keys.append(set())
        out[n].append(item)
        keys[n].add(k)
        while first_open < len(out) and len(out[first_open]) >= size:
            first_open += 1
    return out


def comparable(schema: ObjectSchema, name: str, value: Any) -> Any:
    """A value as HubSpot would hold it, for matching what was sent with what came back."""
    if value in (None, ""):
        return ""
    text = str(value).strip()
    f = schema.field(name)
    kind = f.type if f is not None else "string"
    if kind == "email":
        return text.lower()
    if kind == "boolean":
        return text.lower()
    if kind == "number":
        try:
            return Decimal(text).normalize()
        except InvalidOperation:
            return text
    if kind in ("date", "datetime"):
        return _epoch_ms(text) if kind == "datetime" else text[:10]
    return text


def _epoch_ms(text: str) -> Any:
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def signature(schema: ObjectSchema, props: Mapping[str, Any], names: Iterable[str]) -> tuple:
    return tuple((n, comparable(schema, n, props.get(n))) for n in sorted(names))


def sent_signature(schema: ObjectSchema, item: Item) -> tuple:
    return signature(schema, item.props, [n for n, v in item.props.items() if v != ""])


def match_by_values(
    schema: ObjectSchema, items: Sequence[Item], results: Sequence[dict[str, Any]]
) -> tuple[list[tuple[Item, dict[str, Any]]], list[Item]]:
    """(item, result) pairs for created records, matched by the values sent; and the items no
    result matched. A batch holds no two items with one signature (see `chunks`)."""
    waiting: dict[tuple, Item] = {sent_signature(schema, i): i for i in items}
    # The richest signature first: an input that sent a name and a domain is not taken for
    # one that sent the same name alone.
    name_sets = sorted({tuple(n for n, _ in sig) for sig in waiting}, key=len, reverse=True)
    pairs: list[tuple[Item, dict[str, Any]]] = []
    for result in results:
        props = result.get("properties") or {}
        for names in name_sets:
            found = waiting.pop(signature(schema, props, names), None)
            if found is not None:
                pairs.append((found, result))
                break
    return pairs, list(waiting.values())
