"""The portal's lists (segments) and their members, as lists_api.py serves them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECT_TYPES = {"0-1": "contacts", "0-2": "companies", "0-3": "deals"}


@dataclass
class Lists:
    """The portal's lists and their members (record ids)."""

    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    next_id: int = 1

    def by_name(self, object_type: str, name: str) -> dict[str, Any] | None:
        wanted = name.strip().lower()
        return next(
            (
                lst
                for lst in self.lists.values()
                if lst["objectTypeId"] == object_type and lst["name"].lower() == wanted
            ),
            None,
        )

    def create(self, name: str, object_type: str, processing: str, now_ms: int) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(now_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
        list_id = str(self.next_id)
        self.next_id += 1
        self.lists[list_id] = {
            "listId": list_id,
            "listVersion": 1,
            "name": name,
            "objectTypeId": object_type,
            "processingStatus": "COMPLETE",
            "processingType": processing,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        self.members[list_id] = []
        return self.view(list_id)

    def view(self, list_id: str) -> dict[str, Any]:
        return {**self.lists[list_id], "size": len(self.members[list_id])}
