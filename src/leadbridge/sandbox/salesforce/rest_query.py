"""SOQL over REST: `query` and `queryAll` with server-side cursors paged by `nextRecordsUrl`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.replies import Reply
from leadbridge.sandbox.salesforce.resources import Answer, Call, Resources


@dataclass
class Cursor:
    records: list[dict[str, Any]]
    total: int
    position: int
    batch: int
    all_rows: bool


def add_query_routes(resources: Resources) -> None:
    org, knobs = resources.gate.org, resources.gate.knobs
    cursors: dict[str, Cursor] = {}

    def batch_size(call: Call) -> int:
        options = call.headers.get("sforce-query-options", "")
        for part in options.split(","):
            key, _, value = part.strip().partition("=")
            if key.lower() == "batchsize" and value.isdigit():
                return max(200, min(2000, int(value)))
        return knobs.query_batch_size

    def page(version: str, locator: str, cursor: Cursor, all_rows: bool) -> Answer:
        chunk = cursor.records[cursor.position : cursor.position + cursor.batch]
        cursor.position += len(chunk)
        body: dict[str, Any] = {
            "totalSize": cursor.total,
            "done": cursor.position >= len(cursor.records),
            "records": chunk,
        }
        if not body["done"]:
            kind = "queryAll" if all_rows else "query"
            body["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{locator}-{cursor.position}"
        else:
            cursors.pop(locator, None)
        return Answer(200, body)

    def run_query(call: Call, all_rows: bool) -> Answer:
        text = call.query.get("q", "")
        try:
            with org.lock:
                records, total = soql.execute(
                    soql.parse(text), org, include_deleted=all_rows, api_version=call.version
                )
        except soql.SoqlError as exc:
            raise Reply(400, [{"message": exc.message, "errorCode": exc.error_code}]) from None
        locator = "01g" + secrets.token_hex(6)
        cursors[locator] = Cursor(records, total, 0, batch_size(call), all_rows)
        return page(call.version, locator, cursors[locator], all_rows)

    def more(call: Call, all_rows: bool) -> Answer:
        key, _, offset = call.params["locator"].rpartition("-")
        cursor = cursors.get(key)
        if cursor is None or not offset.isdigit() or int(offset) != cursor.position:
            raise Reply(
                400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
            )
        return page(call.version, key, cursor, all_rows)

    resources.add("GET", ("/query", "/query/"), lambda call: run_query(call, False), "query")
    resources.add("GET", ("/queryAll", "/queryAll/"), lambda call: run_query(call, True), "query")
    resources.add("GET", ("/query/{locator}",), lambda call: more(call, False), "query")
    resources.add("GET", ("/queryAll/{locator}",), lambda call: more(call, True), "query")
