"""Merges and GDPR deletes, as the reference describes them (A3 "Merge", A12).

A merge of two contacts or companies makes a NEW record with a new id; both old ids keep
resolving to it (a GET of either answers the merged record, carrying the new id). The primary's
values become the current ones; the other's survive only in property history. The merged
record lists every merged id in `hs_merged_object_ids` (`;`-separated); a contact keeps the
other's e-mail as an additional address, so creating a contact with it is a CONFLICT. The
primary's associations win; the other's duplicate primary ones are dropped. Deals merge the same
way [U: the reference does not say whether a deal merge keeps the primary id; stricter: new id].
A GDPR delete removes a record for good: not archived, not restorable, its ids resolve no more.
"""

from __future__ import annotations

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.objects import ObjectType
from leadbridge.sandbox.hubspot.portal import EMAIL_SPLIT, Portal, Record, Writer
from leadbridge.sandbox.hubspot.values import instant
from leadbridge.sandbox.hubspot.writes import sync_primary_company

MERGEABLE = ("contacts", "companies", "deals")


def merge(
    portal: Portal, kind: ObjectType, primary_id: str, other_id: str, writer: Writer
) -> Record:
    if kind.name not in MERGEABLE:
        raise errors.validation(f"Merging {kind.name} is not supported")
    primary = portal.get(kind.name, primary_id)
    other = portal.get(kind.name, other_id)
    if primary is None or other is None:
        missing = primary_id if primary is None else other_id
        raise errors.validation(
            f"{missing} is not a valid {kind.singular} id, or it is being merged already"
        )
    if primary.id == other.id:
        raise errors.validation(f"Cannot merge a {kind.singular} with itself")
    ms = portal.now_ms()
    merged = Record(
        kind.name, portal.new_id(kind.name), {}, min(primary.created, other.created), ms
    )
    for name in set(primary.history) | set(other.history):
        versions = primary.history.get(name, []) + other.history.get(name, [])
        merged.history[name] = sorted(versions, key=lambda v: v["timestamp"], reverse=True)
    merged.props = dict(primary.props)
    merged_ids = _ids(primary) + _ids(other) + [primary.id, other.id]
    fills = {
        "hs_object_id": merged.id,
        "hs_merged_object_ids": EMAIL_SPLIT.join(dict.fromkeys(merged_ids)),
        kind.modified: instant(ms),
        kind.created: instant(merged.created),
    }
    if kind.name == "contacts":
        fills["hs_calculated_merged_vids"] = fills["hs_merged_object_ids"]
        fills["hs_all_contact_vids"] = EMAIL_SPLIT.join([merged.id, *dict.fromkeys(merged_ids)])
        extra = [e for e in portal.emails_of(other) + portal.emails_of(primary)[1:]]
        own = (merged.props.get("email") or "").lower()
        extra = [e for e in dict.fromkeys(extra) if e != own]
        if extra:
            fills["hs_additional_emails"] = EMAIL_SPLIT.join(extra)
    for name, value in fills.items():
        portal.stamp(merged, name, value, writer, ms)
    for old in (primary, other):
        portal.unindex(old)
        del portal.records[kind.name][old.id]
        for alias, target in list(portal.aliases[kind.name].items()):
            if target == old.id:
                portal.aliases[kind.name][alias] = merged.id
        portal.aliases[kind.name][old.id] = merged.id
    portal.store(merged)
    portal.index(merged)
    portal.associations.move(kind.name, primary.id, merged.id, keep_primary=True)
    portal.associations.move(kind.name, other.id, merged.id, keep_primary=False)
    sync_primary_company(portal, merged)
    for contact_id, _ in portal.associations.targets(kind.name, merged.id, "contacts"):
        linked = portal.get("contacts", contact_id)
        if linked is not None:
            sync_primary_company(portal, linked)  # its primary company may be the merged one
    portal.emit(
        {
            "kind": "merge",
            "type": kind.name,
            "id": merged.id,
            "primary": primary.id,
            "merged": [primary.id, other.id],
            "moved": sum(1 for n in other.props if not primary.props.get(n)),
            "writer": writer,
        }
    )
    return merged


def _ids(record: Record) -> list[str]:
    return [i for i in (record.props.get("hs_merged_object_ids") or "").split(EMAIL_SPLIT) if i]


def gdpr_delete(portal: Portal, kind: ObjectType, record: Record, writer: Writer) -> None:
    portal.unindex(record)
    del portal.records[kind.name][record.id]
    for alias, target in list(portal.aliases[kind.name].items()):
        if target == record.id:
            del portal.aliases[kind.name][alias]
    for target_type, target_id in portal.associations.forget(kind.name, record.id):
        linked = portal.get(target_type, target_id)
        if linked is not None:
            sync_primary_company(portal, linked)
    event = "privacyDeletion" if kind.name == "contacts" else "deletion"
    portal.emit({"kind": event, "type": kind.name, "id": record.id, "writer": writer})
