"""CRM v3 objects: list (`after` is an id cursor with a `link`), create (201 + Location), read
(by id or `idProperty`), update, archive, merge and GDPR delete (reference A3, recordings).

A missing numeric id answers the HTML 404 with `X-HubSpot-NotFound: true`; a non-numeric one
(without idProperty) the JSON OBJECT_NOT_FOUND. A DELETE of a missing or already archived record
is a 404 as well [U: stricter than an idempotent 204].
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadbridge.sandbox.hubspot import errors, merging, writes
from leadbridge.sandbox.hubspot.credentials import Caller
from leadbridge.sandbox.hubspot.errors import JSON
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.objects import ObjectType, object_type
from leadbridge.sandbox.hubspot.portal import Portal, Record, Writer
from leadbridge.sandbox.hubspot.render import listed, record_json, selection
from leadbridge.sandbox.hubspot.values import as_text

PREFIX = "/crm/v3/objects"
HISTORY_LIMIT = 50


async def body_of(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise errors.bad_json("no content to map due to end-of-input")
    try:
        return await request.json()
    except ValueError as exc:
        raise errors.bad_json(str(exc)) from None


def writer_of(caller: Caller) -> Writer:
    return Writer("INTEGRATION", caller.app_id)


def flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def missing(object_id: str, id_property: str | None) -> errors.Reply:
    if id_property or object_id.isdigit():
        return errors.not_found_html()
    return errors.object_not_found(object_id)


def inline_associations(portal: Portal, kind: ObjectType, raw: Any) -> list[tuple[str, str, int]]:
    """`associations: [{to: {id}, types: [{associationCategory, associationTypeId}]}]`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise errors.validation("associations must be a list")
    out = []
    for item in raw:
        target_id = str((item.get("to") or {}).get("id", "")) if isinstance(item, dict) else ""
        for spec in item.get("types") or [] if isinstance(item, dict) else []:
            type_id = int(spec.get("associationTypeId", 0) or 0)
            kind_of = portal.associations.types.get(type_id)
            if kind_of is None or kind_of.source != kind.name:
                raise errors.validation(
                    f"{type_id} is not a valid association type id for {kind.name}"
                )
            if portal.get(kind_of.target, target_id) is None:
                target_kind = object_type(kind_of.target)
                raise errors.validation(f"{target_kind.legacy}={target_id} is not valid")
            out.append((kind_of.target, target_id, type_id))
    return out


def objects_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    portal = ctx.portal

    def read_scopes(kind: ObjectType) -> tuple[str, ...]:
        extra = ("sales-email-read",) if kind.name == "emails" else ()
        return (kind.read_scope, *extra)

    @api.get("/{object_type}")
    async def list_page(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        await guard(request, read_scopes(kind), objects_gate=True)
        limit = int(request.query_params.get("limit", "10") or 10)
        history = listed(request, "propertiesWithHistory")
        if limit < 1 or limit > 100 or (history and limit > HISTORY_LIMIT):
            raise errors.validation(
                f"limit must be between 1 and {HISTORY_LIMIT if history else 100}"
            )
        after = request.query_params.get("after") or "0"
        if not after.isdigit():
            raise errors.validation(f"after must be a record id cursor, not {after}")
        archived = flag(request, "archived")
        with portal.lock:
            if archived:
                pool = [
                    r
                    for r in portal.records[kind.name].values()
                    if r.archived and int(r.id) >= int(after)
                ]
            else:
                pool = portal.live(kind.name, int(after))
            page = pool[: limit + 1]
            names = selection(kind, portal, listed(request, "properties"))
            assoc = listed(request, "associations")
            results = [record_json(portal, r, names, history, assoc) for r in page[:limit]]
        body: dict[str, Any] = {"results": results}
        if len(page) > limit:
            next_after = str(int(page[limit - 1].id) + 1)
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
            link = (
                f"{ctx.base_url}{PREFIX}/{kind.name}?{urlencode([*query, ('after', next_after)])}"
            )
            body["paging"] = {"next": {"after": next_after, "link": link}}
        return body

    @api.post("/{object_type}")
    async def create(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        body = await body_of(request)
        if not isinstance(body, dict):
            raise errors.validation("the body must be an object with properties")
        with portal.lock:
            values = portal.clean(kind, body.get("properties") or {})
            links = inline_associations(portal, kind, body.get("associations"))
            record = writes.create(portal, kind, values, writer_of(caller), links)
            answer = record_json(portal, record, None)
        location = f"{ctx.base_url}{PREFIX}/{kind.name}/{record.id}"
        return JSON(answer, 201, headers={"location": location})

    @api.post("/{object_type}/merge")
    async def merge(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        body = await body_of(request)
        primary = as_text((body or {}).get("primaryObjectId")) or ""
        other = as_text((body or {}).get("objectIdToMerge")) or ""
        with portal.lock:
            merged = merging.merge(portal, kind, primary, other, writer_of(caller))
            return record_json(portal, merged, None)

    @api.post("/contacts/gdpr-delete")
    async def gdpr_delete(request: Request) -> Any:
        kind = object_type("contacts")
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        body = await body_of(request)
        object_id = as_text((body or {}).get("objectId")) or ""
        id_property = (body or {}).get("idProperty")
        with portal.lock:
            record = portal.find(kind, object_id, id_property) or portal.get(
                kind.name, object_id, archived=True
            )
            if record is None:
                raise errors.not_found_html()
            merging.gdpr_delete(portal, kind, record, writer_of(caller))
        return Response(status_code=204)

    @api.get("/{object_type}/{object_id}")
    async def read(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        object_id = request.path_params["object_id"]
        await guard(request, read_scopes(kind), objects_gate=True)
        id_property = request.query_params.get("idProperty")
        with portal.lock:
            record: Record | None
            if flag(request, "archived"):
                record = portal.get(kind.name, object_id, archived=True)
            else:
                record = portal.find(kind, object_id, id_property)
            if record is None:
                raise missing(object_id, id_property)
            names = selection(kind, portal, listed(request, "properties"))
            return record_json(
                portal,
                record,
                names,
                listed(request, "propertiesWithHistory"),
                listed(request, "associations"),
            )

    @api.patch("/{object_type}/{object_id}")
    async def update(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        object_id = request.path_params["object_id"]
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        body = await body_of(request)
        id_property = request.query_params.get("idProperty")
        with portal.lock:
            record = portal.find(kind, object_id, id_property)
            if record is None:
                raise missing(object_id, id_property)
            sent = (body or {}).get("properties") or {}
            values = portal.clean(kind, sent, record)
            writes.update(portal, kind, record, values, writer_of(caller))
            answer = record_json(portal, record, None)
            answer["properties"] = writes.patch_answer(kind, record, sent)
        return answer

    @api.delete("/{object_type}/{object_id}")
    async def archive(request: Request) -> Any:
        kind = object_type(request.path_params["object_type"])
        object_id = request.path_params["object_id"]
        caller = await guard(request, (kind.write_scope,), objects_gate=True)
        with portal.lock:
            record = portal.get(kind.name, object_id)
            if record is None:
                raise missing(object_id, None)
            writes.archive(portal, kind, record, writer_of(caller))
        return Response(status_code=204)

    return api
