"""`POST /crm/v3/objects/{type}/search` (reference A4, recordings).

filterGroups are OR-ed, the filters in a group AND-ed (a top-level `filters` list, as older
clients send, is one group); at most 5 groups, 10 filters a group, 25 in all. One sort (a string
`"-createdate"` or `{propertyName, direction}`), by id ascending otherwise (recorded). `after` is
an offset; `limit` at most 200; `total` counts every match, but no page may reach past the
10,000th result (400) [U: stricter, after + limit > 10,000 is refused]. Datetime values compare
as epoch milliseconds (strings of them, or ISO). Archived records are never found; with the
`search_lag` knob a record written in the last N seconds is not found yet (eventual consistency).
"""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.objects import ObjectType, object_type
from leadbridge.sandbox.hubspot.objects_api import body_of
from leadbridge.sandbox.hubspot.portal import Portal, Record
from leadbridge.sandbox.hubspot.render import record_json, selection
from leadbridge.sandbox.hubspot.values import as_text, parse_time

CAP = 10_000
MAX_LIMIT = 200
OPERATORS = {
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
    "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
}  # fmt: skip
QUERY_FIELDS = {
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "companies": ("name", "domain", "website", "phone"),
    "deals": ("dealname",),
}
TOKENS = re.compile(r"[\s@,;:/]+")


