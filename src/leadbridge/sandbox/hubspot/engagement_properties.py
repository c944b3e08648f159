"""Property definitions of the engagement objects (emails, calls, meetings, notes, tasks).

No property list of these was recorded, so they are written here from the reference (A6) and
the recorded engagement responses (meetings, tasks): the fields a sync reads and writes, with
their documented option values. Read-only ones are the server-filled stamps.
"""

from __future__ import annotations

from typing import Any

# (name, label, type, fieldType, options, read-only)
Row = tuple[str, str, str, str, tuple[str, ...], bool]

COMMON: tuple[Row, ...] = (
    ("hs_timestamp", "Activity date", "datetime", "date", (), False),
    ("hubspot_owner_id", "Activity assigned to", "enumeration", "select", (), False),
    ("hs_createdate", "Create date", "datetime", "date", (), True),
    ("hs_lastmodifieddate", "Last modified date", "datetime", "date", (), True),
    ("hs_object_id", "Record ID", "number", "number", (), True),
    ("hs_object_source", "Record source", "string", "text", (), True),
    ("hs_object_source_id", "Record source ID", "string", "text", (), True),
    ("hs_object_source_label", "Record source label", "string", "text", (), True),
    ("hs_attachment_ids", "Attached file IDs", "string", "text", (), False),
    ("hs_body_preview", "Body preview", "string", "textarea", (), True),
    ("hs_body_preview_html", "Body preview HTML", "string", "html", (), True),
    ("hs_body_preview_is_truncated", "Body preview truncated", "bool", "booleancheckbox", (), True),
    ("hs_user_ids_of_all_owners", "User IDs of all owners", "enumeration", "checkbox", (), True),
    ("hs_all_owner_ids", "All owner IDs", "enumeration", "checkbox", (), True),
    ("hubspot_owner_assigneddate", "Owner assigned date", "datetime", "date", (), True),
    ("hs_updated_by_user_id", "Updated by user ID", "number", "number", (), True),
    ("hs_merged_object_ids", "Merged record IDs", "enumeration", "checkbox", (), True),
    ("hs_unique_creation_key", "Unique creation key", "string", "text", (), True),
)
BY_TYPE: dict[str, tuple[Row, ...]] = {
    "emails": (
        ("hs_email_direction", "Email direction", "enumeration", "select",
         ("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"), False),
        ("hs_email_status", "Email send status", "enumeration", "select",
         ("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"), False),
        ("hs_email_subject", "Email subject", "string", "text", (), False),
        ("hs_email_text", "Email body", "string", "textarea", (), False),
        ("hs_email_html", "Email HTML body", "string", "html", (), False),
        ("hs_email_headers", "Email headers", "string", "textarea", (), False),
        ("hs_email_from_email", "From email", "string", "text", (), True),
        ("hs_email_to_email", "To email", "string", "text", (), True),
    ),
    "calls": (
        ("hs_call_title", "Call title", "string", "text", (), False),
        ("hs_call_body", "Call notes", "string", "textarea", (), False),
        ("hs_call_direction", "Call direction", "enumeration", "select",
         ("INBOUND", "OUTBOUND"), False),
        ("hs_call_disposition", "Call outcome", "string", "text", (), False),
        ("hs_call_duration", "Call duration (ms)", "number", "number", (), False),
        ("hs_call_from_number", "From number", "string", "text", (), False),
        ("hs_call_to_number", "To number", "string", "text", (), False),
        ("hs_call_recording_url", "Recording URL", "string", "text", (), False),
        ("hs_call_status", "Call status", "enumeration", "select",
         ("BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED",
          "IN_PROGRESS", "NO_ANSWER", "QUEUED", "RINGING"), False),
    ),
    "meetings": (
        ("hs_meeting_title", "Meeting name", "string", "text", (), False),
        ("hs_meeting_body", "Meeting description", "string", "textarea", (), False),
        ("hs_internal_meeting_notes", "Internal notes", "string", "textarea", (), False),
        ("hs_meeting_external_url", "External URL", "string", "text", (), False),
        ("hs_meeting_location", "Location", "string", "text", (), False),
        ("hs_meeting_start_time", "Start time", "datetime", "date", (), False),
        ("hs_meeting_end_time", "End time", "datetime", "date", (), False),
        ("hs_meeting_outcome", "Meeting outcome", "enumeration", "select",
         ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"), False),
        ("hs_meeting_source", "Meeting source", "string", "text", (), True),
    ),
    "notes": (("hs_note_body", "Note body", "string", "textarea", (), False),),
    "tasks": (
        ("hs_task_subject", "Task title", "string", "text", (), False),
        ("hs_task_body", "Task notes", "string", "textarea", (), False),
        ("hs_task_status", "Task status", "enumeration", "select",
         ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"), False),
        ("hs_task_priority", "Priority", "enumeration", "select",
         ("NONE", "LOW", "MEDIUM", "HIGH"), False),
        ("hs_task_type", "Task type", "enumeration", "select",
         ("EMAIL", "CALL", "TODO", "LINKED_IN"), False),
        ("hs_task_reminders", "Reminders", "string", "text", (), False),
        ("hs_task_is_completed", "Is completed", "number", "number", (), True),
        ("hs_task_completion_date", "Completed at", "datetime", "date", (), True),
    ),
}  # fmt: skip


def definitions(object_name: str, group: str) -> list[dict[str, Any]]:
    """The v3 property definitions of one engagement type."""
    out: list[dict[str, Any]] = []
    for order, (name, label, kind, field, options, read_only) in enumerate(
        COMMON + BY_TYPE[object_name]
    ):
        out.append(
            {
                "name": name,
                "label": label,
                "type": kind,
                "fieldType": field,
                "description": "",
                "groupName": group,
                "options": [
                    {"label": o.replace("_", " ").title(), "value": o, "displayOrder": i,
                     "hidden": False}
                    for i, o in enumerate(options)
                ],
                "displayOrder": order,
                "calculated": False,
                "externalOptions": name == "hubspot_owner_id",
                "hasUniqueValue": name == "hs_unique_creation_key",
                "hidden": False,
                "hubspotDefined": True,
                "modificationMetadata": {
                    "archivable": True,
                    "readOnlyDefinition": True,
                    "readOnlyValue": read_only,
                },
                "formField": False,
                "dataSensitivity": "non_sensitive",
                **({"referencedObjectType": "OWNER"} if name == "hubspot_owner_id" else {}),
            }
        )  # fmt: skip
    return out
