"""CRM v3 batch endpoints: read, create, update, upsert, archive (reference A3, recordings).

At most 100 inputs. Results come back in an order of their own (recorded: a batch create of
test1..test10 answered test6, test10, test4, ...), so they must be matched by id or property,
never by index: the sandbox shuffles them, never leaving a batch in input order. Unknown ids
give a 207 with an OBJECT_NOT_FOUND error alongside the found results. A create or update whose
input is invalid fails as a whole (400, or 409 for a taken e-mail) unless every input carries a
unique `objectWriteTraceId`: then the good ones land and the bad ones are 207 errors.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadbridge.sandbox.hubspot import errors, writes
from leadbridge.sandbox.hubspot.errors import JSON
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.objects import ObjectType, object_type
from leadbridge.sandbox.hubspot.objects_api import body_of, flag, inline_associations, writer_of
from leadbridge.sandbox.hubspot.portal import Portal, Record
from leadbridge.sandbox.hubspot.render import record_json, selection
from leadbridge.sandbox.hubspot.values import as_text, iso_ms

MAX_INPUTS = 100
HISTORY_LIMIT = 50


@dataclass
class Item:
    index: int
    raw: dict[str, Any]
    trace: str | None
    values: dict[str, str] | None = None
    record: Record | None = None
    problem: errors.Reply | None = None


def inputs_of(body: Any, history: bool = False) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise errors.validation("inputs must be a list of objects")
    limit = HISTORY_LIMIT if history else MAX_INPUTS
    if len(inputs) > limit:
        what = "for property histories " if history else ""
        raise errors.validation(
            f"The maximum number of inputs supported in a batch request {what}is {limit}. "
            "Please reduce the number of items and try again"
        )
    return inputs


def item_error(reply: errors.Reply, context: dict[str, list[str]]) -> dict[str, Any]:
    body = reply.body if isinstance(reply.body, dict) else {}
    return {
        "status": "error",
        "category": body.get("category", "VALIDATION_ERROR"),
        "message": body.get("message", ""),
        "context": {**body.get("context", {}), **context},
        "links": {},
        "errors": [],
    }


def not_found(kind: ObjectType, ids: list[str], traces: list[str]) -> dict[str, Any]:
    context = {"ids": ids, **({"objectWriteTraceId": traces} if traces else {})}
    message = (
        f"Could not get some {kind.legacy} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )
    return item_error(errors.error(404, message, "OBJECT_NOT_FOUND"), context)


def answer(
    rng: random.Random, started: int, finished: int, results: list[Any], problems: list[Any],
    ok_status: int,
) -> JSON:  # fmt: skip
    shuffled = list(results)
    rng.shuffle(shuffled)
    if len(shuffled) > 1 and shuffled == results:
        shuffled = shuffled[1:] + shuffled[:1]
    body: dict[str, Any] = {"status": "COMPLETE", "results": shuffled}
    if problems:
        body |= {"numErrors": len(problems), "errors": problems}
    body |= {"startedAt": iso_ms(started), "completedAt": iso_ms(finished)}
    return JSON(body, 207 if problems else ok_status)


def partial(items: list[Item]) -> bool:
    """Per-input errors are allowed only when every input has its own objectWriteTraceId."""
    traces = [i.trace for i in items]
    return all(traces) and len(set(traces)) == len(traces)


def settle(items: list[Item]) -> list[dict[str, Any]]:
    """The 207 errors, or the whole call's failure (the first bad input's answer)."""
    bad = [i for i in items if i.problem is not None]
    if bad and not partial(items):
        raise bad[0].problem  # type: ignore[misc]
    return [
        item_error(i.problem, {"objectWriteTraceId": [i.trace or ""]}) for i in bad if i.problem
    ]


def batch_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter(prefix="/crm/v3/objects/{object_type}/batch")
    portal: Portal = ctx.portal

    @api.post("/read")
    async def read(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        await guard(request, (kind.read_scope,), objects_gate=True)
        body = await body_of(request)
        history = body.get("propertiesWithHistory") if isinstance(body, dict) else None
        inputs = inputs_of(body, bool(history))
        id_property = body.get("idProperty")
        archived = flag(request, "archived")
        with portal.lock:
            started = portal.now_ms()
            if id_property:
                portal.check_id_property(kind, id_property)
            names = selection(kind, portal, body.get("properties") or None)
            found: dict[str, Record] = {}
            missing: list[str] = []
            for raw in inputs:
                value = as_text(raw.get("id")) or ""
                record = (
                    portal.get(kind.name, value, archived=True)
                    if archived
                    else portal.find(kind, value, id_property)
                )
                if record is None:
                    missing.append(value)
                else:
                    found[record.id] = record
            results = [record_json(portal, r, names, history) for r in found.values()]
            problems = [not_found(kind, missing, [])] if missing else []
            return answer(portal.rng, started, portal.now_ms(), results, problems, 200)

    @api.post("/create")
    async def create(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        writer = writer_of(caller)
        with portal.lock:
            started = portal.now_ms()
            items = [
                Item(n, raw, as_text(raw.get("objectWriteTraceId"))) for n, raw in enumerate(inputs)
            ]
            seen: dict[str, int] = {}
            links: dict[int, list[tuple[str, str, int]]] = {}
            for item in items:
                try:
                    values = portal.clean(kind, item.raw.get("properties") or {})
                    portal.required(kind, values)
                    portal.check_unique(kind, values, None)
                    links[item.index] = inline_associations(
                        portal, kind, item.raw.get("associations")
                    )
                    email = values.get("email", "").lower() if kind.name == "contacts" else ""
                    if email and email in seen:
                        raise errors.validation(f"Duplicate email in batch input: {email}")
                    if email:
                        seen[email] = item.index
                    item.values = values
                except errors.Reply as reply:
                    item.problem = reply
            problems = settle(items)
            results = []
            for item in items:
                if item.values is not None:
                    record = writes.create(portal, kind, item.values, writer, links[item.index])
                    results.append(record_json(portal, record, None))
            return answer(portal.rng, started, portal.now_ms(), results, problems, 201)

    @api.post("/update")
    async def update(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        writer = writer_of(caller)
        with portal.lock:
            started = portal.now_ms()
            items = [
                Item(n, raw, as_text(raw.get("objectWriteTraceId"))) for n, raw in enumerate(inputs)
            ]
            missing: list[Item] = []
            for item in items:
                value = as_text(item.raw.get("id")) or ""
                item.record = portal.find(kind, value, item.raw.get("idProperty"))
                if item.record is None:
                    missing.append(item)
                    continue
                try:
                    item.values = portal.clean(kind, item.raw.get("properties") or {}, item.record)
                    merged = {**item.record.props, **item.values}
                    portal.check_unique(kind, merged, item.record.id)
                except errors.Reply as reply:
                    item.problem = reply
            problems = settle(items)
            if missing:
                ids = [as_text(i.raw.get("id")) or "" for i in missing]
                problems.append(not_found(kind, ids, [i.trace for i in missing if i.trace]))
            results = []
            for item in items:
                if item.record is not None and item.values is not None:
                    writes.update(portal, kind, item.record, item.values, writer)
                    result = record_json(portal, item.record, None)
                    result["properties"] = writes.patch_answer(
                        kind, item.record, item.raw.get("properties") or {}
                    )
                    results.append(result)
            return answer(portal.rng, started, portal.now_ms(), results, problems, 200)

    @api.post("/upsert")
    async def upsert(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        writer = writer_of(caller)
        with portal.lock:
            started = portal.now_ms()
            items = [
                Item(n, raw, as_text(raw.get("objectWriteTraceId"))) for n, raw in enumerate(inputs)
            ]
            keys: set[tuple[str, str]] = set()
            for item in items:
                id_property = str(item.raw.get("idProperty") or "")
                value = as_text(item.raw.get("id")) or ""
                if not id_property or id_property == "hs_object_id":
                    raise errors.validation("batch upsert needs an idProperty that is unique")
                portal.check_id_property(kind, id_property)
                key = (id_property, value.lower() if id_property == "email" else value)
                if key in keys:
                    raise errors.validation(f"Duplicate IDs found in batch input: [{value}]")
                keys.add(key)
                try:
                    item.record = portal.find(kind, value, id_property)
                    sent = dict(item.raw.get("properties") or {})
                    if item.record is None:
                        sent.setdefault(id_property, value)
                    item.values = portal.clean(kind, sent, item.record)
                    if item.record is None:
                        portal.required(kind, item.values)
                        portal.check_unique(kind, item.values, None)
                    else:
                        merged = {**item.record.props, **item.values}
                        portal.check_unique(kind, merged, item.record.id)
                except errors.Reply as reply:
                    item.problem = reply
            problems = settle(items)
            results = []
            for item in items:
                if item.values is None:
                    continue
                if item.record is None:
                    record = writes.create(portal, kind, item.values, writer)
                    results.append({**record_json(portal, record, None), "new": True})
                else:
                    writes.update(portal, kind, item.record, item.values, writer)
                    results.append({**record_json(portal, item.record, None), "new": False})
            return answer(portal.rng, started, portal.now_ms(), results, problems, 200)

    @api.post("/archive")
    async def archive(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            for raw in inputs:
                record = portal.get(kind.name, as_text(raw.get("id")) or "")
                if record is not None:
                    writes.archive(portal, kind, record, writer_of(caller))
        return Response(status_code=204)

    return api
