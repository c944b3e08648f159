"""Pure helpers that read Apollo request parameters the way a Rails API does.

Scalars are coerced to strings (Rails params are strings), booleans accept true/false/1/0 in
any spelling, and anything that cannot be read becomes a clear 422 instead of a traceback.
"""

from __future__ import annotations

import re
from typing import Any

from leadbridge.sandbox.apollo.errors import error

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")

# The account attributes create/update accept (reference B3, and bulk_create's item schema).
STRING_FIELDS = (
    "name",
    "domain",
    "owner_id",
    "account_stage_id",
    "phone",
    "raw_address",
    "linkedin_url",
    "facebook_url",
    "twitter_url",
    "salesforce_id",
    "hubspot_id",
    "organization_id",
    "parent_account_id",
)
ACCOUNT_FIELDS = (*STRING_FIELDS, "merged_crm_ids", "typed_custom_fields")
# bulk_update's documented per-account attributes: no domain among them, so a domain sent
# there is dropped as Rails drops unpermitted params (the answer shows it unchanged).
BULK_UPDATE_FIELDS = ("name", "owner_id", "account_stage_id", "typed_custom_fields")
SHARED_UPDATE_FIELDS = ("name", "owner_id", "account_stage_id")


def is_object_id(value: Any) -> bool:
    return isinstance(value, str) and bool(OBJECT_ID.match(value))


def domain_of(raw: Any) -> str | None:
    """Apollo keeps domains bare: no scheme, no `www.`, no path or port, lower case."""
    if raw is None:
        return None
    text = str(raw).strip().lower()
    for prefix in ("https://", "http://", "//"):
        text = text.removeprefix(prefix)
    text = text.split("/")[0].split("?")[0].split("#")[0].split(":")[0].rstrip(".")
    text = text.removeprefix("www.")
    return text or None


def as_bool(value: Any, name: str, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise error(422, f"Parameters misconfigured. {name} must be true or false.")


def as_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bool, dict, list)):
        raise error(422, f"Parameters misconfigured. {name} must be a string.")
    return str(value)


def as_list(value: Any, name: str) -> list[str]:
    """An array parameter; a single scalar is read as a one-item array, as Rails does."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    return [text for item in items if (text := as_text(item, name)) is not None]


def as_int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise error(422, f"Parameters misconfigured. {name} must be a number.") from exc


def paging(
    params: dict[str, Any], per_page_max: int, default_per_page: int = 25
) -> tuple[int, int]:
    """1-based page; per_page clamped to Apollo's maximum (100)."""
    page = max(1, as_int(params.get("page"), "page", 1))
    per_page = as_int(params.get("per_page"), "per_page", default_per_page)
    return page, min(per_page_max, max(1, per_page))


def account_input(raw: Any, allowed: tuple[str, ...] = ACCOUNT_FIELDS) -> dict[str, Any]:
    """The account attributes of one request item, checked for type; other keys are dropped."""
    if not isinstance(raw, dict):
        raise error(422, "Parameters misconfigured. Each account must be an object.")
    out: dict[str, Any] = {}
    for key in allowed:
        if key not in raw:
            continue
        if key == "merged_crm_ids":
            out[key] = as_list(raw[key], key)
        elif key == "typed_custom_fields":
            custom = raw[key] if raw[key] is not None else {}
            if not isinstance(custom, dict):
                raise error(
                    422,
                    "Parameters misconfigured. typed_custom_fields must be an object of field ids.",
                )
            out[key] = dict(custom)
        else:
            out[key] = as_text(raw[key], key)
    if "domain" in out:
        out["domain"] = domain_of(out["domain"])
    return out


def sanitized_phone(phone: str | None) -> str | None:
    """Apollo's sanitised form: +digits, US numbers without a country code get +1."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        return None
    if not phone.strip().startswith("+") and len(digits) == 10:
        digits = "1" + digits
    return "+" + digits
