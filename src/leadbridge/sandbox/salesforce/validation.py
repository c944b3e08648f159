"""What a save must pass, with Salesforce's codes and messages: field types and lengths, e-mail,
restricted picklists, read-only fields, references, required fields, inactive owners, unique
fields, validation rules and duplicate rules. Every problem of a record is collected, as
Salesforce reports them together."""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email

from leadbridge.sandbox.salesforce import schema
from leadbridge.sandbox.salesforce.dml_types import DmlError, DuplicateRule, err
from leadbridge.sandbox.salesforce.ids import to18
from leadbridge.sandbox.salesforce.soql import parse_datetime

if TYPE_CHECKING:
    from leadbridge.sandbox.salesforce.org import Org

TEXT_TYPES = (
    "string",
    "textarea",
    "phone",
    "url",
    "picklist",
    "combobox",
    "multipicklist",
    "email",
)


def check_rules(org: Org, sobject: str, row: dict[str, Any], allow_dup_save: bool) -> None:
    for rule in org.validation_rules[sobject]:
        if rule.fails(row):
            fields = [rule.field] if rule.field else []
            raise DmlError(err("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, fields))
    for dup in org.duplicate_rules[sobject]:
        values = [str(row.get(f) or "").strip().lower() for f in dup.match_fields]
        if not all(values):
            continue
        found = [
            r
            for r in org.records[sobject].values()
            if not r["IsDeleted"]
            and r["Id"] != row.get("Id")
            and [str(r.get(f) or "").strip().lower() for f in dup.match_fields] == values
        ]
        if found and (dup.block or not allow_dup_save):
            raise DmlError(duplicates_detected(sobject, dup, found))


def check_required(org: Org, sobject: str, row: dict[str, Any]) -> None:
    missing = [
        n for n in schema.required_on_create(org.describe(sobject)) if row.get(n) in (None, "")
    ]
    if missing:
        raise DmlError(
            err(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        )


def check_owner(org: Org, sobject: str, values: dict[str, Any]) -> None:
    """A record cannot be given an inactive owner (INACTIVE_OWNER_OR_USER); records a user
    owned before being deactivated keep that owner."""
    owner = values.get("OwnerId")
    user = org.records["User"].get(owner) if owner else None
    if user is not None and not user.get("IsActive", True):
        raise DmlError(
            err(
                "INACTIVE_OWNER_OR_USER",
                f"operation performed with inactive user [{owner}] as owner of {sobject.lower()}",
            )
        )


def check_campaign_member(org: Org, sobject: str, row: dict[str, Any]) -> None:
    """A CampaignMember: refused without the permission to add members (the org's knob
    `deny_campaign_members`), and once per person and campaign, as Salesforce answers."""
    if sobject != "CampaignMember":
        return
    if org.deny_campaign_members:
        raise DmlError(
            err(
                "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                f"insufficient access rights on cross-reference id: {row.get('CampaignId')}",
            )
        )
    for other in org.records["CampaignMember"].values():
        if other["IsDeleted"] or other["CampaignId"] != row.get("CampaignId"):
            continue
        for field in ("LeadId", "ContactId"):
            if row.get(field) and other.get(field) == row[field]:
                raise DmlError(err("DUPLICATE_VALUE", "Already a campaign member."))


def check_unique(org: Org, sobject: str, row: dict[str, Any], exclude: str | None = None) -> None:
    for f in org.describe(sobject)["fields"]:
        if f.get("unique") and row.get(f["name"]) is not None:
            for other in org.matches(sobject, f["name"], row[f["name"]]):
                if other["Id"] != exclude and other["Id"] != row.get("Id"):
                    raise DmlError(
                        err(
                            "DUPLICATE_VALUE",
                            f"duplicate value found: {f['name']} duplicates value on "
                            f"record with id: {other['Id']}",
                            [f["name"]],
                        )
                    )


def coerce(org: Org, sobject: str, fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Field map from a client -> typed values; every problem collected, as Salesforce does."""
    out: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    not_writable: list[str] = []
    for key, value in fields.items():
        if key == "attributes":
            continue
        f = org.field_of(sobject, key)
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
            out[f["name"]] = typed(org, f, value)
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


def typed(org: Org, f: dict[str, Any], value: Any) -> Any:
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
    if kind in TEXT_TYPES:
        return text_value(f, str(value))
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise bad
    if kind in ("int", "double", "currency", "percent"):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise bad from None
        if not math.isfinite(number):  # 1e400, "inf", "nan": no number Salesforce stores
            raise bad
        return int(number) if kind == "int" else number
    if kind == "datetime":
        try:
            return parse_datetime(str(value))
        except (ValueError, OverflowError):
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
        target = org.find(full)
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


def text_value(f: dict[str, Any], text: str) -> str:
    """Length, e-mail syntax and restricted picklist values of a text-like field."""
    kind, name, label = f["type"], f["name"], f["label"]
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
                err("INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {text}", [name])
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


def compound_name(sobject: str, row: dict[str, Any]) -> None:
    """Lead, Contact and User names are read-only compounds of first and last name."""
    if sobject in ("Lead", "Contact", "User"):
        row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p) or None
