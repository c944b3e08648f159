"""Turning CSV cells into hub values, or into a reason the row is refused.

Every check the database would make is made here first (lengths, integer range, allowed
values), so a bad cell is a bad row with its reason, never a failed transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import String

from leadbridge.hub.icp_values import ICP_SYNONYMS, icp_help
from leadbridge.hub.tables import QUARANTINE, Base, Company, Person
from leadbridge.hub.tags import parse_tags
from leadbridge.normalize import normalize_domain, normalize_email
from leadbridge.normalize.email import InvalidEmail

TRUE = frozenset({"true", "yes", "y", "1", "t", "x"})
FALSE = frozenset({"false", "no", "n", "0", "f", ""})
# The hub's integer columns are PostgreSQL `integer` (32-bit): larger values fail at commit.
MAX_INTEGER = 2**31 - 1
_COUNT = re.compile(r"^\d{1,3}([,\u00a0 ]\d{3})+$|^\d+$")

_ICP = {name: fit for fit, names in ICP_SYNONYMS.items() for name in names}


def icp_fit(cell: str) -> str:
    key = re.sub(r"[\s_]+", " ", cell.strip().lower())
    fit = _ICP.get(key)
    if fit is None:
        raise ValueError(f"ICP fit {cell!r} is not one of: {icp_help()}")
    return fit


def boolean(cell: str, column: str) -> bool:
    value = cell.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(f"{column} must be true or false (yes/no, 1/0), got {cell!r}")


def whole_number(cell: str, column: str) -> int | None:
    """A non-negative count as spreadsheets write it ("1200", "1,200"); None when blank."""
    text = cell.strip()
    if not text:
        return None
    if not _COUNT.match(text):
        raise ValueError(f"{column} must be a whole number, got {_short(cell)}")
    value = int(re.sub(r"\D", "", text))
    if value > MAX_INTEGER:
        raise ValueError(f"{column} must be at most {MAX_INTEGER:,}, got {_short(cell)}")
    return value


def text(value: str, table: type[Base], column: str, label: str | None = None) -> str | None:
    """A text cell checked against its column's length; None when blank."""
    if not value:
        return None
    limit = max_length(table, column)
    if limit is not None and len(value) > limit:
        raise ValueError(f"{label or column} is {len(value):,} characters long (at most {limit:,})")
    return value


def max_length(table: type[Base], column: str) -> int | None:
    """The declared length of a String column (the tables are the one source of truth)."""
    kind = table.__table__.c[column].type
    return kind.length if isinstance(kind, String) else None


def _short(cell: str) -> str:
    return repr(cell if len(cell) <= 40 else cell[:40] + "…")


QUARANTINE_WORDS = {"true": "quarantined", "yes": "quarantined", "false": "active", "no": "active"}
EMAIL_STATUS_WORDS = {
    "verified": "verified",
    "valid": "verified",
    "true": "verified",
    "yes": "verified",
    "unverified": "unverified",
    "": "unverified",
    "unknown": "unverified",
    "false": "unverified",
    "no": "unverified",
}


def owner_id(raw: str, owners: Callable[[str], int | None]) -> int | None:
    if not raw:
        return None
    found = owners(raw)
    if found is None:
        raise ValueError(f"owner {raw[:80]!r} is not a hub user (import users first)")
    return found


def company_field(
    name: str, raw: str, owners: Callable[[str], int | None], stages: Iterable[str]
) -> dict[str, Any]:
    """One company field from its text (a CSV cell, an `edit` argument) as hub values."""
    if name == "domain":
        domain = normalize_domain(raw)
        if not domain:
            raise ValueError(f"missing or invalid domain ({raw[:80]!r})")
        return {"domain": text(domain, Company, "domain")}
    if name in ("name", "website", "industry", "account_stage"):
        return {name: text(raw, Company, name)}
    if name == "employee_count":
        return {name: whole_number(raw, "employee count")}
    if name == "icp_fit":
        return {name: icp_fit(raw)}
    if name == "stage":
        stage = raw.lower().replace(" ", "_") or None
        allowed = [*stages, "customer", "not_a_fit"]
        if stage is not None and stage not in allowed:
            raise ValueError(f"stage must be one of {', '.join(allowed)}, got {stage[:80]!r}")
        return {name: stage}
    if name == "is_customer":
        return {name: boolean(raw, "customer")}
    if name == "is_lead":  # blank: a lead (the default for imported companies)
        return {name: boolean(raw or "true", "lead")}
    if name == "quarantine":
        q = raw.lower() or "active"
        q = QUARANTINE_WORDS.get(q, q)
        if q not in QUARANTINE:
            raise ValueError(f"quarantine must be active or quarantined, got {q[:80]!r}")
        return {name: q}
    if name == "owner":
        return {"owner_id": owner_id(raw, owners)}
    if name.startswith("custom."):
        return {name: raw or None}
    raise ValueError(f"unknown company field {name!r} (known: {', '.join(COMPANY_EDITABLE)})")


def person_field(name: str, raw: str, owners: Callable[[str], int | None]) -> dict[str, Any]:
    """One person field from its text as hub values (the company is the caller's: it may
    have to be found or made)."""
    if name == "email":
        try:
            email = normalize_email(raw) if raw else None
        except InvalidEmail as exc:
            raise ValueError(str(exc)[:200]) from None
        return {"email": text(email or "", Person, "email", "e-mail")}
    if name == "email_status":
        status = EMAIL_STATUS_WORDS.get(raw.strip().lower())
        if status is None:
            raise ValueError(f"e-mail status must be verified or unverified, got {raw[:40]!r}")
        return {name: status}
    if name in ("first_name", "last_name", "title", "phone", "mobile_phone", "stage",
                "lead_status", "source"):  # fmt: skip
        return {name: text(raw, Person, name, name.replace("_", " "))}
    if name == "owner":
        return {"owner_id": owner_id(raw, owners)}
    if name == "tags":
        return {"tags": parse_tags(raw)}
    if name.startswith("custom."):
        return {name: raw or None}
    raise ValueError(f"unknown person field {name!r} (known: {', '.join(PERSON_EDITABLE)})")


COMPANY_EDITABLE = (
    "name", "domain", "website", "industry", "employee_count", "icp_fit", "stage",
    "account_stage", "is_customer", "is_lead", "quarantine", "owner", "custom.<name>",
)  # fmt: skip
PERSON_EDITABLE = (
    "first_name", "last_name", "email", "email_status", "title", "phone", "mobile_phone",
    "company", "stage", "lead_status", "owner", "source", "tags", "custom.<name>",
)  # fmt: skip
