"""Activities into Salesforce: e-mails, calls, tasks, notes and conversation summaries as
Tasks (TaskSubtype Email, Call or Task; a sequence send, with the policy's sequence_subtype,
as ListEmail, which list views and reports filter on), meetings as Events.

Notes are Tasks (TaskSubtype Task, Completed), not ContentNotes: a ContentNote takes a second
call per note to link it (ContentDocumentLink), cannot be created in a collection with its
link, and has no field to make its create idempotent (reference §Note/ContentNote). A Task is
created 200 to a collection call and carries the key field.

Idempotency: every record carries leadbridge's key in `Leadbridge_Activity_Id__c`, a unique
external-id text field the admin adds to Task and Event (`policy check` and the push say so
when it is missing). A create sent twice fails DUPLICATE_VALUE on the key, naming the record
the first send made, which is handed back as ours. WhoId is the contact or lead, WhatId the
opportunity (a summary's deal) or else the account; Salesforce refuses a WhatId with a lead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from leadbridge.connectors.activity import ActivityOut, body_lines
from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import PermanentError

KEY_FIELD = "Leadbridge_Activity_Id__c"
DUPLICATE_ON = re.compile(r"duplicates value on record with id:\s*(\w+)")
SUBTYPE = {"email": "Email", "call": "Call"}
SEQUENCE_SUBTYPE = "ListEmail"


def activity_object(kind: str) -> str:
    return "Event" if kind == "meeting" else "Task"


def values_of(a: ActivityOut) -> dict[str, Any]:
    """The Task or Event fields of one activity."""
    who = a.person[1] if a.person else None
    lead = a.person is not None and a.person[0] == "Lead"
    what = None if lead else (a.deal or a.company)
    v: dict[str, Any] = {KEY_FIELD: a.key, "Subject": a.title[:255]}
    description = body_lines(a)
    if description:
        v["Description"] = description[:32000]
    if who:
        v["WhoId"] = who
    if what:
        v["WhatId"] = what
    if a.owner:
        v["OwnerId"] = a.owner
    if a.kind == "meeting":
        start = a.meeting_start or a.occurred_at
        end = a.meeting_end if a.meeting_end and a.meeting_end > start else None
        end = end or start + timedelta(minutes=30)
        v.update(
            StartDateTime=start.isoformat(),
            EndDateTime=end.isoformat(),
            ActivityDateTime=start.isoformat(),
            DurationInMinutes=int((end - start).total_seconds() // 60),
        )
        if a.location:
            v["Location"] = a.location[:255]
        return v
    subtype = SEQUENCE_SUBTYPE if a.sequence_subtype else SUBTYPE.get(a.kind, "Task")
    done = a.kind != "task" or a.task_status == "completed"
    due = a.due_at if a.kind == "task" and a.due_at else a.occurred_at
    v.update(
        TaskSubtype=subtype,
        Status="Completed" if done else "Not Started",
        ActivityDate=due.date().isoformat(),
    )
    if a.kind == "call":
        if a.call_duration_seconds is not None:
            v["CallDurationInSeconds"] = a.call_duration_seconds
        v["CallType"] = "Inbound" if a.direction == "incoming" else "Outbound"
    return v


def duplicate_of(result: WriteResult) -> str | None:
    """The record a create duplicated on the key (ours: only leadbridge writes the key)."""
    error = result.error
    if error is None or KEY_FIELD not in (error.message or ""):
        return None
    found = DUPLICATE_ON.search(error.message)
    return found.group(1) if found else None


def handed_back(results: Sequence[WriteResult]) -> list[WriteResult]:
    """Creates that failed on a key a first send already holds: that record, as created."""
    out = []
    for r in results:
        holder = duplicate_of(r)
        out.append(WriteResult(r.ref, holder, created=True) if holder else r)
    return out


def missing_key(fields: Sequence[str], sobject: str) -> str | None:
    if KEY_FIELD in fields:
        return None
    return (
        f"Salesforce {sobject} has no {KEY_FIELD} field: add it (Text(64), External ID, "
        "Unique) so that an activity is written once even across a crash"
    )


def refused(ref: Any, message: str) -> WriteResult:
    return WriteResult(ref, error=PermanentError(message, code="MISSING_KEY_FIELD"))
