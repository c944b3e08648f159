"""A HubSpot deal's company: an association (deal -> company, primary type 5), not a property.
The connector exposes it under the deal field `associatedcompanyid` (as HubSpot does for a
contact's primary company), so the engine treats it as a lookup field:

- reads fill it from one v4 batch read of the deals' company associations per 100 deals (the
  primary one, else the first; None without one);
- a write that carries it sends the deal without it, then one v4 batch create of type 5 per
  100 deals written; a company that is gone fails its deal with the field and a hint. An empty
  value is left alone (the association is not removed).

An association change alone does not change a deal's modification stamp in HubSpot: a company
set on a deal in HubSpot comes into the hub with the deal's next change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadbridge.connectors.base import RemoteRecord, WriteResult
from leadbridge.connectors.errors import PermanentError
from leadbridge.connectors.hubspot.associations import INVALID
from leadbridge.connectors.hubspot.catalog import COMPANIES, DEAL_COMPANY, DEALS
from leadbridge.connectors.hubspot.client import BATCH_MAX, HINTS, HubSpotClient

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}  # deal->company


async def fill(client: HubSpotClient, records: Sequence[RemoteRecord]) -> None:
    """Set each live deal's `associatedcompanyid` from its company associations."""
    live = [r for r in records if not r.deleted]
    for start in range(0, len(live), BATCH_MAX):
        batch = live[start : start + BATCH_MAX]
        body = await client.associations(DEALS, COMPANIES, "read", [{"id": r.id} for r in batch])
        found: dict[str, str | None] = {}
        for result in body.get("results") or []:
            rows = result.get("to") or []
            primary = next(
                (
                    row
                    for row in rows
                    if any(t.get("typeId") == 5 for t in row.get("associationTypes") or [])
                ),
                rows[0] if rows else None,
            )
            found[str((result.get("from") or {}).get("id"))] = (
                str(primary["toObjectId"]) if primary else None
            )
        for r in batch:
            r.fields[DEAL_COMPANY] = found.get(r.id)


def split(
    records: Sequence[tuple[Any, dict[str, Any]]],
) -> tuple[list[tuple[Any, dict[str, Any]]], dict[int, str]]:
    """The records without the company field, and the companies to associate by input index."""
    out, companies = [], {}
    for index, (ref, values) in enumerate(records):
        values = dict(values)
        company = values.pop(DEAL_COMPANY, None)
        if company not in (None, ""):
            companies[index] = str(company)
        out.append((ref, values))
    return out, companies


async def associate(
    client: HubSpotClient, results: list[WriteResult], companies: dict[int, str]
) -> list[WriteResult]:
    """Associate each deal written with its company; a company that is gone fails its deal."""
    todo = [(i, companies[i]) for i, r in enumerate(results) if i in companies and r.ok]
    out = list(results)
    for start in range(0, len(todo), BATCH_MAX):
        batch = todo[start : start + BATCH_MAX]
        inputs = [
            {"from": {"id": str(out[i].remote_id)}, "to": {"id": company}, "types": [PRIMARY]}
            for i, company in batch
        ]
        body = await client.associations(DEALS, COMPANIES, "create", inputs)
        for raw in body.get("errors") or []:
            message = str(raw.get("message", ""))
            gone = INVALID.match(message)
            for i, company in batch:
                if gone is None or gone.group(2) in (company, str(out[i].remote_id)):
                    error = PermanentError(
                        f"HubSpot deal {out[i].remote_id} written, its company {company} not "
                        f"associated ({message})",
                        code="INVALID_ASSOCIATION",
                        field=DEAL_COMPANY,
                        hint=HINTS["INVALID_ASSOCIATION"],
                    )
                    out[i] = WriteResult(out[i].ref, out[i].remote_id, error=error)
    return out
