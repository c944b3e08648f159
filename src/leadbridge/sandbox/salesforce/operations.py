"""What users do in the Salesforce UI or through SOAP/Apex (REST has no endpoint for them):
convertLead, merge and undelete. The admin surface (/__admin__/) calls these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadbridge.sandbox.salesforce.cascade import DELETED_WITH, undelete_children
from leadbridge.sandbox.salesforce.dml_types import DmlError, err

if TYPE_CHECKING:
    from leadbridge.sandbox.salesforce.org import Org


def convert_lead(
    org: Org,
    lead_id: str,
    *,
    account_id: str | None = None,
    create_opportunity: bool = False,
    user_id: str | None = None,
) -> dict[str, str | None]:
    """convertLead(): a contact (and an account unless given), optionally an opportunity;
    the lead becomes read-only with IsConverted and the converted ids set."""
    with org.lock:
        lead = org.existing("Lead", lead_id)
        if lead.get("IsConverted"):
            raise DmlError(err("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"))
        if account_id is None:
            account = org.create(
                "Account", {"Name": lead["Company"]}, user_id=user_id, allow_dup_save=True
            )
            account_id = account.id
        contact = org.create(
            "Contact",
            {k: lead.get(k) for k in ("FirstName", "LastName", "Email", "Title", "Phone")}
            | {"AccountId": account_id},
            user_id=user_id,
            allow_dup_save=True,
        )
        opportunity_id = None
        if create_opportunity:
            opportunity_id = org.create(
                "Opportunity",
                {
                    "Name": f"{lead['Company']}-",
                    "StageName": "Prospecting",
                    "CloseDate": org.now().date().isoformat(),
                    "AccountId": account_id,
                },
                user_id=user_id,
            ).id
        org.remember("Lead", lead["Id"])
        lead.update(
            IsConverted=True,
            ConvertedAccountId=account_id,
            ConvertedContactId=contact.id,
            ConvertedOpportunityId=opportunity_id,
            ConvertedDate=org.now().date(),
            Status="Closed - Converted",
        )
        org.touch(lead, user_id)
        return {
            "accountId": account_id,
            "contactId": contact.id,
            "opportunityId": opportunity_id,
        }


def merge(
    org: Org, sobject: str, master_id: str, loser_ids: list[str], *, user_id: str | None = None
) -> None:
    """merge(): losers go to the recycle bin with MasterRecordId = the master, and their
    children are re-parented to it (Lead, Contact, Account only; at most 2 losers)."""
    name = org.canonical(sobject) or sobject
    if name not in ("Lead", "Contact", "Account"):
        raise DmlError(err("INVALID_TYPE", f"merge is not supported for {name}"))
    if not 1 <= len(loser_ids) <= 2:
        raise DmlError(err("INVALID_OPERATION", "merge takes a master and one or two records"))
    with org.lock:
        master = org.existing(name, master_id)
        for loser_id in loser_ids:
            loser = org.existing(name, loser_id)
            for child_name, rows in org.records.items():
                for child in rows.values():
                    for key in ("AccountId", "WhoId", "WhatId", "ParentId"):
                        if child.get(key) == loser["Id"]:
                            org.remember(child_name, child["Id"])
                            child[key] = master["Id"]
                            org.touch(child, user_id)
            org.children.invalidate()
            org.remember(name, loser["Id"])
            loser["MasterRecordId"] = master["Id"]
            org.delete(name, loser["Id"], user_id=user_id)
        org.remember(name, master["Id"])
        org.touch(master, user_id)


def undelete(org: Org, sobject: str, record_id: str, *, user_id: str | None = None) -> None:
    """undelete(): out of the recycle bin, with the children its delete took along."""
    with org.lock:
        name = org.canonical(sobject) or sobject
        row = org.row(name, record_id)
        if row is None or not row["IsDeleted"]:
            raise DmlError(err("UNDELETE_FAILED", "Entity is not in the recycle bin"))
        org.remember(name, row["Id"])
        row["IsDeleted"] = False
        row["MasterRecordId"] = None
        row.pop(DELETED_WITH, None)
        org.touch(row, user_id)
        undelete_children(org, name, row["Id"], user_id)
