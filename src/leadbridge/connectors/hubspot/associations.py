"""A contact's primary company, written as an association (reference A5): the engine sends it as
the contact's `associatedcompanyid`; HubSpot keeps that property equal to the primary company.

- On create it rides inline with the contact (`associations` with type 1, HUBSPOT_DEFINED).
- Otherwise one v4 batch create of type 1 per 100 contacts; a new primary replaces the old one.
- "" removes it: the current primary is read, and its primary label archived (the contact stays
  associated, unlabelled, as HubSpot does when a user clears the primary company).

A company or contact that is gone answers a 207 error "COMPANY=123 is not valid" (recorded, no
context): it fails the inputs it names, with the relation field and a hint.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import PermanentError
from leadbridge.connectors.hubspot.catalog import COMPANIES, COMPANY_FIELD, CONTACTS
from leadbridge.connectors.hubspot.client import BATCH_MAX, HINTS, HubSpotClient
from leadbridge.connectors.hubspot.matching import Item, chunks

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}  # contact->company
INVALID = re.compile(r"^(CONTACT|COMPANY)=(\S+) is not valid")
Read = Callable[[list[str], list[str]], Awaitable[dict[str, dict[str, Any]]]]


def primary_input(company_id: Any) -> dict[str, Any]:
    return {"to": {"id": str(company_id)}, "types": [PRIMARY]}


def invalid(message: str) -> PermanentError:
    found = INVALID.match(message)
    gone = found.group(2) if found else ""
    what = "company" if found and found.group(1) == "COMPANY" else "contact"
    return PermanentError(
        f"HubSpot has no {what} {gone} to associate ({message})",
        code="INVALID_ASSOCIATION",
        field=COMPANY_FIELD,
        hint=HINTS["INVALID_ASSOCIATION"],
    )


def _fail(item: Item, error: PermanentError) -> None:
    remote_id = item.result.remote_id if item.result is not None else item.record_id
    item.result = WriteResult(item.ref, remote_id, error=error)


def _contact_id(item: Item) -> str:
    return str(item.result.remote_id if item.result is not None else item.record_id)


async def set_primary(client: HubSpotClient, items: list[Item]) -> None:
    for batch in chunks(items, _contact_id, BATCH_MAX):
        inputs = [
            {"from": {"id": _contact_id(i)}, "to": {"id": str(i.company)}, "types": [PRIMARY]}
            for i in batch
        ]
        body = await client.associations(CONTACTS, COMPANIES, "create", inputs)
        for raw in body.get("errors") or []:
            message = str(raw.get("message", ""))
            found = INVALID.match(message)
            if found is None:
                continue
            kind, gone = found.groups()
            for item in batch:
                if (kind == "COMPANY" and str(item.company) == gone) or (
                    kind == "CONTACT" and _contact_id(item) == gone
                ):
                    _fail(item, invalid(message))


async def clear_primary(read: Read, client: HubSpotClient, items: list[Item]) -> None:
    for batch in chunks(items, _contact_id, BATCH_MAX):
        current = await read([_contact_id(i) for i in batch], [COMPANY_FIELD])
        inputs = [
            {"from": {"id": _contact_id(i)}, "to": {"id": company}, "types": [PRIMARY]}
            for i in batch
            if (company := str((current.get(_contact_id(i)) or {}).get(COMPANY_FIELD) or ""))
        ]
        if inputs:
            await client.associations(CONTACTS, COMPANIES, "labels/archive", inputs)
