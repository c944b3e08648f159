"""A Salesforce describe as the canonical object schema (policy.schema)."""

from __future__ import annotations

from typing import Any

from leadbridge.connectors.salesforce.describe import required_on_create
from leadbridge.policy.schema import FieldSchema, ObjectSchema


def object_schema(describe: dict[str, Any]) -> ObjectSchema:
    required = set(required_on_create(describe))
    fields = {}
    for f in describe["fields"]:
        name = f["name"]
        if name == "Id":
            continue  # the record's key, never a value
        fields[name] = FieldSchema(
            name=name,
            type=f.get("type", "string"),
            label=f.get("label", ""),
            createable=bool(f.get("createable")),
            updateable=bool(f.get("updateable")),
            required_on_create=name in required,
            length=f.get("length") or None,
            options=tuple(
                p["value"] for p in f.get("picklistValues") or [] if p.get("active", True)
            ),
            restricted=bool(f.get("restrictedPicklist")),
        )
    return ObjectSchema(str(describe.get("name", "")), fields)
