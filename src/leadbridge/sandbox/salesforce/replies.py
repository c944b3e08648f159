"""How the REST layer ends a request: `Reply` (raised anywhere in a handler) and Salesforce's
single-record error bodies (arrays of {message, errorCode, fields})."""

from __future__ import annotations

from typing import Any

from leadbridge.sandbox.salesforce.org import SaveResult, err

INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


class Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def dml_failure(result: SaveResult) -> Reply:
    """A failed single-record write: 404 for a missing or deleted record, else 400."""
    code = result.errors[0]["statusCode"]
    status = 404 if code in ("NOT_FOUND", "ENTITY_IS_DELETED") else 400
    return Reply(status, rest_errors(result.errors))


def rest_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Single-record errors: errorCode (not statusCode); a duplicate keeps its duplicateResult
    ahead of the code and message, as recorded."""
    dups = [e for e in errors if "duplicateResult" in e]
    if dups:
        return [
            {
                "duplicateResult": e["duplicateResult"],
                "errorCode": e["statusCode"],
                "message": e["message"],
            }
            for e in dups
        ]
    return [
        {"message": e["message"], "errorCode": e["statusCode"], "fields": e.get("fields", [])}
        for e in errors
    ]


def locked(record_id: str | None) -> dict[str, Any]:
    return err(
        "UNABLE_TO_LOCK_ROW",
        f"unable to obtain exclusive access to this record or 1 records: {record_id or ''}",
    )


def json_parser_error(message: str) -> list[dict[str, str]]:
    return [{"message": message, "errorCode": "JSON_PARSER_ERROR"}]
