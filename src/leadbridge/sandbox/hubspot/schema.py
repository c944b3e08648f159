"""The portal's property definitions: the recorded default schemas plus custom properties.

Contacts come verbatim from the recorded `GET /crm/v3/properties/contacts` (354 properties);
companies and deals from the recorded legacy lists, converted to the v3 shape (names, types,
fieldTypes, options and read-only flags carry over; timestamps become ISO). Companies and deals
also get the `hs_object_source*` properties the 2024 recordings fill on every create (the 2022
lists predate them), defined as the contacts' ones. Engagements are in
`engagement_properties.py`. Not thread-safe on its own: the portal calls it under its lock.
"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

from leadbridge.sandbox.hubspot import engagement_properties
from leadbridge.sandbox.hubspot.errors import Reply, error, validation
from leadbridge.sandbox.hubspot.objects import TYPES
from leadbridge.sandbox.hubspot.values import iso_ms

KINDS = {
    "bool": {"booleancheckbox", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "number": {"number", "calculation_equation"},
    "phone_number": {"phonenumber"},
    "string": {"file", "text", "textarea", "html", "phonenumber", "calculation_equation"},
}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SOURCE_PROPS = ("hs_object_source", "hs_object_source_id", "hs_object_source_label")
GROUPS = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
}


def _load(name: str) -> Any:
    data = resources.files("leadbridge.sandbox.hubspot").joinpath("data").joinpath(name).read_text()
    return json.loads(data)


def from_v1(p: dict[str, Any]) -> dict[str, Any]:
    """A legacy (v1) property definition in the v3 shape."""
    out: dict[str, Any] = {}
    for key in ("updatedAt", "createdAt"):
        if p.get(key) is not None:
            out[key] = iso_ms(int(p[key]))
    for key in ("name", "label", "type", "fieldType", "description", "groupName"):
        out[key] = p.get(key) or ""
    out["options"] = [
        {k: o[k] for k in ("label", "value", "displayOrder", "hidden") if k in o}
        for o in p.get("options") or []
    ]
    if p.get("referencedObjectType"):
        out["referencedObjectType"] = p["referencedObjectType"]
    for key in ("displayOrder", "calculated", "externalOptions", "hasUniqueValue", "hidden"):
        out[key] = p.get(key) if p.get(key) is not None else False
    if p.get("showCurrencySymbol") is not None:
        out["showCurrencySymbol"] = p["showCurrencySymbol"]
    out["hubspotDefined"] = bool(p.get("hubspotDefined"))
    out["modificationMetadata"] = {
        "archivable": not p.get("mutableDefinitionNotDeletable", False),
        "readOnlyDefinition": bool(p.get("readOnlyDefinition")),
        "readOnlyValue": bool(p.get("readOnlyValue")),
    }
    out["formField"] = bool(p.get("formField"))
    out["dataSensitivity"] = "non_sensitive"
    return out


def default_properties() -> dict[str, dict[str, dict[str, Any]]]:
    contacts = _load("contacts.v3.json")["results"]
    by_type: dict[str, list[dict[str, Any]]] = {
        "contacts": contacts,
        "companies": [from_v1(p) for p in _load("companies.v1.json")],
        "deals": [from_v1(p) for p in _load("deals.v1.json")],
    }
    sources = [p for p in contacts if p["name"] in SOURCE_PROPS]
    for name in ("companies", "deals"):
        known = {p["name"] for p in by_type[name]}
        for source in sources:
            if source["name"] not in known:
                by_type[name].append({**copy.deepcopy(source), "groupName": GROUPS[name]})
    for name, kind in TYPES.items():
        if kind.engagement:
            by_type[name] = engagement_properties.definitions(name, f"{kind.singular}information")
    return {name: {p["name"]: p for p in props} for name, props in by_type.items()}


def read_only(prop: dict[str, Any]) -> bool:
    meta = prop.get("modificationMetadata") or {}
    return bool(meta.get("readOnlyValue") or prop.get("calculated"))


class Schema:
    def __init__(self) -> None:
        self.props = default_properties()
        self.archived: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in TYPES}
        self._unique: dict[str, set[str]] = {}
        self.groups: dict[str, dict[str, dict[str, Any]]] = {
            name: {
                group: {"name": group, "label": group.replace("_", " ").title(),
                        "displayOrder": -1, "archived": False}
                for group in sorted({p["groupName"] for p in props.values()})
            }
            for name, props in self.props.items()
        }  # fmt: skip

    def get(self, object_name: str, name: str) -> dict[str, Any] | None:
        return self.props[object_name].get(name)

    def all(self, object_name: str, archived: bool = False) -> list[dict[str, Any]]:
        source = self.archived if archived else self.props
        return [copy.deepcopy(p) for p in source[object_name].values()]

    def unique(self, object_name: str) -> set[str]:
        """Asked several times for every record written: kept until a property is added or
        archived (the only changes of `hasUniqueValue`)."""
        found = self._unique.get(object_name)
        if found is None:
            found = {n for n, p in self.props[object_name].items() if p.get("hasUniqueValue")}
            self._unique[object_name] = found
        return found

    # --- custom properties (reference A8) --------------------------------------------------------

    def create(self, object_name: str, body: dict[str, Any], now_ms: int, user: str) -> dict:
        name = str(body.get("name") or "")
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)
        ]
        if missing:
            raise validation(f"Missing required fields: {', '.join(missing)}")
        if not NAME.match(name):
            raise validation(
                f"Property name {name} is invalid: use lower-case letters, digits and _, "
                "starting with a letter"
            )
        if name in self.props[object_name]:
            raise error(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        kind, field = str(body["type"]), str(body["fieldType"])
        if kind not in KINDS or field not in KINDS[kind]:
            raise validation(f"fieldType {field} is not valid for a property of type {kind}")
        if body["groupName"] not in self.groups[object_name]:
            raise validation(f"Property group {body['groupName']} does not exist")
        options = self._options(kind, body.get("options"))
        stamp = iso_ms(now_ms)
        prop: dict[str, Any] = {
            "updatedAt": stamp,
            "createdAt": stamp,
            "name": name,
            "label": str(body["label"]),
            "type": kind,
            "fieldType": field,
            "description": str(body.get("description") or ""),
            "groupName": str(body["groupName"]),
            "options": options,
            "createdUserId": user,
            "updatedUserId": user,
            "displayOrder": int(body.get("displayOrder", -1)),
            "calculated": False,
            "externalOptions": False,
            "archived": False,
            "hasUniqueValue": bool(body.get("hasUniqueValue", False)),
            "hidden": bool(body.get("hidden", False)),
            "modificationMetadata": {
                "archivable": True,
                "readOnlyDefinition": False,
                "readOnlyValue": False,
            },
            "formField": bool(body.get("formField", False)),
            "dataSensitivity": "non_sensitive",
        }
        self.props[object_name][name] = prop
        self._unique.pop(object_name, None)
        return copy.deepcopy(prop)

    def update(
        self, object_name: str, name: str, body: dict[str, Any], now_ms: int, user: str
    ) -> dict[str, Any]:
        prop = self.props[object_name].get(name)
        if prop is None:
            raise property_not_found(name)
        meta = prop.get("modificationMetadata") or {}
        if prop.get("hubspotDefined") and meta.get("readOnlyDefinition", True):
            editable = {"label", "description", "hidden", "displayOrder", "formField"}
            if meta.get("readOnlyOptions") is False:
                editable.add("options")
            refused = sorted(set(body) - editable)
            if refused:
                raise validation(
                    f"Property {name} is a HubSpot-defined property; {', '.join(refused)} "
                    "cannot be changed"
                )
        if "type" in body or "fieldType" in body:
            kind = str(body.get("type", prop["type"]))
            field = str(body.get("fieldType", prop["fieldType"]))
            if kind not in KINDS or field not in KINDS[kind]:
                raise validation(f"fieldType {field} is not valid for a property of type {kind}")
            prop["type"], prop["fieldType"] = kind, field
        if "options" in body:
            prop["options"] = self._options(prop["type"], body["options"])
        for key in ("label", "description", "groupName", "hidden", "displayOrder", "formField"):
            if key in body:
                prop[key] = body[key]
        prop["updatedAt"] = iso_ms(now_ms)
        if not prop.get("hubspotDefined"):
            prop["updatedUserId"] = user
        return copy.deepcopy(prop)

    def archive(self, object_name: str, name: str, now_ms: int) -> None:
        prop = self.props[object_name].get(name)
        if prop is None:
            raise property_not_found(name)
        if prop.get("hubspotDefined"):
            raise validation(
                f"Property {name} is a HubSpot-defined property and cannot be archived"
            )
        del self.props[object_name][name]
        self._unique.pop(object_name, None)
        prop.update(archived=True, archivedAt=iso_ms(now_ms))
        self.archived[object_name][name] = prop

    def _options(self, kind: str, raw: Any) -> list[dict[str, Any]]:
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise validation("options must be a list")
        options = []
        for i, option in enumerate(raw):
            if not isinstance(option, dict) or not option.get("value") or not option.get("label"):
                raise validation("every option needs a label and a value")
            options.append(
                {
                    "label": str(option["label"]),
                    "value": str(option["value"]),
                    "displayOrder": int(option.get("displayOrder", i)),
                    "hidden": bool(option.get("hidden", False)),
                    **({"description": option["description"]} if "description" in option else {}),
                }
            )
        if kind == "enumeration" and not options:
            raise validation("An enumeration property needs at least one option")
        values = [o["value"] for o in options]
        if len(values) != len(set(values)):
            raise validation("Option values must be unique")
        return options


def property_not_found(name: str) -> Reply:
    reply = error(404, f"Property {name} does not exist", "OBJECT_NOT_FOUND")
    return reply
