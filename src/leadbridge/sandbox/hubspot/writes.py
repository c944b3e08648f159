"""Record writes with HubSpot's server-filled values (as recorded): create, update, archive,
restore. Each takes the portal (its lock held by the caller) and emits webhook events.

On create a contact gets `lifecyclestage: lead`, `hs_email_domain`, `hs_all_contact_vids`,
`hs_pipeline: contacts-lifecycle-pipeline` and friends; a company `lifecyclestage: lead` and
`website` = `domain`; every record `hs_object_source*` (INTEGRATION and the app id for API
writes, CRM_UI and the user id for a user's) and its create and last-modified stamps. An update
that changes no value changes nothing, stamps included [U: stricter for echo detection].
"""

from __future__ import annotations

from typing import Any

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.objects import ObjectType
from leadbridge.sandbox.hubspot.portal import Portal, Record, Writer
from leadbridge.sandbox.hubspot.values import instant

CONTACT_FILLS = {
    "hs_is_contact": "true",
    "hs_is_unworked": "true",
    "hs_pipeline": "contacts-lifecycle-pipeline",
    "hs_currently_enrolled_in_prospecting_agent": "false",
    "hs_membership_has_accessed_private_content": "0",
    "hs_registered_member": "0",
}
# A PATCH answer holds the sent values plus these, when set (recorded contact and company PATCH).
PATCH_ECHO = (
    "hs_object_source",
    "hs_object_source_id",
    "hs_object_source_label",
    "hs_pipeline",
    "lifecyclestage",
    "hs_is_contact",
    "hs_is_unworked",
)
DEAL_FILLS = ("hs_is_closed", "hs_is_closed_won", "hs_deal_stage_probability")
Association = tuple[str, str, int]  # (target type, target id, type id)


def create(
    portal: Portal,
    kind: ObjectType,
    values: dict[str, str],
    writer: Writer,
    associations: list[Association] | None = None,
) -> Record:
    """A validated create (see `Portal.clean`); checks required values and uniqueness."""
    portal.required(kind, values)
    portal.check_unique(kind, values, None)
    ms = portal.now_ms()
    record = Record(kind.name, portal.new_id(kind.name), {}, ms, ms)
    filled: dict[str, str] = dict(values)
    now = instant(ms)
    filled.setdefault(kind.created, now)
    filled[kind.modified] = now
    filled["hs_object_id"] = record.id
    filled["hs_object_source"] = filled["hs_object_source_label"] = writer.source
    filled["hs_object_source_id"] = writer.source_id
    if kind.name in ("contacts", "companies"):
        filled.setdefault("lifecyclestage", "lead")
        if filled["lifecyclestage"]:
            date_prop = f"hs_lifecyclestage_{filled['lifecyclestage']}_date"
            if portal.schema.get(kind.name, date_prop):
                filled[date_prop] = now
    if kind.name == "contacts":
        filled.update({k: v for k, v in CONTACT_FILLS.items() if k not in filled})
        filled["hs_all_contact_vids"] = record.id
        if filled.get("email"):
            filled["hs_email_domain"] = filled["email"].rsplit("@", 1)[-1]
    elif kind.name == "companies":
        filled["hs_pipeline"] = "companies-lifecycle-pipeline"
        if filled.get("domain") and not filled.get("website"):
            filled["website"] = filled["domain"]
    elif kind.name == "deals":
        filled.setdefault("pipeline", "default")
        _deal_stage_fills(portal, filled)
    if filled.get("hubspot_owner_id"):
        filled["hubspot_owner_assigneddate"] = now
    if kind.engagement:
        _engagement_fills(portal, kind, filled)
    if writer.user_id and portal.schema.get(kind.name, "hs_created_by_user_id"):
        filled["hs_created_by_user_id"] = writer.user_id
    for name, value in filled.items():
        if value != "" or name in values:
            portal.stamp(record, name, value, writer, ms)
    for target, target_id, type_id in associations or []:
        portal.associations.add(kind.name, record.id, target, target_id, type_id)
    portal.store(record)
    portal.index(record)
    sync_primary_company(portal, record)
    portal.emit({"kind": "creation", "type": kind.name, "id": record.id, "writer": writer})
    return record


