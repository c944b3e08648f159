"""The org's schema: real describe metadata (recorded from a real org, BSD-3, see describe/
LICENSE) for Account, Contact, Lead, Opportunity, Event; faithful describes built from the
reference for Task, Note, Campaign, CampaignMember and User; custom fields added at run time."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from leadbridge.connectors.salesforce.describe import required_on_create

__all__ = ["OBJECTS", "PREFIXES", "base_describe", "field", "required_on_create"]

HERE = Path(__file__).with_name("describe")
RECORDED = ("Account", "Contact", "Lead", "Opportunity", "Event")
PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Lead": "00Q",
    "Task": "00T",
    "Event": "00U",
    "User": "005",
    "Note": "002",
    "Campaign": "701",
    "CampaignMember": "00v",
}


@cache
def _recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((HERE / f"{name}.json").read_text()))


@cache
def recorded_global() -> dict[str, Any]:
    return dict(json.loads((HERE / "_global.json").read_text()))


def field(
    name: str,
    kind: str,
    *,
    length: int = 0,
    nillable: bool = True,
    createable: bool = True,
    updateable: bool = True,
    defaulted: bool = False,
    picklist: tuple[str, ...] = (),
    default: str | None = None,
    reference: tuple[str, ...] = (),
    relationship: str | None = None,
    label: str | None = None,
    external_id: bool = False,
    id_lookup: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label or name,
        "type": kind,
        "length": length,
        "byteLength": length * 3,
        "nillable": nillable,
        "createable": createable,
        "updateable": updateable,
        "defaultedOnCreate": defaulted,
        "defaultValue": None,
        "custom": name.endswith("__c"),
        "externalId": external_id,
        "idLookup": id_lookup or kind == "id",
        "unique": False,
        "calculated": False,
        "autoNumber": False,
        "filterable": True,
        "sortable": kind not in ("textarea",),
        "groupable": True,
        "caseSensitive": False,
        "nameField": name == "Name",
        "precision": 0,
        "scale": 0,
        "digits": 0,
        "referenceTo": list(reference),
        "relationshipName": relationship,
        "polymorphicForeignKey": len(reference) > 1,
        "restrictedPicklist": False,
        "dependentPicklist": False,
        "controllerName": None,
        "htmlFormatted": False,
        "soapType": {
            "id": "tns:ID",
            "reference": "tns:ID",
            "boolean": "xsd:boolean",
            "datetime": "xsd:dateTime",
            "date": "xsd:date",
            "int": "xsd:int",
            "double": "xsd:double",
            "currency": "xsd:double",
        }.get(kind, "xsd:string"),
        "picklistValues": [
            {"active": True, "defaultValue": v == default, "label": v, "validFor": None, "value": v}
            for v in picklist
        ],
        "inlineHelpText": None,
        "compoundFieldName": None,
    }


def _system(prefix_owner: bool = True) -> list[dict[str, Any]]:
    fields = [
        field(
            "Id",
            "id",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field(
            "IsDeleted",
            "boolean",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field(
            "CreatedDate",
            "datetime",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field(
            "CreatedById",
            "reference",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
            reference=("User",),
            relationship="CreatedBy",
        ),
        field(
            "LastModifiedDate",
            "datetime",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field(
            "LastModifiedById",
            "reference",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
            reference=("User",),
            relationship="LastModifiedBy",
        ),
        field(
            "SystemModstamp",
            "datetime",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
    ]
    if prefix_owner:
        fields.append(
            field(
                "OwnerId",
                "reference",
                length=18,
                nillable=False,
                defaulted=True,
                reference=("User",),
                relationship="Owner",
            )
        )
    return fields


def _built(
    name: str, label_plural: str, fields: list[dict[str, Any]], **flags: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "label": name,
        "labelPlural": label_plural,
        "keyPrefix": PREFIXES[name],
        "custom": False,
        "createable": True,
        "updateable": True,
        "deletable": flags.get("deletable", True),
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "replicateable": True,
        "mergeable": False,
        "undeletable": flags.get("deletable", True),
        "triggerable": True,
        "layoutable": True,
        "activateable": False,
        "feedEnabled": False,
        "mruEnabled": True,
        "customSetting": False,
        "deprecatedAndHidden": False,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "childRelationships": [],
        "recordTypeInfos": [],
        "fields": fields,
    }


def _task() -> dict[str, Any]:
    return _built(
        "Task",
        "Tasks",
        [
            *_system(),
            field(
                "Subject",
                "combobox",
                length=255,
                picklist=("Call", "Send Letter", "Send Quote", "Other"),
            ),
            field(
                "Status",
                "picklist",
                length=40,
                nillable=False,
                defaulted=True,
                default="Not Started",
                picklist=(
                    "Not Started",
                    "In Progress",
                    "Completed",
                    "Waiting on someone else",
                    "Deferred",
                ),
            ),
            field(
                "Priority",
                "picklist",
                length=40,
                nillable=False,
                defaulted=True,
                default="Normal",
                picklist=("High", "Normal", "Low"),
            ),
            field("ActivityDate", "date"),
            field(
                "WhoId", "reference", length=18, reference=("Contact", "Lead"), relationship="Who"
            ),
            field(
                "WhatId",
                "reference",
                length=18,
                reference=("Account", "Opportunity", "Campaign"),
                relationship="What",
            ),
            field("Description", "textarea", length=32000),
            field(
                "TaskSubtype",
                "picklist",
                length=40,
                updateable=False,
                picklist=("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
            ),
            field("CallDurationInSeconds", "int"),
            field("CallType", "picklist", length=40, picklist=("Internal", "Inbound", "Outbound")),
            field("IsClosed", "boolean", createable=False, updateable=False, defaulted=True),
        ],
    )


def _note() -> dict[str, Any]:
    return _built(
        "Note",
        "Notes",
        [
            *_system(),
            field(
                "ParentId",
                "reference",
                length=18,
                nillable=False,
                updateable=False,
                reference=("Account", "Contact", "Lead", "Opportunity"),
                relationship="Parent",
            ),
            field("Title", "string", length=255, nillable=False),
            field("Body", "textarea", length=32000),
            field("IsPrivate", "boolean", nillable=False, defaulted=True),
        ],
    )


def _campaign() -> dict[str, Any]:
    return _built(
        "Campaign",
        "Campaigns",
        [
            *_system(),
            field("Name", "string", length=80, nillable=False),
            field(
                "Status",
                "picklist",
                length=40,
                picklist=("Planned", "In Progress", "Completed", "Aborted"),
            ),
            field(
                "Type",
                "picklist",
                length=40,
                picklist=("Conference", "Webinar", "Trade Show", "Email", "Other"),
            ),
            field("IsActive", "boolean", nillable=False, defaulted=True),
            field("StartDate", "date"),
            field("EndDate", "date"),
        ],
    )


def _campaign_member() -> dict[str, Any]:
    return _built(
        "CampaignMember",
        "Campaign Members",
        [
            *_system(prefix_owner=False),
            field(
                "CampaignId",
                "reference",
                length=18,
                nillable=False,
                updateable=False,
                reference=("Campaign",),
                relationship="Campaign",
            ),
            field("LeadId", "reference", length=18, reference=("Lead",), relationship="Lead"),
            field(
                "ContactId", "reference", length=18, reference=("Contact",), relationship="Contact"
            ),
            field(
                "Status",
                "picklist",
                length=40,
                defaulted=True,
                default="Sent",
                picklist=("Sent", "Responded"),
            ),
            field("HasResponded", "boolean", createable=False, updateable=False, defaulted=True),
        ],
    )


def _user() -> dict[str, Any]:
    return _built(
        "User",
        "Users",
        [
            *_system(prefix_owner=False),
            field("Username", "string", length=80, nillable=False),
            field("Email", "email", length=128, nillable=False),
            field("FirstName", "string", length=40),
            field("LastName", "string", length=80, nillable=False),
            field("Name", "string", length=121, createable=False, updateable=False),
            field("Alias", "string", length=8, nillable=False),
            field("IsActive", "boolean", nillable=False, defaulted=True),
        ],
        deletable=False,
    )


BUILT = {
    "Task": _task,
    "Note": _note,
    "Campaign": _campaign,
    "CampaignMember": _campaign_member,
    "User": _user,
}
OBJECTS = (*RECORDED, *BUILT)


def base_describe(name: str) -> dict[str, Any]:
    """A fresh, mutable copy (an org adds custom fields and restrictions to its own)."""
    if name in RECORDED:
        return copy.deepcopy(_recorded(name))
    return BUILT[name]()
