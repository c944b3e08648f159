"""sObject Collections (`/composite/sobjects`): create, update, upsert and delete up to 200
records a call, one result per record in input order; allOrNone rolls every write of the call
back (cascades included) when one record fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadbridge.sandbox.salesforce.bodies import sobject_fields
from leadbridge.sandbox.salesforce.ids import to18
from leadbridge.sandbox.salesforce.org import Org, SaveResult, err
from leadbridge.sandbox.salesforce.replies import Reply, locked
from leadbridge.sandbox.salesforce.resources import Answer, Call, Resources

MAX_RECORDS = 200
TOO_MANY = [
    {
        "message": "Maximum number of records allowed in a request is 200",
        "errorCode": "EXCEEDED_ID_LIMIT",
    }
]
ROLLED_BACK = err(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)
Op = Callable[[], SaveResult]


def collection_records(org: Org, call: Call) -> tuple[list[dict[str, Any]], bool]:
    """The records (each an object of scalar fields) and allOrNone; the composite request's
    own allOrNone, when set, overrides the subrequest's."""
    body = call.json()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise Reply(400, [{"message": "records is required", "errorCode": "INVALID_FIELD"}])
    if len(body["records"]) > MAX_RECORDS:
        raise Reply(400, TOO_MANY)
    records = [sobject_fields(org, None, r) for r in body["records"]]
    return records, bool(body.get("allOrNone", False)) or call.all_or_none


def apply_all(org: Org, ops: list[Op], all_or_none: bool) -> list[SaveResult]:
    """Run each op; with allOrNone, one failure rolls back the others and marks them."""
    if not all_or_none:
        with org.lock:
            return [op() for op in ops]
    with org.transaction() as journal:
        results = [op() for op in ops]
        if any(not r.success for r in results):
            journal.rollback()
            results = [SaveResult(None, False, [ROLLED_BACK]) if r.success else r for r in results]
    return results


def add_collection_routes(resources: Resources) -> None:
    gate = resources.gate
    org = gate.org

    def write_op(
        kind: str, sobject: str | None, record: dict[str, Any], user_id: str, ext: str = ""
    ) -> Op:
        def run() -> SaveResult:
            rtype = sobject or (record.get("attributes") or {}).get("type")
            name = org.canonical(str(rtype or ""))
            if name is None:
                return SaveResult(
                    None, False, [err("INVALID_TYPE", "Must send a concrete entity type.")]
                )
            fields = {k: v for k, v in record.items() if k != "attributes"}
            if gate.lock_row():
                return SaveResult(None, False, [locked(fields.get("id") or fields.get("Id"))])
            if kind == "create":
                if "id" in fields or "Id" in fields:
                    failure = err("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
                    return SaveResult(None, False, [failure])
                return org.create(name, fields, user_id=user_id)
            if kind == "update":
                record_id = str(fields.pop("id", None) or fields.pop("Id", "") or "")
                return org.update(name, record_id, fields, user_id=user_id)
            key = org.field_of(name, ext)
            value = fields.pop(key["name"] if key else ext, None)
            return org.upsert(name, ext, value, fields, user_id=user_id)

        return run

    def create(call: Call) -> Answer:
        records, all_or_none = collection_records(org, call)
        ops = [write_op("create", None, r, call.user_id) for r in records]
        return Answer(200, [r.body() for r in apply_all(org, ops, all_or_none)])

    def update(call: Call) -> Answer:
        records, all_or_none = collection_records(org, call)
        ops = [write_op("update", None, r, call.user_id) for r in records]
        return Answer(200, [r.body() for r in apply_all(org, ops, all_or_none)])

    def upsert(call: Call) -> Answer:
        canonical = gate.obj_or_404(call.params["name"])
        records, all_or_none = collection_records(org, call)
        ops = [
            write_op("upsert", canonical, r, call.user_id, call.params["ext_field"])
            for r in records
        ]
        results = apply_all(org, ops, all_or_none)
        return Answer(200, [r.body(with_created=True) for r in results])

    def delete(call: Call) -> Answer:
        ids = [i for i in call.query.get("ids", "").split(",") if i]
        if len(ids) > MAX_RECORDS:
            raise Reply(400, TOO_MANY)
        all_or_none = call.query.get("allOrNone", "false").lower() == "true" or call.all_or_none

        def op(record_id: str) -> Op:
            def run() -> SaveResult:
                found = org.find(record_id)
                if found is None:
                    code = "MALFORMED_ID" if to18(record_id) is None else "ENTITY_IS_DELETED"
                    failure = err(code, "invalid cross reference id")
                    return SaveResult(to18(record_id), False, [failure])
                return org.delete(found[0], record_id, user_id=call.user_id)

            return run

        return Answer(200, [r.body() for r in apply_all(org, [op(i) for i in ids], all_or_none)])

    resources.add("POST", ("/composite/sobjects", "/composite/sobjects/"), create, "collection")
    resources.add("PATCH", ("/composite/sobjects", "/composite/sobjects/"), update, "collection")
    resources.add("PATCH", ("/composite/sobjects/{name}/{ext_field}",), upsert, "collection")
    resources.add("DELETE", ("/composite/sobjects", "/composite/sobjects/"), delete, "collection")
