"""sObject Collections (`/composite/sobjects`): create, update, upsert and delete up to 200
records a call, one result per record in input order, allOrNone rolling back the successes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.salesforce.gate import Gate, json_body
from leadbridge.sandbox.salesforce.ids import to18
from leadbridge.sandbox.salesforce.org import Org, SaveResult, err
from leadbridge.sandbox.salesforce.replies import Reply, locked

MAX_RECORDS = 200
TOO_MANY = [
    {
        "message": "Maximum number of records allowed in a request is 200",
        "errorCode": "EXCEEDED_ID_LIMIT",
    }
]
Undo = Callable[[], None]
Op = Callable[[], tuple[SaveResult, Undo | None]]


def collection_records(body: Any) -> tuple[list[dict[str, Any]], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise Reply(400, [{"message": "records is required", "errorCode": "INVALID_FIELD"}])
    if len(body["records"]) > MAX_RECORDS:
        raise Reply(400, TOO_MANY)
    return body["records"], bool(body.get("allOrNone", False))


def apply_all(org: Org, ops: list[Op], all_or_none: bool) -> list[SaveResult]:
    """Run each op (a callable answering (SaveResult, undo)); with allOrNone, any failure
    undoes the successes and marks them rolled back."""
    results: list[SaveResult] = []
    undo: list[Undo] = []
    with org.lock:
        for op in ops:
            result, rollback = op()
            results.append(result)
            if result.success and rollback:
                undo.append(rollback)
        if all_or_none and any(not r.success for r in results):
            for rollback in reversed(undo):
                rollback()
            rolled = err(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "Record rolled back because not all records were valid and the request was "
                "using AllOrNone header",
            )
            results = [SaveResult(None, False, [rolled]) if r.success else r for r in results]
    return results


def add_collection_routes(api: APIRouter, gate: Gate) -> None:
    org = gate.org

    def restore(sobject: str, before: dict[str, Any] | None) -> Undo | None:
        if before is None:
            return None
        return lambda: org.records[sobject].__setitem__(before["Id"], before)

    def forget(sobject: str, record_id: str | None) -> Undo:
        def undo() -> None:
            org.records[sobject].pop(record_id or "", None)

        return undo

    def write_op(
        kind: str, sobject: str | None, record: dict[str, Any], user_id: str, ext: str = ""
    ) -> Op:
        """One record of a collection call: (result, how to undo it) for allOrNone."""

        def run() -> tuple[SaveResult, Undo | None]:
            rtype = sobject or (record.get("attributes") or {}).get("type")
            name = org.canonical(str(rtype or ""))
            if name is None:
                failure = err("INVALID_TYPE", "Must send a concrete entity type.")
                return SaveResult(None, False, [failure]), None
            fields = {k: v for k, v in record.items() if k != "attributes"}
            if gate.lock_row():
                return SaveResult(None, False, [locked(fields.get("id") or fields.get("Id"))]), None
            if kind == "create":
                if "id" in fields or "Id" in fields:
                    failure = err("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
                    return SaveResult(None, False, [failure]), None
                result = org.create(name, fields, user_id=user_id)
                return result, forget(name, result.id)
            if kind == "update":
                record_id = str(fields.pop("id", None) or fields.pop("Id", "") or "")
                before = copy.deepcopy(org.row(name, record_id))
                return org.update(name, record_id, fields, user_id=user_id), restore(name, before)
            key = org.field_of(name, ext)
            value = fields.pop(key["name"] if key else ext, None)
            existing = org.matches(name, key["name"], value) if key else []
            before = copy.deepcopy(existing[0]) if len(existing) == 1 else None
            result = org.upsert(name, ext, value, fields, user_id=user_id)
            return result, forget(name, result.id) if result.created else restore(name, before)

        return run

    @api.post("/composite/sobjects")
    @api.post("/composite/sobjects/")
    async def collection_create(version: str, request: Request) -> list[dict[str, Any]]:
        s = await gate(request)
        records, all_or_none = collection_records(await json_body(request))
        ops = [write_op("create", None, r, s.user_id) for r in records]
        return [r.body() for r in apply_all(org, ops, all_or_none)]

    @api.patch("/composite/sobjects")
    @api.patch("/composite/sobjects/")
    async def collection_update(version: str, request: Request) -> list[dict[str, Any]]:
        s = await gate(request)
        records, all_or_none = collection_records(await json_body(request))
        ops = [write_op("update", None, r, s.user_id) for r in records]
        return [r.body() for r in apply_all(org, ops, all_or_none)]

    @api.patch("/composite/sobjects/{name}/{ext_field}")
    async def collection_upsert(
        version: str, name: str, ext_field: str, request: Request
    ) -> list[dict[str, Any]]:
        s = await gate(request)
        canonical = gate.obj_or_404(name)
        records, all_or_none = collection_records(await json_body(request))
        ops = [write_op("upsert", canonical, r, s.user_id, ext_field) for r in records]
        return [r.body(with_created=True) for r in apply_all(org, ops, all_or_none)]

    @api.delete("/composite/sobjects")
    @api.delete("/composite/sobjects/")
    async def collection_delete(version: str, request: Request) -> list[dict[str, Any]]:
        s = await gate(request)
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if len(ids) > MAX_RECORDS:
            raise Reply(400, TOO_MANY)
        all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"

        def op(record_id: str) -> Op:
            def run() -> tuple[SaveResult, Undo | None]:
                found = org.find(record_id)
                if found is None:
                    return SaveResult(
                        to18(record_id),
                        False,
                        [
                            err(
                                "MALFORMED_ID" if to18(record_id) is None else "ENTITY_IS_DELETED",
                                "invalid cross reference id",
                            )
                        ],
                    ), None
                name, row = found
                before = copy.deepcopy(row)
                result = org.delete(name, record_id, user_id=s.user_id)
                return result, (lambda: org.records[name].__setitem__(row["Id"], before))

            return run

        return [r.body() for r in apply_all(org, [op(i) for i in ids], all_or_none)]