def update(
    portal: Portal, kind: ObjectType, record: Record, values: dict[str, str], writer: Writer
) -> list[str]:
    """Apply validated values; the names whose value changed (nothing stamped if none)."""
    changed = [n for n, v in values.items() if record.props.get(n, "") != v]
    if not changed:
        return []
    merged = {**record.props, **values}
    portal.check_unique(kind, merged, record.id)
    ms = portal.now_ms()
    now = instant(ms)
    extra: dict[str, str] = {kind.modified: now}
    if kind.name == "contacts" and "email" in changed:
        extra["hs_email_domain"] = values["email"].rsplit("@", 1)[-1] if values["email"] else ""
    if "lifecyclestage" in changed and values["lifecyclestage"]:
        date_prop = f"hs_lifecyclestage_{values['lifecyclestage']}_date"
        if portal.schema.get(kind.name, date_prop) and not record.props.get(date_prop):
            extra[date_prop] = now
    if "hubspot_owner_id" in changed:
        extra["hubspot_owner_assigneddate"] = now
    if writer.user_id and portal.schema.get(kind.name, "hs_updated_by_user_id"):
        extra["hs_updated_by_user_id"] = writer.user_id
    if kind.name == "deals" and ("dealstage" in changed or "pipeline" in changed):
        fills = dict(merged)
        _deal_stage_fills(portal, fills)
        extra.update({k: fills[k] for k in DEAL_FILLS if k in fills})
    portal.unindex(record)
    for name in changed:
        portal.stamp(record, name, values[name], writer, ms)
    for name, value in extra.items():
        portal.stamp(record, name, value, writer, ms)
    record.updated = ms
    portal.index(record)
    for name in changed:
        portal.emit(
            {
                "kind": "propertyChange",
                "type": kind.name,
                "id": record.id,
                "property": name,
                "value": values[name],
                "writer": writer,
            }
        )
    return changed


def archive(portal: Portal, kind: ObjectType, record: Record, writer: Writer) -> None:
    ms = portal.now_ms()
    record.archived, record.archived_at, record.updated = True, ms, ms
    portal.unindex(record)
    portal.emit({"kind": "deletion", "type": kind.name, "id": record.id, "writer": writer})


def restore(portal: Portal, kind: ObjectType, record_id: str, writer: Writer) -> Record:
    """Out of the recycle bin (HubSpot keeps archived records 90 days); 409 if its e-mail was
    taken meanwhile."""
    record = portal.get(kind.name, record_id, archived=True)
    if record is None:
        raise errors.not_found_html()
    portal.check_unique(kind, record.props, record.id)
    ms = portal.now_ms()
    record.archived, record.archived_at, record.updated = False, None, ms
    portal.stamp(record, kind.modified, instant(ms), writer, ms)
    portal.index(record)
    portal.emit({"kind": "restore", "type": kind.name, "id": record.id, "writer": writer})
    return record


BODIES = ("hs_meeting_body", "hs_task_body", "hs_note_body", "hs_call_body", "hs_email_text")


def _engagement_fills(portal: Portal, kind: ObjectType, filled: dict[str, str]) -> None:
    """Owner and body previews, as the recorded meeting and task creates show them."""
    owner = portal.owners.get(filled.get("hubspot_owner_id") or "")
    if owner is not None:
        filled["hs_all_owner_ids"] = owner["id"]
        filled["hs_user_ids_of_all_owners"] = str(owner["userIdIncludingInactive"])
    body = next((filled[n] for n in BODIES if filled.get(n)), None)
    if body is not None:
        filled["hs_body_preview"] = body[:300]
        filled["hs_body_preview_html"] = (
            f"<html>\n <head></head>\n <body>\n {body[:300]}\n </body>\n</html>"
        )
        filled["hs_body_preview_is_truncated"] = str(len(body) > 300).lower()
    if kind.name == "meetings":
        filled["hs_meeting_source"] = "CRM_UI"  # as recorded, even for API creates


def sync_primary_company(portal: Portal, record: Record) -> None:
    """A contact's `associatedcompanyid` follows its primary company association."""
    if record.type != "contacts":
        return
    primary = portal.associations.primary_company("contacts", record.id) or ""
    if record.props.get("associatedcompanyid", "") != primary:
        record.props["associatedcompanyid"] = primary


def _deal_stage_fills(portal: Portal, values: dict[str, Any]) -> None:
    stage = portal.pipelines.stage(values.get("pipeline") or "default", values.get("dealstage", ""))
    if stage is None:
        return
    closed = stage["metadata"]["isClosed"] == "true"
    won = closed and stage["metadata"]["probability"] == "1.0"
    for name, value in zip(
        DEAL_FILLS,
        (str(closed).lower(), str(won).lower(), stage["metadata"]["probability"]),
        strict=True,
    ):
        if portal.schema.get("deals", name):
            values[name] = value


def patch_answer(kind: ObjectType, record: Record, sent: dict[str, Any]) -> dict[str, str]:
    """The properties a PATCH answers with: the sent ones and the server's own (recorded)."""
    names = set(sent) | {kind.created, "hs_object_id", kind.modified, *PATCH_ECHO}
    return {n: record.props[n] for n in sorted(names) if record.props.get(n) is not None}
