"""The Properties API (`/crm/v3/properties/{objectType}`, reference A8): list (no paging), read,
create (201 + Location), update, archive (204), batch create/read/archive, groups.

Reading needs a schemas or objects scope of the type; without one the answer is the recorded
403 ("You do not have permissions to view object type …", no category). Writing needs
`crm.schemas.<type>.write`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.batch_api import answer, inputs_of
from leadbridge.sandbox.hubspot.errors import JSON
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.objects import ObjectType, object_type
from leadbridge.sandbox.hubspot.objects_api import body_of, flag
from leadbridge.sandbox.hubspot.schema import property_not_found


def properties_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter(prefix="/crm/v3/properties/{object_type}")
    portal = ctx.portal

    async def reader(request: Request) -> ObjectType:
        kind = object_type(request.path_params["object_type"])
        scopes = (
            f"{kind.schema_scope}.read",
            f"{kind.schema_scope}.write",
            kind.read_scope,
            kind.write_scope,
        )
        await guard(request, scopes, schema_type=kind.scope_object)
        return kind

    async def writer(request: Request) -> tuple[ObjectType, str]:
        kind = object_type(request.path_params["object_type"])
        caller = await guard(request, (f"{kind.schema_scope}.write",))
        return kind, caller.user_id or caller.app_id

    @api.get("")
    async def list_all(request: Request) -> Any:
        kind = await reader(request)
        with portal.lock:
            return {"results": portal.schema.all(kind.name, archived=flag(request, "archived"))}

    @api.post("")
    async def create(request: Request) -> Any:
        kind, user = await writer(request)
        body = await body_of(request)
        if not isinstance(body, dict):
            raise errors.validation("the property definition must be an object")
        with portal.lock:
            made = portal.schema.create(kind.name, body, portal.now_ms(), user)
        location = f"{ctx.base_url}/crm/v3/properties/{kind.name}/{made['name']}"
        return JSON(made, 201, headers={"location": location})

    @api.get("/groups")
    async def groups(request: Request) -> Any:
        kind = await reader(request)
        with portal.lock:
            return {"results": list(portal.schema.groups[kind.name].values())}

    @api.post("/groups")
    async def create_group(request: Request) -> Any:
        kind, _ = await writer(request)
        body = await body_of(request)
        name, label = str(body.get("name") or ""), str(body.get("label") or "")
        if not name or not label:
            raise errors.validation("a group needs a name and a label")
        with portal.lock:
            group = {
                "name": name,
                "label": label,
                "displayOrder": int(body.get("displayOrder", -1)),
                "archived": False,
            }
            portal.schema.groups[kind.name][name] = group
        return JSON(group, 201)

    @api.post("/batch/read")
    async def batch_read(request: Request) -> Any:
        kind = await reader(request)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            started = portal.now_ms()
            found = [portal.schema.get(kind.name, str(i.get("name"))) for i in inputs]
            missing = [str(i.get("name")) for i, p in zip(inputs, found, strict=True) if p is None]
            problems = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Property {name} does not exist",
                    "context": {"name": [name]},
                }
                for name in missing
            ]
            results = [p for p in found if p is not None]
            return answer(portal.rng, started, portal.now_ms(), results, problems, 200)

    @api.post("/batch/create")
    async def batch_create(request: Request) -> Any:
        kind, user = await writer(request)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            started = portal.now_ms()
            results, problems = [], []
            for body in inputs:
                try:
                    results.append(portal.schema.create(kind.name, body, portal.now_ms(), user))
                except errors.Reply as reply:
                    detail = reply.body if isinstance(reply.body, dict) else {}
                    problems.append(
                        {
                            "status": "error",
                            "category": detail.get("category", "VALIDATION_ERROR"),
                            "message": detail.get("message", ""),
                            "context": {"name": [str(body.get("name"))]},
                        }
                    )
            return answer(portal.rng, started, portal.now_ms(), results, problems, 201)

    @api.post("/batch/archive")
    async def batch_archive(request: Request) -> Any:
        kind, _ = await writer(request)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            for item in inputs:
                name = str(item.get("name"))
                if portal.schema.get(kind.name, name) is not None:
                    portal.schema.archive(kind.name, name, portal.now_ms())
        return Response(status_code=204)

    @api.get("/{name}")
    async def read(request: Request, name: str) -> Any:
        kind = await reader(request)
        with portal.lock:
            prop = portal.schema.get(kind.name, name)
            if prop is None:
                raise property_not_found(name)
            return dict(prop)

    @api.patch("/{name}")
    async def update(request: Request, name: str) -> Any:
        kind, user = await writer(request)
        body = await body_of(request)
        with portal.lock:
            return portal.schema.update(kind.name, name, body, portal.now_ms(), user)

    @api.delete("/{name}")
    async def archive(request: Request, name: str) -> Any:
        kind, _ = await writer(request)
        with portal.lock:
            portal.schema.archive(kind.name, name, portal.now_ms())
        return Response(status_code=204)

    return api
