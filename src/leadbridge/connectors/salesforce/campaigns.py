"""People added to a Salesforce campaign: CampaignMember records (CampaignId + LeadId or
ContactId). The campaign must exist (the push adds members, never campaigns), and the user
needs access to it and permission to add members; both are told before anything is written.
A person already a member is left as they are: the members are read first, and Salesforce's
own "Already a campaign member." (a race) counts as already there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import AccessDeniedError, PermanentError
from leadbridge.connectors.salesforce.reads import IN_CHUNK, soql_text

MEMBER_FIELD = {"Lead": "LeadId", "Contact": "ContactId"}
NOT_FOUND_HINT = (
    "create the campaign in Salesforce first (the push adds members, never campaigns), or fix "
    "its name (policy `campaign:` or `push --campaign`)"
)


async def campaign_id(connector: Any, name: str) -> str:
    soql = f"SELECT Id FROM Campaign WHERE Name = {soql_text(name)} LIMIT 1"
    async for rows in connector.client.query(soql):
        for row in rows:
            return str(row["Id"])
    raise PermanentError(
        f"campaign {name!r} does not exist in Salesforce",
        code="CAMPAIGN_NOT_FOUND",
        hint=NOT_FOUND_HINT,
    )


async def members(connector: Any, campaign: str, field: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ", ".join(soql_text(i) for i in ids[start : start + IN_CHUNK])
        soql = (
            f"SELECT {field} FROM CampaignMember "
            f"WHERE CampaignId = {soql_text(campaign)} AND {field} IN ({chunk})"
        )
        async for rows in connector.client.query(soql):
            found.update(str(r[field])[:15] for r in rows if r.get(field))
    return found


async def add_to_campaign(
    connector: Any, name: str, people: Sequence[tuple[Any, str, str]]
) -> list[WriteResult]:
    """(ref, Lead|Contact, id) in, one WriteResult per input out (see CampaignWriter)."""
    campaign = await campaign_id(connector, name)
    results: dict[int, WriteResult] = {}
    todo: list[tuple[int, Any, dict[str, Any]]] = []
    for stream, field in MEMBER_FIELD.items():
        mine = [(i, ref, rid) for i, (ref, s, rid) in enumerate(people) if s == stream]
        there = await members(connector, campaign, field, [rid for _, _, rid in mine])
        for i, ref, rid in mine:
            if rid[:15] in there:
                results[i] = WriteResult(ref, rid, created=False)
            else:
                todo.append((i, ref, {"CampaignId": campaign, field: rid}))
    for i, (ref, stream, rid) in enumerate(people):
        if stream not in MEMBER_FIELD:
            error = PermanentError(f"a {stream} cannot be a campaign member", code="INVALID_TYPE")
            results[i] = WriteResult(ref, rid, error=error)
    answers = await connector.write("CampaignMember", "create", [(i, v) for i, _, v in todo])
    for (i, ref, values), answer in zip(todo, answers, strict=True):
        person = str(values.get("LeadId") or values.get("ContactId"))
        code = getattr(answer.error, "code", None) or ""
        if code.startswith("INSUFFICIENT_ACCESS"):
            # The user's permission, not the person's: every member fails alike, none written.
            raise AccessDeniedError(
                "the user needs read access to Campaign and the permission to add campaign "
                f"members: {answer.error}",
                code=code,
            )
        if code == "DUPLICATE_VALUE" and "campaign member" in str(answer.error).lower():
            results[i] = WriteResult(ref, person, created=False)
        else:
            results[i] = WriteResult(ref, person, created=answer.ok, error=answer.error)
    return [results[i] for i in range(len(people))]
