"""Turning CSV cells into hub values, or into a reason the row is refused.

Every check the database would make is made here first (lengths, integer range, allowed
values), so a bad cell is a bad row with its reason, never a failed transaction.
"""

from __future__ import annotations

import re

from sqlalchemy import String

from leadbridge.hub.tables import Base

TRUE = frozenset({"true", "yes", "y", "1", "t", "x"})
FALSE = frozenset({"false", "no", "n", "0", "f", ""})
# The hub's integer columns are PostgreSQL `integer` (32-bit): larger values fail at commit.
MAX_INTEGER = 2**31 - 1
_COUNT = re.compile(r"^\d{1,3}([,\u00a0 ]\d{3})+$|^\d+$")

# What people write in an ICP column, mapped to the hub's four values. A fit whose strength
# is not stated ("fit", "yes", "good fit" on a fit / no-fit scale) is moderate: it qualifies,
# without claiming more. The bottom of any scale (weak, low, poor, none) is not_a_fit, since
# the hub has no level between moderate and not a fit.
ICP_SYNONYMS: dict[str, tuple[str, ...]] = {
    "strong": ("strong", "strong fit", "high", "high fit", "excellent", "great", "ideal", "best"),
    "moderate": (
        "moderate",
        "medium",
        "mid",
        "average",
        "fair",
        "ok",
        "okay",
        "partial",
        "fit",
        "good",
        "good fit",
        "yes",
    ),
    "not_a_fit": (
        "not a fit",
        "no fit",
        "not fit",
        "bad fit",
        "poor fit",
        "weak",
        "low",
        "poor",
        "bad",
        "none",
        "no",
    ),
    "unknown": ("unknown", "", "n/a", "na", "tbd", "?", "-"),
}
_ICP = {name: fit for fit, names in ICP_SYNONYMS.items() for name in names}


def icp_help() -> str:
    """The accepted ICP values, for messages and help text."""
    parts = []
    for fit, names in ICP_SYNONYMS.items():
        others = [n for n in names if n and n != fit and n != fit.replace("_", " ")]
        parts.append(f"{fit} ({', '.join(others)})" if others else fit)
    return "; ".join(parts) + "; blank is unknown"


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
