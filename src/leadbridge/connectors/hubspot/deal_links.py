"""A HubSpot deal's company and contacts: associations (deal -> company, primary type 5; deal ->
contact, type 3), not properties. The connector exposes them as deal fields, so the engine treats
them like lookups: `associatedcompanyid` (as HubSpot does for a contact's primary company) and
`associatedcontactids` (the contacts' ids, sorted):

- reads fill them from v4 batch reads of the deals' associations, one per 100 deals and target
  (the primary company, else the first; None without one; [] without contacts);
- a write that carries them sends the deal without them, then v4 batch creates per 100 deals
  written; a company or contact that is gone fails its deal with the field and a hint. They
  only add: an empty company, or a contact left out, is not removed from the deal.

An association change alone does not change a deal's modification stamp in HubSpot: a company or
contact set on a deal in HubSpot comes into the hub with the deal's next change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadbridge.connectors.base import RemoteRecord, WriteResult
from leadbridge.connectors.errors import PermanentError
from leadbridge.connectors.hubspot.associations import INVALID
from leadbridge.connectors.hubspot.catalog import (
    COMPANIES,
    CONTACTS,
    DEAL_COMPANY,
    DEAL_CONTACTS,
    DEALS,
)
from leadbridge.connectors.hubspot.client import BATCH_MAX, HINTS, HubSpotClient

TYPES = {COMPANIES: 5, CONTACTS: 3}  # deal -> company (primary), deal -> contact
FIELDS = {DEAL_COMPANY: COMPANIES, DEAL_CONTACTS: CONTACTS}


async def _targets(
    client: HubSpotClient, target: str, ids: list[str]
) -> dict[str, list[tuple[str, bool]]]:
    """deal id -> [(target id, whether of this pair's defined type)]."""
    body = await client.associations(DEALS, target, "read", [{"id": i} for i in ids])
    out: dict[str, list[tuple[str, bool]]] = {}
    for result in body.get("results") or []:
        rows = result.get("to") or []
        out[str((result.get("from") or {}).get("id"))] = [
            (
                str(row["toObjectId"]),
                any(t.get("typeId") == TYPES[target] for t in row.get("associationTypes") or []),
            )
            for row in rows
        ]
    return out


async def fill(client: HubSpotClient, records: Sequence[RemoteRecord]) -> None:
    """Set each live deal's company and contacts fields from its associations."""
    live = [r for r in records if not r.deleted]
    for start in range(0, len(live), BATCH_MAX):
        batch = live[start : start + BATCH_MAX]
        ids = [r.id for r in batch]
        companies = await _targets(client, COMPANIES, ids)
        contacts = await _targets(client, CONTACTS, ids)
        for r in batch:
            found = companies.get(r.id) or []
            primary = next((i for i, typed in found if typed), found[0][0] if found else None)
            r.fields[DEAL_COMPANY] = primary
            r.fields[DEAL_CONTACTS] = sorted({i for i, _ in contacts.get(r.id) or []})


def split(
    records: Sequence[tuple[Any, dict[str, Any]]],
) -> tuple[list[tuple[Any, dict[str, Any]]], dict[int, list[tuple[str, str]]]]:
    """The records without the association fields, and per input index the (target type,
    id) pairs to associate."""
    out, links = [], {}
    for index, (ref, values) in enumerate(records):
        values = dict(values)
        wanted: list[tuple[str, str]] = []
        company = values.pop(DEAL_COMPANY, None)
        if company not in (None, ""):
            wanted.append((COMPANIES, str(company)))
        for contact in values.pop(DEAL_CONTACTS, None) or []:
            wanted.append((CONTACTS, str(contact)))
        if wanted:
            links[index] = wanted
        out.append((ref, values))
    return out, links


async def associate(
    client: HubSpotClient, results: list[WriteResult], links: dict[int, list[tuple[str, str]]]
) -> list[WriteResult]:
    """Associate each deal written with its company and contacts; one that is gone fails its
    deal (written, not associated) with the field and a hint."""
    out = list(results)
    for target, field in ((COMPANIES, DEAL_COMPANY), (CONTACTS, DEAL_CONTACTS)):
        todo = [
            (i, to)
            for i, r in enumerate(results)
            if r.ok
            for kind, to in links.get(i, [])
            if kind == target
        ]
        for start in range(0, len(todo), BATCH_MAX):
            batch = todo[start : start + BATCH_MAX]
            spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TYPES[target]}
            inputs = [
                {"from": {"id": str(out[i].remote_id)}, "to": {"id": to}, "types": [spec]}
                for i, to in batch
            ]
            body = await client.associations(DEALS, target, "create", inputs)
            for raw in body.get("errors") or []:
                message = str(raw.get("message", ""))
                gone = INVALID.match(message)
                for i, to in batch:
                    if gone is None or gone.group(2) in (to, str(out[i].remote_id)):
                        error = PermanentError(
                            f"HubSpot deal {out[i].remote_id} written, its {target[:-1]} {to} "
                            f"not associated ({message})",
                            code="INVALID_ASSOCIATION",
                            field=field,
                            hint=HINTS["INVALID_ASSOCIATION"],
                        )
                        out[i] = WriteResult(out[i].ref, out[i].remote_id, error=error)
    return out
