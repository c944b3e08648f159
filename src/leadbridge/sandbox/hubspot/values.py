"""Property values as HubSpot stores and returns them: every value is a string.

Datetimes come back as ISO-8601 UTC the way Java's Instant prints them (recorded:
`2022-08-08T14:52:21.857Z`, and `2022-05-03T09:00:00Z` with no fraction when the milliseconds
are zero); they may be written as epoch milliseconds or ISO. A value that does not parse is
refused with HubSpot's per-property detail (`{isValid, message, error, name}`).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from email_validator import EmailNotValidError, validate_email

EPOCH_MS = re.compile(r"^-?\d{1,16}$")


@functools.lru_cache(maxsize=4096)  # a batch stamps every value of its records with one instant
def iso_ms(ms: int) -> str:
    """`createdAt`/`updatedAt`: always with milliseconds."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def instant(ms: int) -> str:
    """A datetime property value: milliseconds only when there are some (Java Instant)."""
    moment = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{ms % 1000:03d}Z" if ms % 1000 else f"{moment}Z"


def parse_time(value: str) -> int | None:
    """Epoch milliseconds from an epoch-ms or ISO-8601 string; None when it is neither."""
    text = value.strip()
    if EPOCH_MS.match(text):
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def as_text(value: Any) -> str | None:
    """What a JSON value becomes as a property value (numbers and booleans as strings)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def problem(name: str, error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name, **extra}


def normalize(
    prop: dict[str, Any], value: str, object_type_id: str, portal_id: int
) -> tuple[str | None, dict[str, Any] | None]:
    """(stored value, None) or (None, the problem). "" always clears."""
    name, kind = prop["name"], prop["type"]
    if value == "":
        return "", None
    if kind != "string" and value != value.strip():
        # Since 2025-04 non-string values with surrounding whitespace are refused (reference A8).
        return None, problem(
            name, "INVALID_PROPERTY_VALUE", f"{value} has leading or trailing whitespace"
        )
    if kind in ("datetime", "date"):
        ms = parse_time(value)
        if ms is None:
            return None, problem(
                name,
                "INVALID_LONG",
                f"{value} was not a valid long. Portal {portal_id}, object type {object_type_id}",
            )
        if kind == "date" and ms % 86_400_000:
            return None, problem(
                name, "INVALID_DATE", f"{value} is not at midnight UTC, as a date must be"
            )
        return (instant(ms) if kind == "datetime" else instant(ms)[:10]), None
    if kind == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None, problem(name, "INVALID_INTEGER", f"{value} was not a valid number.")
        if not number.is_finite():
            return None, problem(name, "INVALID_INTEGER", f"{value} was not a valid number.")
        return value, None
    if kind == "bool":
        if value.lower() not in ("true", "false"):
            return None, problem(name, "INVALID_BOOLEAN", f"{value} was not a valid boolean.")
        return value.lower(), None
    if name == "email" or prop.get("fieldType") == "email":
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            return None, problem(name, "INVALID_EMAIL", f"Email address {value} is invalid")
        return value.lower(), None
    return value, None


def check_options(prop: dict[str, Any], value: str, allowed: list[str]) -> dict[str, Any] | None:
    """An enumeration value must be an option's `value` (each part, for multi-select)."""
    if value == "":
        return None
    parts = value.split(";") if prop.get("fieldType") == "checkbox" else [value]
    for part in parts:
        if part not in allowed:
            listing = ", ".join(allowed)
            message = f"{part} was not one of the allowed options: [{listing}]"
            return problem(
                prop["name"],
                "INVALID_OPTION",
                message,
                localizedErrorMessage=f"{part} was not one of the allowed options: [{listing}]",
            )
    return None
