"""One Salesforce org in memory: schema, records, users, limits, and DML with real validation.

Every write goes through `create` / `update` / `upsert` / `delete`, which answer a SaveResult
with Salesforce's own error codes and messages; the REST layer, collections and (later) Bulk
ingest all call these, so validation is the same whichever API a client uses.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from leadbridge.sandbox.salesforce import schema
from leadbridge.sandbox.salesforce.ids import make_id, to18
from leadbridge.sandbox.salesforce.soql import parse_datetime

ORG_PREFIX = "00D"


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
        self.api_usage = 0
        self.integration_user = self._seed_user(
            "integration@sandbox.example", "Integration", "User"
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

    # --- time and ids ---------------------------------------------------------------------------

    def now(self) -> datetime:
        """Millisecond precision, like SystemModstamp: writes in one ms share a stamp."""
        ts = self.clock()
        return datetime.fromtimestamp(int(ts * 1000) / 1000, UTC)

    def new_id(self, sobject: str) -> str:
        return make_id(schema.PREFIXES[sobject], next(self._counter))

    def _seed_user(self, email: str, first: str, last: str) -> str:
        uid = self.new_id("User")
        now = self.now()
        self.records["User"][uid] = {
            "Id": uid,
            "IsDeleted": False,
            "CreatedDate": now,
            "CreatedById": uid,
            "LastModifiedDate": now,
            "LastModifiedById": uid,
            "SystemModstamp": now,
            "Username": email,
            "Email": email,
            "FirstName": first,
            "LastName": last,
            "Name": f"{first} {last}",
            "Alias": (first[:1] + last[:4]).lower(),
            "IsActive": True,
        }
        return uid

    def add_user(self, email: str, first: str, last: str, *, active: bool = True) -> str:
        with self.lock:
            uid = self._seed_user(email, first, last)
            self.records["User"][uid]["IsActive"] = active
            return uid

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
                values = self._coerce(name, fields, creating=True)
                self._check_owner(name, values)
                row = self._defaults(name, user_id)
                row.update(values)
                self._check_required(name, row)
                self._check_unique(name, row)
                self._check_rules(name, row, allow_dup_save)
            except DmlError as exc:
                return SaveResult(None, False, exc.errors)
            _compound_name(name, row)
            self.records[name][row["Id"]] = row
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
                row = self._existing(name, record_id)
                if name == "Lead" and row.get("IsConverted"):
                    raise DmlError(
                        err("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
                    )
                values = self._coerce(name, fields, creating=False)
                self._check_owner(name, values)
                merged = {**row, **values}
                self._check_required(name, merged)
                self._check_unique(name, merged, exclude=row["Id"])
                self._check_rules(name, merged, allow_dup_save)
            except DmlError as exc:
                return SaveResult(to18(record_id), False, exc.errors)
            row.update(values)
            _compound_name(name, row)
            self._touch(row, user_id)
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
                row = self._existing(name, record_id)
            except DmlError as exc:
                return SaveResult(to18(record_id), False, exc.errors)
            row["IsDeleted"] = True
            self._touch(row, user_id)
            self.deleted_log[name].append((row["Id"], row["SystemModstamp"]))
            return SaveResult(row["Id"], True)

    def _check_rules(self, sobject: str, row: dict[str, Any], allow_dup_save: bool) -> None:
        for rule in self.validation_rules[sobject]:
            if rule.fails(row):
                fields = [rule.field] if rule.field else []
                raise DmlError(err("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, fields))
        for dup in self.duplicate_rules[sobject]:
            values = [str(row.get(f) or "").strip().lower() for f in dup.match_fields]
            if not all(values):
                continue
            found = [
                r
                for r in self.records[sobject].values()
                if not r["IsDeleted"]
                and r["Id"] != row.get("Id")
                and [str(r.get(f) or "").strip().lower() for f in dup.match_fields] == values
            ]
            if found and (dup.block or not allow_dup_save):
                raise DmlError(duplicates_detected(sobject, dup, found))

    # --- what users do in the UI or through SOAP/Apex (the sandbox's admin surface) ------------

    def convert_lead(
        self,
        lead_id: str,
        *,
        account_id: str | None = None,
        create_opportunity: bool = False,
        user_id: str | None = None,
    ) -> dict[str, str | None]:
        """convertLead(): a contact (and an account unless given), optionally an opportunity;
        the lead becomes read-only with IsConverted and the converted ids set."""
        with self.lock:
            lead = self._existing("Lead", lead_id)
            if lead.get("IsConverted"):
                raise DmlError(
                    err("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
                )
            if account_id is None:
                account = self.create(
                    "Account", {"Name": lead["Company"]}, user_id=user_id, allow_dup_save=True
                )
                account_id = account.id
            contact = self.create(
                "Contact",
                {k: lead.get(k) for k in ("FirstName", "LastName", "Email", "Title", "Phone")}
                | {"AccountId": account_id},
                user_id=user_id,
                allow_dup_save=True,
            )
            opportunity_id = None
            if create_opportunity:
                opportunity_id = self.create(
                    "Opportunity",
                    {
                        "Name": f"{lead['Company']}-",
                        "StageName": "Prospecting",
                        "CloseDate": self.now().date().isoformat(),
                        "AccountId": account_id,
                    },
                    user_id=user_id,
                ).id
            lead.update(
                IsConverted=True,
                ConvertedAccountId=account_id,
                ConvertedContactId=contact.id,
                ConvertedOpportunityId=opportunity_id,
                ConvertedDate=self.now().date(),
                Status="Closed - Converted",
            )
            self._touch(lead, user_id)
            return {
                "accountId": account_id,
                "contactId": contact.id,
                "opportunityId": opportunity_id,
            }

    def merge(
        self, sobject: str, master_id: str, loser_ids: list[str], *, user_id: str | None = None
    ) -> None:
        """merge(): losers go to the recycle bin with MasterRecordId = the master, and their
        children are re-parented to it (Lead, Contact, Account only; at most 2 losers)."""
        name = self.canonical(sobject) or sobject
        if name not in ("Lead", "Contact", "Account"):
            raise DmlError(err("INVALID_TYPE", f"merge is not supported for {name}"))
        if not 1 <= len(loser_ids) <= 2:
            raise DmlError(err("INVALID_OPERATION", "merge takes a master and one or two records"))
        with self.lock:
            master = self._existing(name, master_id)
            for loser_id in loser_ids:
                loser = self._existing(name, loser_id)
                for rows in self.records.values():
                    for child in rows.values():
                        for key in ("AccountId", "WhoId", "WhatId", "ParentId"):
                            if child.get(key) == loser["Id"]:
                                child[key] = master["Id"]
                                self._touch(child, user_id)
                loser["MasterRecordId"] = master["Id"]
                self.delete(name, loser["Id"], user_id=user_id)
            self._touch(master, user_id)

    def undelete(self, sobject: str, record_id: str, *, user_id: str | None = None) -> None:
        with self.lock:
            row = self.row(sobject, record_id)
            if row is None or not row["IsDeleted"]:
                raise DmlError(err("UNDELETE_FAILED", "Entity is not in the recycle bin"))
            row["IsDeleted"] = False
            row["MasterRecordId"] = None
            self._touch(row, user_id)

    def bump(
        self, sobject: str, record_id: str, fields: dict[str, Any], user_id: str
    ) -> SaveResult:
        """An edit by another user (a rep in the UI): LastModifiedById is theirs."""
        return self.update(sobject, record_id, fields, user_id=user_id, allow_dup_save=True)

    def _existing(self, sobject: str, record_id: str) -> dict[str, Any]:
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

    def _touch(self, row: dict[str, Any], user_id: str | None) -> None:
        now = self.now()
        row.update(
            LastModifiedDate=now,
            SystemModstamp=now,
            LastModifiedById=user_id or self.integration_user,
        )

    def _check_required(self, sobject: str, row: dict[str, Any]) -> None:
        missing = [
            n for n in schema.required_on_create(self.describe(sobject)) if row.get(n) in (None, "")
        ]
        if missing:
            raise DmlError(
                err(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            )

    def _check_owner(self, sobject: str, values: dict[str, Any]) -> None:
        """A record cannot be given an inactive owner (INACTIVE_OWNER_OR_USER); records a user
        owned before being deactivated keep that owner."""
        owner = values.get("OwnerId")
        user = self.records["User"].get(owner) if owner else None
        if user is not None and not user.get("IsActive", True):
            raise DmlError(
                err(
                    "INACTIVE_OWNER_OR_USER",
                    f"operation performed with inactive user [{owner}] as owner of "
                    f"{sobject.lower()}",
                )
            )

    def _check_unique(self, sobject: str, row: dict[str, Any], exclude: str | None = None) -> None:
        for f in self.describe(sobject)["fields"]:
            if f.get("unique") and row.get(f["name"]) is not None:
                for other in self.matches(sobject, f["name"], row[f["name"]]):
                    if other["Id"] != exclude and other["Id"] != row.get("Id"):
                        raise DmlError(
                            err(
                                "DUPLICATE_VALUE",
                                f"duplicate value found: {f['name']} duplicates value on "
                                f"record with id: {other['Id']}",
                                [f["name"]],
                            )
                        )

    def _coerce(self, sobject: str, fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """Field map from a client -> typed values; every problem collected, as Salesforce does."""
        out: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        not_writable: list[str] = []
        for key, value in fields.items():
            if key == "attributes":
                continue
            f = self.field_of(sobject, key)
            if f is None:
                errors.append(
                    err("INVALID_FIELD", f"No such column '{key}' on sobject of type {sobject}")
                )
                continue
            if key == "Id" and not creating:
                continue
            writable = f["createable"] if creating else f["updateable"]
            if not writable:
                not_writable.append(f["name"])
                continue
            try:
                out[f["name"]] = self._typed(f, value)
            except DmlError as exc:
                errors.extend(exc.errors)
        if not_writable:
            errors.append(
                err(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {', '.join(not_writable)}. Please check "
                    "the security settings of this field and verify that it is read/write "
                    "for your profile or permission set.",
                    not_writable,
                )
            )
        if errors:
            raise DmlError(*errors)
        return out

    def _typed(self, f: dict[str, Any], value: Any) -> Any:
        kind, name, label = f["type"], f["name"], f["label"]
        if value is None or value == "":
            return None
        bad = DmlError(
            err(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{label}: value not of required type: {value}",
                [name],
            )
        )
        if kind in (
            "string",
            "textarea",
            "phone",
            "url",
            "picklist",
            "combobox",
            "multipicklist",
            "email",
        ):
            text = str(value)
            if f["length"] and len(text) > f["length"]:
                shown = text if len(text) <= 40 else text[:37] + "..."
                raise DmlError(
                    err(
                        "STRING_TOO_LONG",
                        f"{label}: data value too large: {shown} (max length={f['length']})",
                        [name],
                    )
                )
            if kind == "email":
                try:
                    validate_email(text, check_deliverability=False)
                except EmailNotValidError:
                    raise DmlError(
                        err(
                            "INVALID_EMAIL_ADDRESS",
                            f"{label}: invalid email address: {text}",
                            [name],
                        )
                    ) from None
            if kind in ("picklist", "multipicklist") and f.get("restrictedPicklist"):
                allowed = {p["value"] for p in f["picklistValues"] if p.get("active", True)}
                for part in text.split(";") if kind == "multipicklist" else [text]:
                    if part not in allowed:
                        raise DmlError(
                            err(
                                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                f"{label}: bad value for restricted picklist field: {part}",
                                [name],
                            )
                        )
            return text
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise bad
        if kind in ("int", "double", "currency", "percent"):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise bad from None
            return int(number) if kind == "int" else number
        if kind == "datetime":
            try:
                return parse_datetime(str(value))
            except ValueError:
                raise bad from None
        if kind == "date":
            try:
                return date.fromisoformat(str(value)[:10])
            except ValueError:
                raise bad from None
        if kind in ("reference", "id"):
            full = to18(str(value))
            if full is None:
                raise DmlError(
                    err("MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [name])
                )
            target = self.find(full)
            if target is None or target[0] not in (f.get("referenceTo") or [target[0]]):
                raise DmlError(
                    err(
                        "INVALID_CROSS_REFERENCE_KEY",
                        f"{label}: id value of incorrect type: {value}"
                        if target
                        else "invalid cross reference id",
                        [name],
                    )
                )
            return full
        return value


def duplicates_detected(
    sobject: str, rule: DuplicateRule, found: list[dict[str, Any]]
) -> dict[str, Any]:
    """The DUPLICATES_DETECTED error with its duplicateResult, as the REST API sends it."""
    records = [
        {
            "additionalInformation": [],
            "fieldDiffs": [],
            "matchConfidence": 100.0,
            "record": {
                "attributes": {
                    "type": sobject,
                    "url": f"/services/data/v59.0/sobjects/{sobject}/{r['Id']}",
                },
                "Id": r["Id"],
            },
        }
        for r in found
    ]
    error = err("DUPLICATES_DETECTED", rule.message)
    error["duplicateResult"] = {
        "allowSave": not rule.block,
        "duplicateRule": rule.name,
        "duplicateRuleEntityType": sobject,
        "errorMessage": rule.message,
        "matchResults": [
            {
                "entityType": sobject,
                "errors": [],
                "matchEngine": "ExactMatchEngine",
                "matchRecords": records,
                "rule": f"{rule.name}_Match",
                "size": len(records),
                "success": True,
            }
        ],
    }
    return error


def _compound_name(sobject: str, row: dict[str, Any]) -> None:
    """Lead, Contact and User names are read-only compounds of first and last name."""
    if sobject in ("Lead", "Contact", "User"):
        row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p) or None
