"""A remote object's fields as the lint and the checks before sending need them: the canonical
form of Salesforce's describe, HubSpot's properties, Apollo's fields (each connector converts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldSchema:
    name: str
    type: str = "string"  # string, email, picklist, multipicklist, reference, boolean, number, …
    label: str = ""
    createable: bool = True
    updateable: bool = True
    required_on_create: bool = False
    length: int | None = None
    options: tuple[str, ...] = ()  # the active values of a picklist / enumeration
    restricted: bool = False  # only `options` are accepted

    @property
    def writable(self) -> bool:
        return self.createable or self.updateable


@dataclass(frozen=True)
class ObjectSchema:
    name: str
    fields: Mapping[str, FieldSchema] = field(default_factory=dict)

    def field(self, name: str) -> FieldSchema | None:
        found = self.fields.get(name)
        if found is None:
            lower = name.lower()
            found = next((f for n, f in self.fields.items() if n.lower() == lower), None)
        return found
