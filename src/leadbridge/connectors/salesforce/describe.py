"""Pure readings of a Salesforce describe, shared by the connector and the sandbox."""

from __future__ import annotations

from typing import Any


def required_on_create(describe: dict[str, Any]) -> list[str]:
    """Salesforce's rule: not nillable, createable, not defaulted on create (booleans always
    have a value)."""
    return [
        f["name"]
        for f in describe["fields"]
        if not f["nillable"]
        and f["createable"]
        and not f["defaultedOnCreate"]
        and f["type"] != "boolean"
    ]
