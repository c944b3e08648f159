"""One Salesforce org in memory: schema, records, users, limits, and DML with real validation.

Every write goes through `create` / `update` / `upsert` / `delete`, which answer a SaveResult
with Salesforce's own error codes and messages; the REST layer, collections and Bulk ingest all
call these, so validation (validation.py) is the same whichever API a client uses. What users
do in the UI or through SOAP/Apex (convert, merge, undelete) lives in operations.py.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from leadbridge.sandbox.salesforce import cascade, operations, schema, users, validation
from leadbridge.sandbox.salesforce.cascade import Children
from leadbridge.sandbox.salesforce.dml_types import (
    DmlError,
    DuplicateRule,
    SaveResult,
    ValidationRule,
    err,
)
from leadbridge.sandbox.salesforce.ids import make_id, to18
from leadbridge.sandbox.salesforce.journal import Journal, transaction

__all__ = ["DmlError", "DuplicateRule", "Org", "SaveResult", "ValidationRule", "err"]

ORG_PREFIX = "00D"


class Org:
    def __init__(self, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.id = make_id(ORG_PREFIX, seed * 7919)
        self._counter = itertools.count(seed * 100_000 + 1)
        self.describes: dict[str, dict[str, Any]] = {
            n: schema.base_describe(n) for n in schema.OBJECTS
        }
        self._canonical = {n.lower(): n for n in self.describes}
        self.records: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in self.describes}
        self.deleted_log: dict[str, list[tuple[str, datetime]]] = {n: [] for n in self.describes}
        self.validation_rules: dict[str, list[ValidationRule]] = {n: [] for n in self.describes}
        self.duplicate_rules: dict[str, list[DuplicateRule]] = {n: [] for n in self.describes}
        self.daily_limit = 15_000
        # The connected user lacks the permission to add campaign members (a knob).
        self.deny_campaign_members = False
        self.api_usage = 0
        self.children = Children(self)
        self.journals: list[Journal] = []
        self.integration_user = users.add_user(
            self, "integration@sandbox.example", "Integration", "User"
        )

    # --- RecordSource (for soql) ----------------------------------------------------------------

    def canonical(self, sobject: str) -> str | None:
        return self._canonical.get(sobject.lower())

    def describe(self, sobject: str) -> dict[str, Any]:
        return self.describes[self.canonical(sobject) or sobject]

    def rows(self, sobject: str) -> Iterable[dict[str, Any]]:
        return list(self.records[self.canonical(sobject) or sobject].values())

    def row(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        full = to18(record_id) if record_id else None
        return self.records.get(self.canonical(sobject) or "", {}).get(full or "")

    def find(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        full = to18(record_id)
        for name, rows in self.records.items():
            if full in rows:
                return name, rows[full]
        return None

    # --- schema changes (admin) -----------------------------------------------------------------

    def field_of(self, sobject: str, name: str) -> dict[str, Any] | None:
        for f in self.describe(sobject)["fields"]:
            if f["name"].lower() == name.lower():
                return f
        return None

    def add_custom_field(
        self,
        sobject: str,
        name: str,
        kind: str = "string",
        *,
        length: int = 255,
        external_id: bool = False,
        unique: bool = False,
        picklist: tuple[str, ...] = (),
        restricted: bool = False,
    ) -> dict[str, Any]:
        if not name.endswith("__c"):
            raise ValueError("custom field names end in __c")
        f = schema.field(
            name,
            kind,
            length=length,
            external_id=external_id,
            id_lookup=external_id,
            picklist=picklist,
        )
        f.update(unique=unique, custom=True, restrictedPicklist=restricted)
        with self.lock:
            self.describe(sobject)["fields"].append(f)
        return f

    def restrict_picklist(self, sobject: str, name: str, restricted: bool = True) -> None:
        f = self.field_of(sobject, name)
        if f is None or f["type"] not in ("picklist", "multipicklist"):
            raise ValueError(f"{sobject}.{name} is not a picklist")
        f["restrictedPicklist"] = restricted

    # --- time, ids and users --------------------------------------------------------------------

    def now(self) -> datetime:
        """Whole seconds, as a real org stamps CreatedDate, LastModifiedDate and SystemModstamp
        (`...T12:00:00.000+0000`): every write in one second shares a stamp."""
        return datetime.fromtimestamp(int(self.clock()), UTC)

    def new_id(self, sobject: str) -> str:
        return make_id(schema.PREFIXES[sobject], next(self._counter))

    def add_user(self, email: str, first: str, last: str, *, active: bool = True) -> str:
        return users.add_user(self, email, first, last, active=active)

    def ensure_user(self, email: str, first: str, last: str) -> str:
        """The active user with this username, made once (an admin's stand-in rep)."""
        return users.ensure_user(self, email, first, last)

    # --- DML --------------------------------------------------------------------------------------

    def create(
        self,
        sobject: str,
        fields: dict[str, Any],
        *,
        user_id: str | None = None,
        allow_dup_save: bool = False,
    ) -> SaveResult:
        with self.lock:
            name = self.canonical(sobject)
            if name is None:
                return SaveResult(
                    None,
                    False,
                    [err("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")],
                )
            try:
                values = validation.coerce(self, name, fields, creating=True)
                validation.check_owner(self, name, values)
                row = self._defaults(name, user_id)
                row.update(values)
                validation.check_required(self, name, row)
                validation.check_unique(self, name, row)
                validation.check_rules(self, name, row, allow_dup_save)
                validation.check_campaign_member(self, name, row)
            except DmlError as exc:
                return SaveResult(None, False, exc.errors)
            validation.compound_name(name, row)
            self.remember(name, row["Id"])
            self.records[name][row["Id"]] = row
            self.children.written(name, values)
            return SaveResult(row["Id"], True, created=True)

    def update(
        self,
        sobject: str,
        record_id: str,
        fields: dict[str, Any],
        *,
        user_id: str | None = None,
        allow_dup_save: bool = False,
    ) -> SaveResult:
        with self.lock:
            name = self.canonical(sobject) or sobject
            try:
                row = self.existing(name, record_id)
                if name == "Lead" and row.get("IsConverted"):
                    raise DmlError(
                        err("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
                    )
                values = validation.coerce(self, name, fields, creating=False)
                validation.check_owner(self, name, values)
                merged = {**row, **values}
                validation.check_required(self, name, merged)
                validation.check_unique(self, name, merged, exclude=row["Id"])
                validation.check_rules(self, name, merged, allow_dup_save)
            except DmlError as exc:
                return SaveResult(to18(record_id), False, exc.errors)
            self.remember(name, row["Id"])
            row.update(values)
            validation.compound_name(name, row)
            self.touch(row, user_id)
            self.children.written(name, values)
            return SaveResult(row["Id"], True)

    def upsert(
        self,
        sobject: str,
        ext_field: str,
        ext_value: Any,
        fields: dict[str, Any],
        *,
        user_id: str | None = None,
        allow_dup_save: bool = False,
    ) -> SaveResult:
        with self.lock:
            name = self.canonical(sobject) or sobject
            f = self.field_of(name, ext_field)
            # externalId fields, idLookup fields (Contact.Email) and Id itself can key an upsert.
            if f is None or not (f.get("externalId") or f.get("idLookup")):
                return SaveResult(
                    None, False, [err("NOT_FOUND", "The requested resource does not exist")]
                )
            if f["name"] == "Id" and ext_value is None:
                return self.create(name, fields, user_id=user_id, allow_dup_save=allow_dup_save)
            matches = self.matches(name, f["name"], ext_value)
            if len(matches) > 1:
                return SaveResult(
                    None,
                    False,
                    [
                        err(
                            "DUPLICATE_EXTERNAL_ID",
                            f"{f['label']}: more than one record found for external id "
                            f"field: {[m['Id'] for m in matches]}",
                            [f["name"]],
                        )
                    ],
                )
            if matches:
                return self.update(
                    name, matches[0]["Id"], fields, user_id=user_id, allow_dup_save=allow_dup_save
                )
            values = dict(fields)
            if f["name"] != "Id":
                values[f["name"]] = ext_value
            return self.create(name, values, user_id=user_id, allow_dup_save=allow_dup_save)

    def matches(self, sobject: str, field_name: str, value: Any) -> list[dict[str, Any]]:
        if value is None:
            return []
        text = str(value).lower()
        return [
            r
            for r in self.records[sobject].values()
            if not r["IsDeleted"]
            and r.get(field_name) is not None
            and str(r[field_name]).lower() == text
        ]

    def delete(self, sobject: str, record_id: str, *, user_id: str | None = None) -> SaveResult:
        with self.lock:
            name = self.canonical(sobject) or sobject
            try:
                if name == "User":
                    raise DmlError(
                        err(
                            "INSUFFICIENT_ACCESS_OR_READONLY",
                            "insufficient access rights on object id",
                        )
                    )
                row = self.existing(name, record_id)
            except DmlError as exc:
                return SaveResult(to18(record_id), False, exc.errors)
            self.soft_delete(name, row, user_id)
            cascade.delete_children(self, name, row["Id"], user_id)
            return SaveResult(row["Id"], True)

    def soft_delete(self, sobject: str, row: dict[str, Any], user_id: str | None) -> None:
        """To the recycle bin: gone from query, seen by queryAll and getDeleted."""
        self.remember(sobject, row["Id"])
        row["IsDeleted"] = True
        self.touch(row, user_id)
        self.deleted_log[sobject].append((row["Id"], row["SystemModstamp"]))

    def hard_delete(self, sobject: str, record_id: str) -> None:
        """Bulk hardDelete: a deleted row (and what was deleted with it) leaves the store."""
        with self.lock:
            name = self.canonical(sobject) or sobject
            full = to18(record_id) or record_id
            if full in self.records[name]:
                self.remember(name, full)
                self.records[name].pop(full)
                cascade.purge_children(self, name, full)

    # --- transactions (journal.py) ----------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[Journal]:
        """Holds the org's lock; `rollback()` on the journal undoes every write made inside
        (an exception rolls back by itself)."""
        return transaction(self)

    def remember(self, sobject: str, record_id: str) -> None:
        """Called before a row is written: open transactions keep it as it was."""
        for journal in self.journals:
            journal.remember(sobject, record_id)

    # --- UI / SOAP / Apex operations (operations.py) ----------------------------------------------

    def convert_lead(
        self,
        lead_id: str,
        *,
        account_id: str | None = None,
        create_opportunity: bool = False,
        user_id: str | None = None,
    ) -> dict[str, str | None]:
        return operations.convert_lead(
            self,
            lead_id,
            account_id=account_id,
            create_opportunity=create_opportunity,
            user_id=user_id,
        )

    def merge(
        self, sobject: str, master_id: str, loser_ids: list[str], *, user_id: str | None = None
    ) -> None:
        operations.merge(self, sobject, master_id, loser_ids, user_id=user_id)

    def undelete(self, sobject: str, record_id: str, *, user_id: str | None = None) -> None:
        operations.undelete(self, sobject, record_id, user_id=user_id)

    def bump(
        self, sobject: str, record_id: str, fields: dict[str, Any], user_id: str
    ) -> SaveResult:
        """An edit by another user (a rep in the UI): LastModifiedById is theirs."""
        return self.update(sobject, record_id, fields, user_id=user_id, allow_dup_save=True)

    # --- row helpers ------------------------------------------------------------------------------

    def existing(self, sobject: str, record_id: str) -> dict[str, Any]:
        """The live row, or the DmlError Salesforce answers (MALFORMED_ID, NOT_FOUND,
        ENTITY_IS_DELETED)."""
        full = to18(record_id)
        if full is None or not full.startswith(schema.PREFIXES.get(sobject, "???")):
            raise DmlError(
                err(
                    "MALFORMED_ID", f"{sobject} ID: id value of incorrect type: {record_id}", ["Id"]
                )
            )
        row = self.records[sobject].get(full)
        if row is None:
            raise DmlError(err("NOT_FOUND", "The requested resource does not exist"))
        if row["IsDeleted"]:
            raise DmlError(err("ENTITY_IS_DELETED", "entity is deleted"))
        return row

    def _defaults(self, sobject: str, user_id: str | None) -> dict[str, Any]:
        now, uid = self.now(), user_id or self.integration_user
        row: dict[str, Any] = {}
        for f in self.describe(sobject)["fields"]:
            value: Any = None
            if f["type"] == "boolean":
                value = False
            elif f["defaultedOnCreate"] and f["picklistValues"]:
                value = next(
                    (p["value"] for p in f["picklistValues"] if p.get("defaultValue")), None
                )
            row[f["name"]] = value
        row.update(
            Id=self.new_id(sobject),
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=uid,
            LastModifiedDate=now,
            LastModifiedById=uid,
            SystemModstamp=now,
        )
        if "OwnerId" in row:
            row["OwnerId"] = uid
        return row

    def touch(self, row: dict[str, Any], user_id: str | None) -> None:
        """Stamps a write (callers `remember` the row before changing it)."""
        now = self.now()
        row.update(
            LastModifiedDate=now,
            SystemModstamp=now,
            LastModifiedById=user_id or self.integration_user,
        )
