"""Lists v3, the minimum a push to a static list needs (HubSpot's Lists API, checked against
its developer docs: not in our recorded reference):

    POST /crm/v3/lists                                      create {name, objectTypeId,
                                                            processingType} -> {"list": …}
    GET  /crm/v3/lists/object-type-id/{type}/name/{name}    a list by name, without case
    PUT  /crm/v3/lists/{listId}/memberships/add             [record ids] -> {"recordIdsAdded",
                                                            "recordIdsMissing"}; ids already
                                                            members are ignored
Reads need `crm.lists.read` (or write), writes `crm.lists.write`: MISSING_SCOPES otherwise, as
the objects APIs answer. Only MANUAL and SNAPSHOT lists take members by API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.lists import OBJECT_TYPES, Lists
from leadbridge.sandbox.hubspot.objects_api import body_of

READ = ("crm.lists.read", "crm.lists.write")
WRITE = ("crm.lists.write",)
PROCESSING = ("MANUAL", "SNAPSHOT", "DYNAMIC")


def lists_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter()
    portal = ctx.portal
    lists: Lists = portal.lists

    @api.post("/crm/v3/lists")
    @api.post("/crm/v3/lists/")
    async def create_list(request: Request) -> Any:
        await guard(request, WRITE)
        body = await body_of(request)
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        name = str(body.get("name") or "").strip()
        object_type = str(body.get("objectTypeId") or "")
        processing = str(body.get("processingType") or "")
        if not name:
            raise errors.validation("name is required")
        if object_type not in OBJECT_TYPES:
            raise errors.validation(f"Unknown objectTypeId {object_type!r}")
        if processing not in PROCESSING:
            raise errors.validation(f"processingType must be one of {', '.join(PROCESSING)}")
        with portal.lock:
            if lists.by_name(object_type, name) is not None:
                raise errors.validation(f"A list named '{name}' already exists.")
            return {"list": lists.create(name, object_type, processing, portal.now_ms())}

    @api.get("/crm/v3/lists/object-type-id/{object_type}/name/{name}")
    async def list_by_name(request: Request, object_type: str, name: str) -> Any:
        await guard(request, READ)
        with portal.lock:
            found = lists.by_name(object_type, name)
            if found is None:
                raise errors.error(
                    404,
                    f"List does not exist with name {name} and object type id {object_type}.",
                    "OBJECT_NOT_FOUND",
                )
            return {"list": lists.view(found["listId"])}

    @api.put("/crm/v3/lists/{list_id}/memberships/add")
    async def add_members(request: Request, list_id: str) -> Any:
        await guard(request, WRITE)
        body = await body_of(request)
        if not isinstance(body, list):
            raise errors.validation("Invalid input JSON: expected an array of record ids")
        with portal.lock:
            found = lists.lists.get(list_id)
            if found is None:
                raise errors.error(404, f"List {list_id} does not exist.", "OBJECT_NOT_FOUND")
            if found["processingType"] == "DYNAMIC":
                raise errors.validation(
                    f"List {list_id} is DYNAMIC: its memberships are managed by its filters."
                )
            records = portal.records[OBJECT_TYPES[found["objectTypeId"]]]
            members = lists.members[list_id]
            added: list[str] = []
            missing: list[str] = []
            for raw in body:
                rid = str(raw)
                record = records.get(rid)
                if record is None or record.archived:
                    missing.append(rid)
                elif rid not in members:
                    members.append(rid)
                    added.append(rid)
            return {"recordIdsAdded": added, "recordIdsMissing": missing}

    return api
