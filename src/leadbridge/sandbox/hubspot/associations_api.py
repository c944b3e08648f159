"""Associations v4 (reference A5; recorded v4 traffic): labelled and default creates, listing,
deletes, the batch endpoints and labels.

As recorded: ids in v4 answers are numbers; batch/create answers 201, or 207 with
`{"status": "error", "category": "VALIDATION_ERROR", "message": "CONTACT=1234 is not valid"}`
per bad input (no context); batch/archive answers 204 even for ids that do not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.associations import DEFAULTS
from leadbridge.sandbox.hubspot.batch_api import answer, inputs_of
from leadbridge.sandbox.hubspot.errors import JSON
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.objects import ObjectType, object_type
from leadbridge.sandbox.hubspot.objects_api import body_of
from leadbridge.sandbox.hubspot.portal import Portal, Writer
from leadbridge.sandbox.hubspot.values import as_text
from leadbridge.sandbox.hubspot.writes import sync_primary_company

PAGE = 500


def default_type(source: ObjectType, target: ObjectType) -> int:
    found = DEFAULTS.get((source.name, target.name))
    if found is None:
        raise errors.validation(f"{source.name} and {target.name} cannot be associated")
    return found


def number(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def invalid(kind: ObjectType, object_id: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": f"{kind.legacy}={object_id} is not valid",
    }


def type_views(portal: Portal, type_ids: list[int]) -> list[dict[str, Any]]:
    return [
        {"category": t.category, "typeId": t.id, "label": t.label}
        for t in (portal.associations.types[i] for i in type_ids)
    ]


def associations_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter(prefix="/crm/v4")
    portal = ctx.portal

    def kinds(request: Request, a: str, b: str) -> tuple[ObjectType, ObjectType]:
        return object_type(request.path_params[a]), object_type(request.path_params[b])

    def link(
        source: ObjectType, source_id: str, target: ObjectType, target_id: str, type_ids: list[int]
    ) -> None:
        for type_id in type_ids:
            portal.associations.add(source.name, source_id, target.name, target_id, type_id)
        touched(source, source_id, target, target_id)

    def touched(source: ObjectType, source_id: str, target: ObjectType, target_id: str) -> None:
        for kind, object_id in ((source, source_id), (target, target_id)):
            record = portal.get(kind.name, object_id)
            if record is not None:
                sync_primary_company(portal, record)
        portal.emit(
            {
                "kind": "associationChange",
                "type": source.name,
                "id": source_id,
                "target": target.name,
                "target_id": target_id,
                "writer": Writer("INTEGRATION", ""),
            }
        )

    def specs(raw: Any, source: ObjectType, target: ObjectType) -> list[int]:
        if not isinstance(raw, list) or not raw:
            raise errors.validation("association types are required")
        out = []
        for spec in raw:
            type_id = int((spec or {}).get("associationTypeId") or 0)
            why = portal.associations.check(
                source.name, target.name, type_id, (spec or {}).get("associationCategory")
            )
            if why:
                raise errors.validation(why)
            out.append(type_id)
        return out

    def labels_of(source: ObjectType, type_ids: list[int]) -> list[str]:
        return [
            t.label for t in (portal.associations.types[i] for i in type_ids) if t.label is not None
        ]

    @api.put("/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")
    async def create_default(request: Request, from_id: str, to_id: str) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.write_scope,), objects_gate=True)
        with portal.lock:
            started = portal.now_ms()
            for kind, object_id in ((source, from_id), (target, to_id)):
                if portal.get(kind.name, object_id) is None:
                    raise errors.validation(f"{kind.legacy}={object_id} is not valid")
            default = default_type(source, target)
            link(source, from_id, target, to_id, [default])
            result = {
                "from": {"id": from_id},
                "to": {"id": to_id},
                "associationSpec": {
                    "associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": default,
                },
            }
            return answer(portal.rng, started, portal.now_ms(), [result], [], 200)

    @api.put("/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}")
    async def create(request: Request, from_id: str, to_id: str) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.write_scope,), objects_gate=True)
        body = await body_of(request)
        with portal.lock:
            type_ids = specs(body, source, target)
            for kind, object_id in ((source, from_id), (target, to_id)):
                if portal.get(kind.name, object_id) is None:
                    raise errors.validation(f"{kind.legacy}={object_id} is not valid")
            link(source, from_id, target, to_id, type_ids)
            return JSON(
                {
                    "fromObjectTypeId": source.type_id,
                    "fromObjectId": number(from_id),
                    "toObjectTypeId": target.type_id,
                    "toObjectId": number(to_id),
                    "labels": labels_of(source, type_ids),
                },
                201,
            )

    @api.get("/objects/{from_type}/{from_id}/associations/{to_type}")
    async def list_page(request: Request, from_id: str) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.read_scope,), objects_gate=True)
        limit = min(PAGE, int(request.query_params.get("limit") or PAGE))
        after = int(request.query_params.get("after") or 0)
        with portal.lock:
            record = portal.get(source.name, from_id)
            if record is None:
                raise errors.not_found_html()
            rows = [
                (i, t)
                for i, t in portal.associations.targets(source.name, record.id, target.name)
                if portal.get(target.name, i) is not None
            ]
            page = rows[after : after + limit]
            body: dict[str, Any] = {
                "results": [
                    {"toObjectId": number(i), "associationTypes": type_views(portal, t)}
                    for i, t in page
                ]
            }
        if after + limit < len(rows):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return body

    @api.delete("/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}")
    async def delete(request: Request, from_id: str, to_id: str) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.write_scope,), objects_gate=True)
        with portal.lock:
            if portal.associations.remove(source.name, from_id, target.name, to_id):
                touched(source, from_id, target, to_id)
        return Response(status_code=204)

    @api.post("/associations/{from_type}/{to_type}/batch/create")
    async def batch_create(request: Request) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            started = portal.now_ms()
            results, problems = [], []
            for item in inputs:
                from_id = as_text((item.get("from") or {}).get("id")) or ""
                to_id = as_text((item.get("to") or {}).get("id")) or ""
                if portal.get(source.name, from_id) is None:
                    problems.append(invalid(source, from_id))
                    continue
                if portal.get(target.name, to_id) is None:
                    problems.append(invalid(target, to_id))
                    continue
                type_ids = specs(item.get("types"), source, target)
                link(source, from_id, target, to_id, type_ids)
                results.append(
                    {
                        "fromObjectTypeId": source.type_id,
                        "fromObjectId": number(from_id),
                        "toObjectTypeId": target.type_id,
                        "toObjectId": number(to_id),
                        "labels": labels_of(source, type_ids),
                    }
                )
            return answer(portal.rng, started, portal.now_ms(), results, problems, 201)

    @api.post("/associations/{from_type}/{to_type}/batch/associate/default")
    async def batch_default(request: Request) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            started = portal.now_ms()
            default = default_type(source, target)
            results, problems = [], []
            for item in inputs:
                from_id = as_text((item.get("from") or {}).get("id")) or ""
                to_id = as_text((item.get("to") or {}).get("id")) or ""
                bad = [
                    (k, i)
                    for k, i in ((source, from_id), (target, to_id))
                    if portal.get(k.name, i) is None
                ]
                if bad:
                    problems.append(invalid(*bad[0]))
                    continue
                link(source, from_id, target, to_id, [default])
                spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": default}
                results.append(
                    {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec}
                )
            return answer(portal.rng, started, portal.now_ms(), results, problems, 200)

    @api.post("/associations/{from_type}/{to_type}/batch/read")
    async def batch_read(request: Request) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.read_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request), False)
        with portal.lock:
            started = portal.now_ms()
            results, problems = [], []
            for item in inputs:
                from_id = as_text(item.get("id")) or ""
                record = portal.get(source.name, from_id)
                if record is None:
                    problems.append(invalid(source, from_id))
                    continue
                rows = [
                    {"toObjectId": number(i), "associationTypes": type_views(portal, t)}
                    for i, t in portal.associations.targets(source.name, record.id, target.name)
                    if portal.get(target.name, i) is not None
                ]
                results.append({"from": {"id": from_id}, "to": rows})
            return answer(portal.rng, started, portal.now_ms(), results, problems, 200)

    @api.post("/associations/{from_type}/{to_type}/batch/archive")
    async def batch_archive(request: Request) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            for item in inputs:
                from_id = as_text((item.get("from") or {}).get("id")) or ""
                for to in item.get("to") or []:
                    to_id = as_text((to or {}).get("id")) or ""
                    if portal.associations.remove(source.name, from_id, target.name, to_id):
                        touched(source, from_id, target, to_id)
        return Response(status_code=204)

    @api.post("/associations/{from_type}/{to_type}/batch/labels/archive")
    async def batch_labels_archive(request: Request) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.write_scope,), objects_gate=True)
        inputs = inputs_of(await body_of(request))
        with portal.lock:
            for item in inputs:
                from_id = as_text((item.get("from") or {}).get("id")) or ""
                to_id = as_text((item.get("to") or {}).get("id")) or ""
                type_ids = set(specs(item.get("types"), source, target))
                portal.associations.remove_types(source.name, from_id, target.name, to_id, type_ids)
                touched(source, from_id, target, to_id)
        return Response(status_code=204)

    @api.get("/associations/{from_type}/{to_type}/labels")
    async def labels(request: Request) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.read_scope,), objects_gate=True)
        with portal.lock:
            kinds_ = portal.associations.kinds(source.name, target.name)
            return {
                "results": [
                    {"category": t.category, "typeId": t.id, "label": t.label} for t in kinds_
                ]
            }

    @api.post("/associations/{from_type}/{to_type}/labels")
    async def add_label(request: Request) -> Any:
        source, target = kinds(request, "from_type", "to_type")
        await guard(request, (source.schema_scope + ".write",), objects_gate=True)
        body = await body_of(request)
        label = str((body or {}).get("label") or "")
        if not label:
            raise errors.validation("label is required")
        with portal.lock:
            type_id = portal.associations.add_label(
                source.name, target.name, label, (body or {}).get("inverseLabel")
            )
            made = portal.associations.types[type_id]
            return {
                "results": [{"category": made.category, "typeId": made.id, "label": made.label}]
            }

    return api
