"""One HubSpot portal in memory: records of every object type, owners, pipelines, properties,
associations, and the rules that writes go through.

Guarded by one re-entrant lock (the app serves on a server thread while tests inspect it);
every method here expects the caller to hold it. IDs are numeric strings handed out in
increasing order per type (from realistic bases), so a type's records sit in id order, which is
also the order list paging walks. Times are epoch milliseconds from the injected clock.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.associations import Associations
from leadbridge.sandbox.hubspot.lists import Lists
from leadbridge.sandbox.hubspot.objects import TYPES, ObjectType
from leadbridge.sandbox.hubspot.pipelines import Pipelines
from leadbridge.sandbox.hubspot.schema import Schema, read_only
from leadbridge.sandbox.hubspot.values import as_text, check_options, instant, normalize, problem

EMAIL_SPLIT = ";"


@dataclass
class Record:
    type: str
    id: str
    props: dict[str, str]
    created: int
    updated: int
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    archived: bool = False
    archived_at: int | None = None


@dataclass(frozen=True)
class Writer:
    """Who writes: an app through the API (INTEGRATION) or a user in HubSpot (CRM_UI)."""

    source: str
    source_id: str
    user_id: str | None = None


Listener = Callable[[dict[str, Any]], None]


class Portal:
    def __init__(self, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(seed)
        self.portal_id = 20_000_000 + random.Random(f"portal-{seed}").randrange(9_000_000)
        self.schema = Schema()
        self.associations = Associations()
        self.pipelines = Pipelines(self.now_ms)
        self.owners: dict[str, dict[str, Any]] = {}
        self.lists = Lists()  # lists_api.py
        self.records: dict[str, dict[str, Record]] = {name: {} for name in TYPES}
        self.order: dict[str, list[int]] = {name: [] for name in TYPES}  # ids, ascending
        self.aliases: dict[str, dict[str, str]] = {name: {} for name in TYPES}  # merged ids
        self.emails: dict[str, str] = {}  # lower-cased e-mail -> live contact id
        self.unique: dict[tuple[str, str, str], str] = {}  # (type, property, value) -> id
        self.listeners: list[Listener] = []
        self._next = {name: kind.id_base for name, kind in TYPES.items()}
        self._next_owner = 31_871_800

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def new_id(self, object_name: str) -> str:
        self._next[object_name] += self.rng.randint(1, 40)
        return str(self._next[object_name])

    def emit(self, event: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(event)

    # --- owners ----------------------------------------------------------------------------------

    def add_owner(
        self, email: str, first_name: str = "", last_name: str = "", archived: bool = False
    ) -> dict[str, Any]:
        self._next_owner += self.rng.randint(1, 900)
        user_id = 2_500_000 + self.rng.randrange(60_000_000)
        stamp = instant(self.now_ms())
        owner: dict[str, Any] = {
            "id": str(self._next_owner),
            "email": email,
            "type": "PERSON",
            "firstName": first_name,
            "lastName": last_name,
            "userId": None if archived else user_id,
            "userIdIncludingInactive": user_id,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": archived,
        }
        self.owners[str(owner["id"])] = owner
        return owner

    def archive_owner(self, owner_id: str) -> dict[str, Any]:
        owner = self.owners[owner_id]
        owner.update(archived=True, userId=None, updatedAt=instant(self.now_ms()))
        return owner

    # --- lookups ---------------------------------------------------------------------------------

    def get(self, object_name: str, object_id: str, archived: bool = False) -> Record | None:
        """The record an id names (a merged-away id names the merged record)."""
        object_id = self.aliases[object_name].get(object_id, object_id)
        record = self.records[object_name].get(object_id)
        if record is None or record.archived != archived:
            return None
        return record

    def find(self, kind: ObjectType, value: str, id_property: str | None) -> Record | None:
        """By id, or by `idProperty` (email for contacts, or a unique property)."""
        if not id_property or id_property == "hs_object_id":
            return self.get(kind.name, value)
        if kind.name == "contacts" and id_property == "email":
            found = self.emails.get(value.strip().lower())
            return self.get(kind.name, found) if found else None
        self.check_id_property(kind, id_property)
        found = self.unique.get((kind.name, id_property, value))
        return self.get(kind.name, found) if found else None

    def check_id_property(self, kind: ObjectType, id_property: str) -> None:
        if id_property in ("hs_object_id",) or (kind.name == "contacts" and id_property == "email"):
            return
        if id_property not in self.schema.unique(kind.name):
            raise errors.validation(
                f"{id_property} is not a unique property of {kind.name} and cannot be used as "
                "idProperty"
            )

    def live(self, object_name: str, after: int = 0) -> list[Record]:
        """Live records in id order, from the first id >= after."""
        order, records = self.order[object_name], self.records[object_name]
        start = bisect.bisect_left(order, after)
        out = []
        for number in order[start:]:
            record = records.get(str(number))
            if record is not None and not record.archived:
                out.append(record)
        return out

    def count(self, object_name: str, archived: bool = False) -> int:
        return sum(1 for r in self.records[object_name].values() if r.archived == archived)

    # --- validation -------------------------------------------------------------------------------

    def clean(self, kind: ObjectType, values: Any, current: Record | None = None) -> dict[str, str]:
        """Written values as stored strings; every problem at once as HubSpot reports them."""
        if not isinstance(values, dict):
            raise errors.validation("properties must be an object of property names to values")
        out: dict[str, str] = {}
        problems: list[dict[str, Any]] = []
        for name, raw in values.items():
            prop = self.schema.get(kind.name, str(name))
            if prop is None:
                problems.append(
                    problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                )
                continue
            if read_only(prop):
                what = "calculated" if prop.get("calculated") else "read only"
                problems.append(
                    problem(
                        name,
                        "READ_ONLY_VALUE",
                        f'"{name}" is a {what} property; its value cannot be set.',
                    )
                )
                continue
            text = as_text(raw)
            if text is None:
                text = ""
            value, trouble = normalize(prop, text, kind.type_id, self.portal_id)
            if trouble is None and value is not None and prop["type"] == "enumeration":
                allowed = self.allowed(kind, prop, values, current)
                trouble = check_options(prop, value, allowed) if allowed is not None else None
            if trouble is not None:
                problems.append(trouble)
            elif value is not None:
                out[name] = value
        if problems:
            raise errors.invalid_properties(problems)
        return out

    def allowed(
        self, kind: ObjectType, prop: dict[str, Any], values: dict[str, Any], current: Record | None
    ) -> list[str] | None:
        """The values an enumeration accepts (None: not checked)."""
        name = prop["name"]
        if name == "hubspot_owner_id":
            return [o["id"] for o in self.owners.values() if not o["archived"]]
        if kind.name == "deals" and name == "pipeline":
            return self.pipelines.ids()
        if kind.name == "deals" and name == "dealstage":
            pipeline = as_text(values.get("pipeline")) or (
                current.props.get("pipeline") if current else None
            )
            return self.pipelines.stage_ids(pipeline or "default")
        options = [o["value"] for o in prop.get("options") or []]
        return options or None

    def required(self, kind: ObjectType, values: dict[str, str]) -> None:
        """What a create must carry (reference A3, A6) [U: deals' dealname and dealstage]."""
        need = {
            "contacts": ("email", "firstname", "lastname"),
            "companies": ("name", "domain"),
        }.get(kind.name)
        if need and not any(values.get(n) for n in need):
            raise errors.validation(
                f"A {kind.singular} needs at least one of {', '.join(need)} to be created"
            )
        if kind.name == "deals":
            missing = [n for n in ("dealname", "dealstage") if not values.get(n)]
            if missing:
                raise errors.invalid_properties(
                    [problem(n, "REQUIRED_PROPERTY", f"{n} is required") for n in missing]
                )
        if kind.engagement and not values.get("hs_timestamp"):
            if kind.name == "meetings" and values.get("hs_meeting_start_time"):
                values["hs_timestamp"] = values["hs_meeting_start_time"]
            else:
                raise errors.invalid_properties(
                    [problem("hs_timestamp", "REQUIRED_PROPERTY", "hs_timestamp is required")]
                )

    def check_unique(self, kind: ObjectType, values: dict[str, str], own_id: str | None) -> None:
        """409 when an e-mail (contacts) or a unique property value belongs to another record."""
        if kind.name == "contacts" and values.get("email"):
            holder = self.emails.get(values["email"].lower())
            if holder is not None and holder != own_id:
                raise errors.conflict(holder)
        for name in self.schema.unique(kind.name):
            value = values.get(name)
            holder = self.unique.get((kind.name, name, value)) if value else None
            if holder is not None and holder != own_id:
                raise errors.error(
                    409,
                    f"A {kind.singular} with {name} {value} already exists. Existing ID: {holder}",
                    "CONFLICT",
                )

    # --- indexes ---------------------------------------------------------------------------------

    def index(self, record: Record) -> None:
        if record.type == "contacts":
            for email in self.emails_of(record):
                self.emails[email] = record.id
        for name in self.schema.unique(record.type):
            if record.props.get(name):
                self.unique[(record.type, name, record.props[name])] = record.id

    def unindex(self, record: Record) -> None:
        """Drop the record's keys (called before its values change, with the old ones)."""
        if record.type == "contacts":
            for email in self.emails_of(record):
                if self.emails.get(email) == record.id:
                    del self.emails[email]
        for name in self.schema.unique(record.type):
            key = (record.type, name, record.props.get(name) or "")
            if self.unique.get(key) == record.id:
                del self.unique[key]

    @staticmethod
    def emails_of(record: Record) -> list[str]:
        values = [record.props.get("email") or ""]
        values += (record.props.get("hs_additional_emails") or "").split(EMAIL_SPLIT)
        return [v.strip().lower() for v in values if v.strip()]

    def store(self, record: Record) -> None:
        self.records[record.type][record.id] = record
        bisect.insort(self.order[record.type], int(record.id))

    def stamp(self, record: Record, name: str, value: str, writer: Writer, ms: int) -> None:
        """Set one value and keep its history (newest first), as propertiesWithHistory shows."""
        record.props[name] = value
        version: dict[str, Any] = {
            "value": value,
            "timestamp": instant(ms),
            "sourceType": writer.source,
            "sourceId": writer.source_id,
        }
        if writer.user_id:
            version["updatedByUserId"] = int(writer.user_id)
        record.history.setdefault(name, []).insert(0, version)
