"""HubSpot's Properties API as the canonical object schema (policy.schema), and the checks
HubSpot's own rules add before a value is sent (connectors.validate does the common ones).

- Read-only values (`modificationMetadata.readOnlyValue`) and calculated properties are not
  writable: HubSpot refuses them (READ_ONLY_VALUE).
- An enumeration accepts only its options' internal `value`s (hidden ones too); a `checkbox`
  takes several, `;`-separated. Options that live elsewhere (`externalOptions`: the owner, deal
  stages) are not listed, except the owner's: the portal's active owners, read once.
- Every value travels as a string; a number, boolean or date that does not parse, or that
  carries surrounding whitespace (refused since 2025-04), fails here instead of failing its
  batch; a contact needs an e-mail, first or last name and a company a name or a domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from leadbridge.connectors.errors import PermanentError
from leadbridge.connectors.hubspot.client import HINTS
from leadbridge.policy.schema import FieldSchema, ObjectSchema

TYPES = {
    "string": "string",
    "enumeration": "enumeration",
    "number": "number",
    "bool": "boolean",
    "date": "date",
    "datetime": "datetime",
    "phone_number": "phone",
}
OWNER = "hubspot_owner_id"
ONE_OF = {"contacts": ("email", "firstname", "lastname"), "companies": ("name", "domain")}
SINGULAR = {"contacts": "contact", "companies": "company"}


def read_only(prop: Mapping[str, Any]) -> bool:
    meta = prop.get("modificationMetadata") or {}
    return bool(meta.get("readOnlyValue") or prop.get("calculated"))


def object_schema(
    object_type: str, properties: list[dict[str, Any]], owners: tuple[str, ...] = ()
) -> ObjectSchema:
    fields: dict[str, FieldSchema] = {}
    for prop in properties:
        name = str(prop["name"])
        kind = TYPES.get(str(prop.get("type")), "string")
        if name == "email" or prop.get("fieldType") == "email":
            kind = "email"
        elif kind == "enumeration" and prop.get("fieldType") == "checkbox":
            kind = "multipicklist"  # `;`-separated values, as validate splits them
        options = tuple(str(o["value"]) for o in prop.get("options") or [] if o.get("value"))
        if name == OWNER:
            options = owners
        writable = not read_only(prop)
        fields[name] = FieldSchema(
            name=name,
            type=kind,
            label=str(prop.get("label") or ""),
            createable=writable,
            updateable=writable,
            options=options,
            restricted=bool(options) and kind in ("enumeration", "multipicklist"),
        )
    return ObjectSchema(object_type, fields)


def owners_schema() -> ObjectSchema:
    """Owners are read-only: users of the portal, deactivated ones archived."""
    names = ("email", "firstName", "lastName", "active", "userId")
    return ObjectSchema(
        "owners",
        {
            n: FieldSchema(n, "boolean" if n == "active" else "string", n, False, False)
            for n in names
        },
    )


def value_problems(
    schema: ObjectSchema, values: Mapping[str, Any], op: str
) -> list[PermanentError]:
    """HubSpot's own rules beyond connectors.validate (see the module docstring)."""
    found: list[PermanentError] = []
    for key, value in values.items():
        f = schema.field(key)
        if f is None or value is None or value == "" or f.type in ("string", "email"):
            continue
        text = str(value)
        if not isinstance(value, bool) and text != text.strip():
            found.append(_bad(schema, f, text, "INVALID_PROPERTY_VALUE", "surrounding whitespace"))
        elif f.type == "number" and not _number(text):
            found.append(_bad(schema, f, text, "INVALID_INTEGER", "not a number"))
        elif f.type == "boolean" and text.lower() not in ("true", "false"):
            found.append(_bad(schema, f, text, "INVALID_BOOLEAN", "not true or false"))
        elif f.type in ("date", "datetime") and not _instant(value):
            found.append(_bad(schema, f, text, "INVALID_LONG", "not a date"))
    need = ONE_OF.get(schema.name)
    if op in ("create", "upsert") and need and not any(values.get(n) for n in need):
        found.append(
            PermanentError(
                f"a {SINGULAR[schema.name]} needs at least one of {', '.join(need)} to be created",
                field=need[0],
                code="REQUIRED_FIELD_MISSING",
                hint=HINTS["REQUIRED_FIELD_MISSING"],
            )
        )
    return found


def _bad(schema: ObjectSchema, f: FieldSchema, text: str, code: str, why: str) -> PermanentError:
    return PermanentError(
        f"{schema.name}.{f.name}: {text!r} is {why}", field=f.name, code=code, hint=HINTS[code]
    )


def _number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def _instant(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    text = str(value)
    if text.lstrip("-").isdigit():
        return True  # epoch milliseconds
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
