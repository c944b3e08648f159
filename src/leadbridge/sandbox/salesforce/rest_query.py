"""SOQL over REST: `query` and `queryAll` with server-side cursors paged by `nextRecordsUrl`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.gate import Gate
from leadbridge.sandbox.salesforce.replies import Reply


@dataclass
class Cursor:
    records: list[dict[str, Any]]
    total: int
    position: int
    batch: int
    all_rows: bool


def add_query_routes(api: APIRouter, gate: Gate) -> None:
    org, knobs = gate.org, gate.knobs
    cursors: dict[str, Cursor] = {}

    def batch_size(request: Request) -> int:
        options = request.headers.get("sforce-query-options", "")
        for part in options.split(","):
            key, _, value = part.strip().partition("=")
            if key.lower() == "batchsize" and value.isdigit():
                return max(200, min(2000, int(value)))
        return knobs.query_batch_size

    def page(version: str, locator: str, cursor: Cursor, all_rows: bool) -> dict[str, Any]:
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
        return body

    async def run_query(version: str, request: Request, all_rows: bool) -> dict[str, Any]:
        await gate(request)
        text = request.query_params.get("q", "")
        try:
            with org.lock:
                records, total = soql.execute(
                    soql.parse(text), org, include_deleted=all_rows, api_version=version
                )
        except soql.SoqlError as exc:
            raise Reply(400, [{"message": exc.message, "errorCode": exc.error_code}]) from None
        locator = "01g" + secrets.token_hex(6)
        cursors[locator] = Cursor(records, total, 0, batch_size(request), all_rows)
        return page(version, locator, cursors[locator], all_rows)

    async def more(version: str, locator: str, request: Request, all_rows: bool) -> dict[str, Any]:
        await gate(request)
        key, _, offset = locator.rpartition("-")
        cursor = cursors.get(key)
        if cursor is None or not offset.isdigit() or int(offset) != cursor.position:
            raise Reply(
                400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
            )
        return page(version, key, cursor, all_rows)

    @api.get("/query")
    @api.get("/query/")
    async def query(version: str, request: Request) -> dict[str, Any]:
        return await run_query(version, request, False)

    @api.get("/queryAll")
    @api.get("/queryAll/")
    async def query_all(version: str, request: Request) -> dict[str, Any]:
        return await run_query(version, request, True)

    @api.get("/query/{locator}")
    async def query_more(version: str, locator: str, request: Request) -> dict[str, Any]:
        return await more(version, locator, request, False)

    @api.get("/queryAll/{locator}")
    async def query_all_more(version: str, locator: str, request: Request) -> dict[str, Any]:
        return await more(version, locator, request, True)
