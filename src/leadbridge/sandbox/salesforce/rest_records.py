"""sObject rows: create, read, update, delete, read and upsert by external id or idLookup field."""

from __future__ import annotations

from typing import Any

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.bodies import sobject_fields
from leadbridge.sandbox.salesforce.gate import allow_save
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.salesforce.replies import NOT_FOUND, Reply, dml_failure, locked, rest_errors
from leadbridge.sandbox.salesforce.resources import Answer, Call, Resources


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


def add_record_routes(resources: Resources) -> None:
    gate = resources.gate
    org = gate.org

    def body_of(call: Call, sobject: str) -> dict[str, Any]:
        return sobject_fields(org, sobject, call.json(), call.column())

    def ambiguous(call: Call, sobject: str, found: list[dict[str, Any]]) -> Reply:
        base = f"/services/data/v{call.version}/sobjects/{sobject}"
        return Reply(300, [f"{base}/{r['Id']}" for r in found])

    def create(call: Call) -> Answer:
        canonical = gate.obj_or_404(call.params["name"])
        body = body_of(call, canonical)
        if gate.lock_row():
            raise Reply(400, rest_errors([locked(None)]))
        result = org.create(
            canonical, body, user_id=call.user_id, allow_dup_save=allow_save(call.headers)
        )
        if not result.success:
            raise Reply(400, rest_errors(result.errors))
        return Answer(201, {"id": result.id, "success": True, "errors": []})

    def read(call: Call) -> Answer:
        canonical = gate.obj_or_404(call.params["name"])
        row = org.row(canonical, call.params["record_id"])
        if row is None or row["IsDeleted"]:
            raise Reply(404, NOT_FOUND)
        fields = call.query.get("fields")
        wanted = fields.split(",") if fields else None
        return Answer(200, serialize(org, canonical, row, call.version, wanted))

    def update(call: Call) -> Answer:
        canonical = gate.obj_or_404(call.params["name"])
        record_id = call.params["record_id"]
        body = body_of(call, canonical)
        if gate.lock_row():
            raise Reply(400, rest_errors([locked(record_id)]))
        result = org.update(
            canonical,
            record_id,
            body,
            user_id=call.user_id,
            allow_dup_save=allow_save(call.headers),
        )
        if not result.success:
            raise dml_failure(result)
        return Answer(204)

    def delete(call: Call) -> Answer:
        canonical = gate.obj_or_404(call.params["name"])
        result = org.delete(canonical, call.params["record_id"], user_id=call.user_id)
        if not result.success:
            raise dml_failure(result)
        return Answer(204)

    def read_by_ext(call: Call) -> Answer:
        canonical = gate.obj_or_404(call.params["name"])
        f = org.field_of(canonical, call.params["ext_field"])
        if f is None or not (f.get("externalId") or f.get("idLookup")):
            raise Reply(404, NOT_FOUND)
        found = org.matches(canonical, f["name"], call.params["value"])
        if not found:
            raise Reply(404, NOT_FOUND)
        if len(found) > 1:
            raise ambiguous(call, canonical, found)
        return Answer(200, serialize(org, canonical, found[0], call.version))

    def upsert(call: Call) -> Answer:
        canonical = gate.obj_or_404(call.params["name"])
        ext_field, value = call.params["ext_field"], call.params["value"]
        body = body_of(call, canonical)
        f = org.field_of(canonical, ext_field)
        if f is not None and len(found := org.matches(canonical, f["name"], value)) > 1:
            raise ambiguous(call, canonical, found)
        result = org.upsert(
            canonical,
            ext_field,
            value,
            body,
            user_id=call.user_id,
            allow_dup_save=allow_save(call.headers),
        )
        if not result.success:
            status = 404 if result.errors[0]["statusCode"] == "NOT_FOUND" else 400
            raise Reply(status, rest_errors(result.errors))
        return Answer(201 if result.created else 200, result.body(with_created=True))

    resources.add("POST", ("/sobjects/{name}", "/sobjects/{name}/"), create, "sobject")
    resources.add("GET", ("/sobjects/{name}/{record_id}",), read, "sobject")
    resources.add("PATCH", ("/sobjects/{name}/{record_id}",), update, "sobject")
    resources.add("DELETE", ("/sobjects/{name}/{record_id}",), delete, "sobject")
    resources.add("GET", ("/sobjects/{name}/{ext_field}/{value}",), read_by_ext, "sobject")
    resources.add("PATCH", ("/sobjects/{name}/{ext_field}/{value}",), upsert, "sobject")
