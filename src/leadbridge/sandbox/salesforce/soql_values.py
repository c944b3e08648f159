"""Values as SOQL meets them: literal decoding (escapes, LIKE patterns, ids), relative date
ranges, ordering keys, and the REST API's serialisation of stored values."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadbridge.sandbox.salesforce.soql_ast import SoqlError

NUMERIC = frozenset({"int", "long", "double", "currency", "percent"})
TEXT = frozenset(
    {
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)
IDS = frozenset({"id", "reference"})
ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


def parse_datetime(value: str) -> datetime:
    """ISO-8601 with Z, +hh:mm or +hhmm (Salesforce's own output) -> an aware UTC datetime."""
    text = value.strip().replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_value(kind: str, value: Any) -> Any:
    """A stored value as the REST API serialises it (datetimes 2024-01-01T12:00:00.000+0000)."""
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return value


def decode_string(raw: str, *, like: bool = False) -> str | re.Pattern[str]:
    """A quoted literal's text -> its value; under LIKE a case-insensitive whole-value pattern
    where % and _ are wildcards and \\% \\_ are literal (those two escapes only exist there)."""
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1 : i + 2]
            if nxt.lower() in ESCAPES:
                lit = ESCAPES[nxt.lower()] if nxt not in ('"', "'", "\\") else nxt
                out.append(re.escape(lit) if like else lit)
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
                lit = chr(int(body[i + 2 : i + 6], 16))
                out.append(re.escape(lit) if like else lit)
                i += 6
                continue
            if like and nxt in ("%", "_"):
                out.append(re.escape(nxt))
                i += 2
                continue
            raise SoqlError(
                "MALFORMED_QUERY",
                f"Invalid string literal {raw}. Illegal character sequence '\\{nxt}' in string "
                "literal.",
            )
        if like and ch in "%_":
            out.append(".*" if ch == "%" else ".")
        else:
            out.append(re.escape(ch) if like else ch)
        i += 1
    text = "".join(out)
    return re.compile(text, re.I | re.S) if like else text


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def day_range(literal: str, today: date) -> tuple[date, date]:
    """A relative date literal as [first day, day after the last) for a user whose week starts
    on Sunday (en_US). LAST_N_DAYS:n includes today; NEXT_N_DAYS:n starts tomorrow."""
    word, _, n_text = literal.upper().partition(":")
    n = int(n_text or 0)
    if word in ("LAST_90_DAYS", "NEXT_90_DAYS"):
        word, n = word.replace("90", "N"), 90
    one = timedelta(days=1)
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    month = today.replace(day=1)
    year = date(today.year, 1, 1)
    ranges = {
        "TODAY": (today, today + one),
        "YESTERDAY": (today - one, today),
        "TOMORROW": (today + one, today + 2 * one),
        "LAST_N_DAYS": (today - n * one, today + one),
        "NEXT_N_DAYS": (today + one, today + (n + 1) * one),
        "THIS_WEEK": (week, week + 7 * one),
        "LAST_WEEK": (week - 7 * one, week),
        "NEXT_WEEK": (week + 7 * one, week + 14 * one),
        "LAST_N_WEEKS": (week - 7 * n * one, week),
        "NEXT_N_WEEKS": (week + 7 * one, week + 7 * (n + 1) * one),
        "THIS_MONTH": (month, add_months(month, 1)),
        "LAST_MONTH": (add_months(month, -1), month),
        "NEXT_MONTH": (add_months(month, 1), add_months(month, 2)),
        "LAST_N_MONTHS": (add_months(month, -n), month),
        "NEXT_N_MONTHS": (add_months(month, 1), add_months(month, n + 1)),
        "THIS_YEAR": (year, year.replace(year=year.year + 1)),
        "LAST_YEAR": (year.replace(year=year.year - 1), year),
        "NEXT_YEAR": (year.replace(year=year.year + 1), year.replace(year=year.year + 2)),
        "LAST_N_YEARS": (year.replace(year=year.year - n), year),
        "NEXT_N_YEARS": (year.replace(year=year.year + 1), year.replace(year=year.year + n + 1)),
    }
    return ranges[word]


def as_instants(span: tuple[date, date]) -> tuple[datetime, datetime]:
    return (
        datetime.combine(span[0], datetime.min.time(), UTC),
        datetime.combine(span[1], datetime.min.time(), UTC),
    )


def key(value: Any) -> Any:
    """What equality and ordering compare: text case-insensitively, numbers as numbers."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def stored(kind: str, value: Any) -> Any:
    """A row's value in the type SOQL compares it as (a source may hold ISO strings)."""
    if not isinstance(value, str) or value == "":
        return None if value == "" else value
    if kind == "datetime":
        return parse_datetime(value)
    if kind == "date":
        return date.fromisoformat(value[:10])
    return value
