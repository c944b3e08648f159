"""The values DML speaks in: SaveResult, Salesforce's error dicts, and admin-made rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SaveResult:
    id: str | None
    success: bool
    errors: list[dict[str, Any]] = field(default_factory=list)
    created: bool = False

    def body(self, with_created: bool = False) -> dict[str, Any]:
        # Collections carry statusCode/message/fields only (no duplicateResult).
        errors = [{k: v for k, v in e.items() if k != "duplicateResult"} for e in self.errors]
        out: dict[str, Any] = {"id": self.id, "success": self.success, "errors": errors}
        if with_created:
            out["created"] = self.created
        return out


@dataclass
class ValidationRule:
    """An admin's rule: when `fails(row)` is true the save is refused with `message`."""

    name: str
    fails: Callable[[dict[str, Any]], bool]
    message: str
    field: str | None = None


@dataclass
class DuplicateRule:
    """Matches on the listed fields (case-insensitive, all must be equal and non-empty);
    `block` refuses the save, an alert can be saved past with the allowSave header."""

    name: str
    match_fields: tuple[str, ...]
    block: bool = False
    message: str = (
        "You're creating a duplicate record. We recommend you use an existing record instead."
    )


def err(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"statusCode": code, "message": message, "fields": fields or []}


class DmlError(Exception):
    def __init__(self, *errors: dict[str, Any]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = list(errors)
