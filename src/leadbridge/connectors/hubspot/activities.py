"""Activities into HubSpot: the engagement objects (emails, calls, meetings, notes, tasks; a
conversation summary is a note on the deal), created 100 to a `batch/create` call with their
v4 associations to the contact, company and deal inline (no extra association calls).

Idempotency: every engagement carries leadbridge's key in `leadbridge_activity_id`, a custom
text property with unique values the admin adds to each engagement type (the push says so when
it is missing). The batch is resent freely: a key HubSpot already holds is a 409 ("Existing ID:
N") for that input alone (each input has its own objectWriteTraceId), and N, made by our first
send, is handed back as ours. With the policy's sequence_subtype, a sequence send also carries
`leadbridge_activity_type: sequence_email`, which HubSpot views and reports filter on.
"""

from __future__ import annotations

import json
from typing import Any

from leadbridge.connectors.activity import ActivityOut, body_lines
from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import ConnectorError, PermanentError, TransientError
from leadbridge.connectors.hubspot.client import EXISTING_ID, HubSpotClient, error_for

KEY_PROPERTY = "leadbridge_activity_id"
TYPE_PROPERTY = "leadbridge_activity_type"
ENGAGEMENTS = ("emails", "calls", "meetings", "notes", "tasks")
OBJECT = {"email": "emails", "call": "calls", "meeting": "meetings", "note": "notes",
          "task": "tasks", "summary": "notes"}  # fmt: skip
# v4 association type ids, engagement → contact / company / deal (reference A5).
TO_CONTACT = {"calls": 194, "emails": 198, "meetings": 200, "notes": 202, "tasks": 204}
TO_COMPANY = {"calls": 182, "emails": 186, "meetings": 188, "notes": 190, "tasks": 192}
TO_DEAL = {"calls": 206, "emails": 210, "meetings": 212, "notes": 214, "tasks": 216}


def activity_object(kind: str) -> str:
    return OBJECT[kind]


def _ms(a: ActivityOut) -> str:
    return a.occurred_at.isoformat().replace("+00:00", "Z")


def properties_of(a: ActivityOut) -> dict[str, str]:
    kind = OBJECT[a.kind]
    p: dict[str, str] = {KEY_PROPERTY: a.key, "hs_timestamp": _ms(a)}
    if a.owner:
        p["hubspot_owner_id"] = a.owner
    body = a.body or ""
    if kind == "emails":
        p.update(
            hs_email_subject=a.title,
            hs_email_text=body,
            hs_email_direction="INCOMING_EMAIL" if a.direction == "incoming" else "EMAIL",
            hs_email_status="SENT",
            hs_email_headers=json.dumps(
                {
                    "from": {"email": a.from_email or ""},
                    "to": [{"email": e} for e in a.to_emails],
                    "cc": [{"email": e} for e in a.cc_emails],
                    "bcc": [],
                }
            ),
        )
        if a.sequence_subtype:
            p[TYPE_PROPERTY] = "sequence_email"
    elif kind == "calls":
        p.update(
            hs_call_title=a.title,
            hs_call_body=body_lines(a),
            hs_call_direction="INBOUND" if a.direction == "incoming" else "OUTBOUND",
            hs_call_status="COMPLETED",
        )
        if a.call_duration_seconds is not None:
            p["hs_call_duration"] = str(a.call_duration_seconds * 1000)
        if a.recording_url and a.recording_url.startswith("https://"):
            p["hs_call_recording_url"] = a.recording_url
    elif kind == "meetings":
        start = a.meeting_start or a.occurred_at
        p.update(hs_meeting_title=a.title, hs_meeting_body=body_lines(a),
                 hs_meeting_start_time=start.isoformat().replace("+00:00", "Z"),
                 hs_meeting_outcome="COMPLETED")  # fmt: skip
        if a.meeting_end:
            p["hs_meeting_end_time"] = a.meeting_end.isoformat().replace("+00:00", "Z")
        if a.location:
            p["hs_meeting_location"] = a.location
    elif kind == "tasks":
        if a.due_at:
            p["hs_timestamp"] = a.due_at.isoformat().replace("+00:00", "Z")
        status = "COMPLETED" if a.task_status == "completed" else "NOT_STARTED"
        p.update(hs_task_subject=a.title, hs_task_body=body, hs_task_type="TODO",
                 hs_task_status=status)  # fmt: skip
    else:  # notes (and summaries): the title heads the body
        p["hs_note_body"] = f"{a.title}\n\n{body}".strip() if body else a.title
    return p


def associations_of(a: ActivityOut) -> list[dict[str, Any]]:
    kind = OBJECT[a.kind]
    out = []
    for remote_id, table in ((a.person[1] if a.person else None, TO_CONTACT),
                             (a.company, TO_COMPANY), (a.deal, TO_DEAL)):  # fmt: skip
        if remote_id:
            out.append(
                {
                    "to": {"id": str(remote_id)},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": table[kind]}
                    ],
                }
            )
    return out


async def missing_key(client: HubSpotClient, sequence_subtype: bool = False) -> str | None:
    lacking = []
    for kind in ENGAGEMENTS:
        names = {p.get("name") for p in await client.properties(kind)}
        if KEY_PROPERTY not in names:
            lacking.append(kind)
        if kind == "emails" and sequence_subtype and TYPE_PROPERTY not in names:
            return (
                f"HubSpot emails have no {TYPE_PROPERTY} property, which sequence_subtype "
                "writes (sequence_email) for views to filter on: add it (single-line text)"
            )
    if not lacking:
        return None
    return (
        f"HubSpot {', '.join(lacking)} have no {KEY_PROPERTY} property: add it (single-line "
        "text, unique values) so that an activity is written once even across a crash"
    )


async def create(
    client: HubSpotClient, kind: str, items: list[tuple[Any, ActivityOut]]
) -> list[WriteResult]:
    """One batch (≤ 100) of one engagement type; one result per input, in input order."""
    inputs = [
        {
            "properties": properties_of(a),
            "associations": associations_of(a),
            "objectWriteTraceId": a.key,
        }
        for _, a in items
    ]
    try:
        body, _ = await client.batch(kind, "create", inputs, resend=True)
    except PermanentError as exc:  # the whole batch refused: each input on its own
        if len(items) == 1:
            return [WriteResult(items[0][0], error=exc)]
        half = len(items) // 2
        return [
            *await create(client, kind, items[:half]),
            *await create(client, kind, items[half:]),
        ]
    made = {
        str((r.get("properties") or {}).get(KEY_PROPERTY)): str(r.get("id"))
        for r in body.get("results") or []
    }
    failed: dict[str, ConnectorError | str] = {}
    for raw in body.get("errors") or []:
        message = str(raw.get("message", ""))
        holder = EXISTING_ID.search(message) if KEY_PROPERTY in message else None
        for trace in (raw.get("context") or {}).get("objectWriteTraceId") or []:
            failed[trace] = holder.group(1) if holder else error_for(raw.get("category"), message)
    out = []
    for ref, a in items:
        if a.key in made:
            out.append(WriteResult(ref, made[a.key], created=True))
        elif isinstance(failed.get(a.key), str):
            out.append(WriteResult(ref, str(failed[a.key]), created=True))  # our first send's
        elif a.key in failed:
            error = failed[a.key]
            assert isinstance(error, ConnectorError)
            out.append(WriteResult(ref, error=error))
        else:
            out.append(WriteResult(ref, error=TransientError("HubSpot's answer left it out")))
    return out
