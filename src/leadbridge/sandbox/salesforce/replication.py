"""getUpdated / getDeleted (`/sobjects/X/updated`, `/sobjects/X/deleted`): ids changed or
deleted in a window, on minute boundaries, as the replication API answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.gate import Gate
from leadbridge.sandbox.salesforce.replies import Reply


def window(request: Request) -> tuple[datetime, datetime]:
    try:
        start = soql.parse_datetime(request.query_params["start"]).replace(second=0, microsecond=0)
        end = soql.parse_datetime(request.query_params["end"]).replace(second=0, microsecond=0)
    except (KeyError, ValueError):
        raise Reply(
            400,
            [
                {
                    "message": "start and end must be ISO-8601 date-times",
                    "errorCode": "INVALID_REPLICATION_DATE",
                }
            ],
        ) from None
    if start >= end:
        raise Reply(
            400,
            [
                {
                    "message": "startDate must chronologically precede endDate",
                    "errorCode": "INVALID_REPLICATION_DATE",
                }
            ],
        )
    return start, end


def add_replication_routes(api: APIRouter, gate: Gate) -> None:
    org = gate.org

    @api.get("/sobjects/{name}/updated")
    @api.get("/sobjects/{name}/updated/")
    async def updated(version: str, name: str, request: Request) -> dict[str, Any]:
        await gate(request)
        canonical, (start, end) = gate.obj_or_404(name), window(request)
        if org.now() - start > timedelta(days=30):
            raise Reply(
                400,
                [
                    {
                        "message": "startDate cannot be more than 30 days ago",
                        "errorCode": "INVALID_REPLICATION_DATE",
                    }
                ],
            )
        ids = [
            r["Id"]
            for r in org.rows(canonical)
            if not r["IsDeleted"] and start <= r["SystemModstamp"] < end
        ]
        return {"ids": ids, "latestDateCovered": soql.format_value("datetime", end)}

    @api.get("/sobjects/{name}/deleted")
    @api.get("/sobjects/{name}/deleted/")
    async def deleted(version: str, name: str, request: Request) -> dict[str, Any]:
        await gate(request)
        canonical, (start, end) = gate.obj_or_404(name), window(request)
        earliest = org.now() - timedelta(days=15)
        with org.lock:
            gone = [
                {"id": i, "deletedDate": soql.format_value("datetime", when)}
                for i, when in org.deleted_log[canonical]
                if start <= when < end and org.records[canonical][i]["IsDeleted"]
            ]
        return {
            "deletedRecords": gone,
            "earliestDateAvailable": soql.format_value(
                "datetime", earliest.replace(second=0, microsecond=0)
            ),
            "latestDateCovered": soql.format_value("datetime", end),
        }
