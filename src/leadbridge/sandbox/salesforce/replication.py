"""getUpdated / getDeleted (`/sobjects/X/updated`, `/sobjects/X/deleted`): ids changed or
deleted in a window, on minute boundaries, as the replication API answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from leadbridge.sandbox.salesforce import soql
from leadbridge.sandbox.salesforce.replies import Reply
from leadbridge.sandbox.salesforce.resources import Answer, Call, Resources


def replication_error(message: str) -> Reply:
    return Reply(400, [{"message": message, "errorCode": "INVALID_REPLICATION_DATE"}])


def window(query: Mapping[str, str]) -> tuple[datetime, datetime]:
    try:
        start = soql.parse_datetime(query["start"]).replace(second=0, microsecond=0)
        end = soql.parse_datetime(query["end"]).replace(second=0, microsecond=0)
    except (KeyError, ValueError, OverflowError):
        raise replication_error("start and end must be ISO-8601 date-times") from None
    if start >= end:
        raise replication_error("startDate must chronologically precede endDate")
    return start, end


def add_replication_routes(resources: Resources) -> None:
    gate = resources.gate
    org = gate.org

    def updated(call: Call) -> Answer:
        canonical, (start, end) = gate.obj_or_404(call.params["name"]), window(call.query)
        if org.now() - start > timedelta(days=30):
            raise replication_error("startDate cannot be more than 30 days ago")
        ids = [
            r["Id"]
            for r in org.rows(canonical)
            if not r["IsDeleted"] and start <= r["SystemModstamp"] < end
        ]
        return Answer(200, {"ids": ids, "latestDateCovered": soql.format_value("datetime", end)})

    def deleted(call: Call) -> Answer:
        canonical, (start, end) = gate.obj_or_404(call.params["name"]), window(call.query)
        earliest = org.now() - timedelta(days=15)
        with org.lock:
            rows = org.records[canonical]
            gone = [
                {"id": i, "deletedDate": soql.format_value("datetime", when)}
                for i, when in org.deleted_log[canonical]
                if start <= when < end and i in rows and rows[i]["IsDeleted"]
            ]
        return Answer(
            200,
            {
                "deletedRecords": gone,
                "earliestDateAvailable": soql.format_value(
                    "datetime", earliest.replace(second=0, microsecond=0)
                ),
                "latestDateCovered": soql.format_value("datetime", end),
            },
        )

    resources.add(
        "GET", ("/sobjects/{name}/updated", "/sobjects/{name}/updated/"), updated, "sobject"
    )
    resources.add(
        "GET", ("/sobjects/{name}/deleted", "/sobjects/{name}/deleted/"), deleted, "sobject"
    )
