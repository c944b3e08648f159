"""sObject rows: create, read, update, delete, read and upsert by external id or idLookup field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.gate import Gate, allow_save, json_body
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.salesforce.replies import NOT_FOUND, Reply, dml_failure, locked, rest_errors


def serialize(
    org: Org, sobject: str, row: dict[str, Any], version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    describe = org.describe(sobject)
    out: dict[str, Any] = {"attributes": soql.attributes(sobject, row["Id"], version)}
    wanted = {f.lower() for f in fields} if fields else None
    for f in describe["fields"]:
        if wanted is None or f["name"].lower() in wanted:
            out[f["name"]] = soql.format_value(f["type"], row.get(f["name"]))
    return out


def add_record_routes(api: APIRouter, gate: Gate) -> None:
    org = gate.org

    @api.post("/sobjects/{name}")
    @api.post("/sobjects/{name}/")
    async def create(version: str, name: str, request: Request) -> Response:
        s = await gate(request)
        canonical = gate.obj_or_404(name)
        body = await json_body(request)
        if gate.lock_row():
            raise Reply(400, rest_errors([locked(None)]))
        result = org.create(canonical, body, user_id=s.user_id, allow_dup_save=allow_save(request))
        if not result.success:
            raise Reply(400, rest_errors(result.errors))
        return JSONResponse({"id": result.id, "success": True, "errors": []}, 201)

    @api.get("/sobjects/{name}/{record_id}")
    async def read(version: str, name: str, record_id: str, request: Request) -> dict[str, Any]:
        await gate(request)
        canonical = gate.obj_or_404(name)
        row = org.row(canonical, record_id)
        if row is None or row["IsDeleted"]:
            raise Reply(404, NOT_FOUND)
        fields = request.query_params.get("fields")
        return serialize(org, canonical, row, version, fields.split(",") if fields else None)

    @api.patch("/sobjects/{name}/{record_id}")
    async def update(version: str, name: str, record_id: str, request: Request) -> Response:
        s = await gate(request)
        canonical = gate.obj_or_404(name)
        body = await json_body(request)
        if gate.lock_row():
            raise Reply(400, rest_errors([locked(record_id)]))
        result = org.update(
            canonical, record_id, body, user_id=s.user_id, allow_dup_save=allow_save(request)
        )
        if not result.success:
            raise dml_failure(result)
        return Response(status_code=204)

    @api.delete("/sobjects/{name}/{record_id}")
    async def delete(version: str, name: str, record_id: str, request: Request) -> Response:
        s = await gate(request)
        result = org.delete(gate.obj_or_404(name), record_id, user_id=s.user_id)
        if not result.success:
            raise dml_failure(result)
        return Response(status_code=204)

    @api.get("/sobjects/{name}/{ext_field}/{value}")
    async def read_by_ext(
        version: str, name: str, ext_field: str, value: str, request: Request
    ) -> Any:
        await gate(request)
        canonical = gate.obj_or_404(name)
        f = org.field_of(canonical, ext_field)
        if f is None or not (f.get("externalId") or f.get("idLookup")):
            raise Reply(404, NOT_FOUND)
        found = org.matches(canonical, f["name"], value)
        if not found:
            raise Reply(404, NOT_FOUND)
        if len(found) > 1:
            raise Reply(
                300, [f"/services/data/v{version}/sobjects/{canonical}/{r['Id']}" for r in found]
            )
        return serialize(org, canonical, found[0], version)

    @api.patch("/sobjects/{name}/{ext_field}/{value}")
    async def upsert(
        version: str, name: str, ext_field: str, value: str, request: Request
    ) -> Response:
        s = await gate(request)
        canonical = gate.obj_or_404(name)
        body = await json_body(request)
        f = org.field_of(canonical, ext_field)
        if f is not None and len(org.matches(canonical, f["name"], value)) > 1:
            raise Reply(
                300,
                [
                    f"/services/data/v{version}/sobjects/{canonical}/{r['Id']}"
                    for r in org.matches(canonical, f["name"], value)
                ],
            )
        result = org.upsert(
            canonical, ext_field, value, body, user_id=s.user_id, allow_dup_save=allow_save(request)
        )
        if not result.success:
            status = 404 if result.errors[0]["statusCode"] == "NOT_FOUND" else 400
            raise Reply(status, rest_errors(result.errors))
        return JSONResponse(result.body(with_created=True), 201 if result.created else 200)
