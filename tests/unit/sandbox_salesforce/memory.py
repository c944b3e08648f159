"""A minimal in-memory RecordSource (describe + rows only) over the recorded describes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from leadbridge.sandbox.salesforce import schema
from leadbridge.sandbox.salesforce.ids import make_id

PREFIX = {"Lead": "00Q", "Contact": "003", "Account": "001", "User": "005"}
T0 = datetime(2024, 1, 1, tzinfo=UTC)


class MemorySource:
    def __init__(self, *objects: str) -> None:
        self.describes = {o: schema.base_describe(o) for o in objects}
        self.records: dict[str, list[dict[str, Any]]] = {o: [] for o in objects}
        self.counter = 0
        self.ids: dict[str, str] = {}  # names a test gives to records it wants to find again

    def describe(self, sobject: str) -> dict[str, Any]:
        for name, d in self.describes.items():
            if name.lower() == sobject.lower():
                return d
        raise KeyError(sobject)

    def rows(self, sobject: str) -> Iterable[dict[str, Any]]:
        return list(self.records[self.describe(sobject)["name"]])

    def add(self, sobject: str, **values: Any) -> str:
        self.counter += 1
        row: dict[str, Any] = {f["name"]: None for f in self.describes[sobject]["fields"]}
        row.update({"Id": make_id(PREFIX[sobject], self.counter), "IsDeleted": False})
        row.update({"CreatedDate": T0, **values})
        self.records[sobject].append(row)
        return str(row["Id"])
