"""People added to a HubSpot static list, HubSpot's campaign membership for a push (Lists v3:
the list found by name, then `PUT /crm/v3/lists/{listId}/memberships/add` with the contact
ids; HubSpot ignores ids already members, so a resend adds nothing twice). The list must exist
and be static (MANUAL or SNAPSHOT: an active list's members are its filters'); the token needs
`crm.lists.read` and `crm.lists.write` (MISSING_SCOPES otherwise, an AccessDeniedError)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import PermanentError

CONTACTS = "0-1"  # the contact object's type id
NOT_FOUND_HINT = (
    "create the static list in HubSpot first (the push adds members, never lists), or fix its "
    "name (policy `campaign:` or `push --campaign`)"
)


async def list_id(client: Any, name: str) -> str:
    try:
        body = await client.api.json(
            "GET", f"/crm/v3/lists/object-type-id/{CONTACTS}/name/{quote(name, safe='')}"
        )
    except PermanentError as exc:
        if exc.code != "OBJECT_NOT_FOUND":
            raise
        raise PermanentError(
            f"list {name!r} does not exist in HubSpot",
            code="CAMPAIGN_NOT_FOUND",
            hint=NOT_FOUND_HINT,
        ) from None
    found = body.get("list") or {}
    if found.get("processingType") == "DYNAMIC":
        raise PermanentError(
            f"list {name!r} is an active list: HubSpot adds its members by its filters",
            code="CAMPAIGN_NOT_STATIC",
            hint="use a static list (or change the active list's filters in HubSpot)",
        )
    return str(found["listId"])


async def add_to_campaign(
    client: Any, name: str, people: Sequence[tuple[Any, str, str]]
) -> list[WriteResult]:
    """(ref, contacts, id) in, one WriteResult per input out (see CampaignWriter)."""
    target = await list_id(client, name)
    ids = list(dict.fromkeys(rid for _, stream, rid in people if stream == "contacts"))
    answer: dict[str, Any] = {}
    if ids:
        answer = await client.api.json(
            "PUT", f"/crm/v3/lists/{target}/memberships/add", json=ids, retry_unsafe=True
        )
    added = {str(i) for i in answer.get("recordIdsAdded") or []}
    missing = {str(i) for i in answer.get("recordIdsMissing") or []}
    out: list[WriteResult] = []
    for ref, stream, rid in people:
        if stream != "contacts":
            error = PermanentError(
                f"a {stream} record cannot join a contact list", code="INVALID_TYPE"
            )
            out.append(WriteResult(ref, rid, error=error))
        elif rid in missing:
            error = PermanentError(f"contact {rid} is not in HubSpot", code="OBJECT_NOT_FOUND")
            out.append(WriteResult(ref, rid, error=error))
        else:
            out.append(WriteResult(ref, rid, created=rid in added))
            added.discard(rid)  # a person named twice is added once
    return out