def groups_of(body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    groups = [g.get("filters") or [] for g in body.get("filterGroups") or [] if isinstance(g, dict)]
    if body.get("filters"):
        groups.append(list(body["filters"]))
    if len(groups) > 5 or any(len(g) > 10 for g in groups) or sum(map(len, groups)) > 25:
        raise errors.validation(
            "Too many filters: at most 5 filterGroups, 10 filters in a group and 25 in all"
        )
    return groups


class Matcher:
    def __init__(self, portal: Portal, kind: ObjectType) -> None:
        self.portal, self.kind = portal, kind

    def check(self, f: dict[str, Any]) -> None:
        name, op = str(f.get("propertyName") or ""), str(f.get("operator") or "EQ")
        if op not in OPERATORS:
            raise errors.validation(f"{op} is not a valid filter operator")
        if (
            not name.startswith("associations.")
            and self.portal.schema.get(self.kind.name, name) is None
        ):
            raise errors.validation(f"Property {name} does not exist on {self.kind.name}")
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY") and f.get("value") not in (None, ""):
            raise errors.validation(f"{op} does not take a value")
        if op in ("IN", "NOT_IN") and not isinstance(f.get("values"), list):
            raise errors.validation(f"{op} needs values")
        if op == "BETWEEN" and (f.get("value") is None or f.get("highValue") is None):
            raise errors.validation("BETWEEN needs value and highValue")

    def matches(self, record: Record, f: dict[str, Any]) -> bool:
        name, op = str(f["propertyName"]), str(f.get("operator") or "EQ")
        if name.startswith("associations."):
            target = object_type(name.split(".", 1)[1])
            linked = {
                i for i, _ in self.portal.associations.targets(record.type, record.id, target.name)
            }
            return (as_text(f.get("value")) in linked) == (op == "EQ")
        value = record.props.get(name) or ""
        if op == "HAS_PROPERTY":
            return value != ""
        if op == "NOT_HAS_PROPERTY":
            return value == ""
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            found = token_match(value, as_text(f.get("value")) or "")
            return found == (op == "CONTAINS_TOKEN")
        if op in ("IN", "NOT_IN"):
            inside = any(self.compare(name, value, as_text(v)) == 0 for v in f["values"])
            return inside == (op == "IN")
        if value == "":
            return op == "NEQ"
        if op == "BETWEEN":
            low = self.compare(name, value, as_text(f.get("value")))
            high = self.compare(name, value, as_text(f.get("highValue")))
            return low is not None and high is not None and low >= 0 and high <= 0
        order = self.compare(name, value, as_text(f.get("value")))
        if order is None:
            return op == "NEQ"
        return {
            "EQ": order == 0, "NEQ": order != 0, "LT": order < 0,
            "LTE": order <= 0, "GT": order > 0, "GTE": order >= 0,
        }[op]  # fmt: skip

    def key(self, name: str, value: str) -> Any:
        prop = self.portal.schema.get(self.kind.name, name) or {}
        kind = prop.get("type")
        if kind in ("datetime", "date"):
            return parse_time(value)
        if kind == "number":
            try:
                return Decimal(value)
            except InvalidOperation:
                return None
        return value.lower()

    def compare(self, name: str, value: str, other: str | None) -> int | None:
        mine, theirs = self.key(name, value), self.key(name, other or "")
        if mine is None or theirs is None:
            return None
        return (mine > theirs) - (mine < theirs)


def token_match(value: str, pattern: str) -> bool:
    text, wanted = value.lower(), pattern.lower()
    tokens = [t for t in TOKENS.split(text) if t]
    tokens += [part for t in tokens for part in t.split(".") if part]
    return any(fnmatch.fnmatchcase(t, wanted) for t in tokens)


def query_match(kind: ObjectType, record: Record, query: str) -> bool:
    words = [w.lower() for w in query.split() if w]
    fields = QUERY_FIELDS.get(kind.name) or tuple(
        n for n in record.props if n.endswith(("_title", "_body", "_subject"))
    )
    tokens = [t for n in fields for t in TOKENS.split((record.props.get(n) or "").lower()) if t]
    return all(any(t.startswith(w) for t in tokens) for w in words)


def sort_of(body: dict[str, Any]) -> tuple[str, bool] | None:
    sorts = body.get("sorts") or []
    if len(sorts) > 1:
        raise errors.validation("Only one sort is supported")
    if not sorts:
        return None
    first = sorts[0]
    if isinstance(first, str):
        return first.lstrip("-"), first.startswith("-")
    return str(first.get("propertyName")), str(first.get("direction", "ASCENDING")) == "DESCENDING"


def search_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter()
    portal = ctx.portal

    @api.post("/crm/v3/objects/{object_type}/search")
    async def search(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        await guard(request, (kind.read_scope,), search=True, objects_gate=True)
        body = await body_of(request)
        if not isinstance(body, dict):
            raise errors.validation("the search request must be an object")
        limit = int(body.get("limit") or 10)
        offset = int(as_text(body.get("after")) or 0)
        if limit < 1 or limit > MAX_LIMIT:
            raise errors.validation(f"limit must be between 1 and {MAX_LIMIT}")
        if offset + limit > CAP:
            raise errors.validation(
                f"Search results are limited to {CAP} per query: after ({offset}) plus limit "
                f"({limit}) is past it. Narrow the filters."
            )
        query = str(body.get("query") or "")
        if len(query) > 3000:
            raise errors.validation("query is limited to 3000 characters")
        groups = groups_of(body)
        matcher = Matcher(portal, kind)
        with portal.lock:
            for group in groups:
                for f in group:
                    matcher.check(f)
            sort = sort_of(body)
            horizon = portal.now_ms() - int(ctx.knobs.search_lag * 1000)
            hits = [
                r
                for r in portal.live(kind.name)
                if r.updated <= horizon
                and (not groups or any(all(matcher.matches(r, f) for f in g) for g in groups))
                and (not query or query_match(kind, r, query))
            ]
            if sort is not None:
                name, descending = sort
                present = [r for r in hits if r.props.get(name)]
                absent = [r for r in hits if not r.props.get(name)]
                present.sort(
                    key=lambda r: (matcher.key(name, r.props[name]), int(r.id)), reverse=descending
                )
                hits = present + absent
            names = selection(kind, portal, body.get("properties") or None)
            page = [record_json(portal, r, names) for r in hits[offset : offset + limit]]
        out: dict[str, Any] = {"total": len(hits), "results": page}
        if offset + limit < len(hits):
            out["paging"] = {"next": {"after": str(offset + limit)}}
        return out

    return api
