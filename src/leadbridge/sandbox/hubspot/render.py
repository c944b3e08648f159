"""Records as the API shows them (`SimplePublicObject` and friends), and the query parameters
that shape them (`properties=`, `propertiesWithHistory=`, `associations=`).

As recorded: without `properties=` a read answers the type's default properties; with it, the
asked-for ones (null when empty, unknown names silently left out) plus the create stamp,
`hs_object_id` and the last-modified stamp.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.hubspot.objects import TYPES, ObjectType, object_type
from leadbridge.sandbox.hubspot.portal import Portal, Record
from leadbridge.sandbox.hubspot.values import iso_ms


def listed(request: Request, name: str) -> list[str] | None:
    """A multi-valued query parameter: repeated keys (the SDK) or comma-joined (others)."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def selection(kind: ObjectType, portal: Portal, requested: list[str] | None) -> list[str]:
    if requested is None:
        return list(kind.defaults)
    known = [n for n in requested if portal.schema.get(kind.name, n)]
    return sorted(set(known) | set(kind.always))


def record_json(
    portal: Portal,
    record: Record,
    names: list[str] | None,
    history: list[str] | None = None,
    associations: list[str] | None = None,
) -> dict[str, Any]:
    """`names` None: every set property (create answers, admin reads)."""
    props: dict[str, str | None]
    if names is None:
        props = {k: v for k, v in sorted(record.props.items()) if v is not None}
    else:
        props = {n: record.props.get(n) for n in sorted(names)}
    out: dict[str, Any] = {
        "id": record.id,
        "properties": props,
        "createdAt": iso_ms(record.created),
        "updatedAt": iso_ms(record.updated),
        "archived": record.archived,
    }
    if record.archived and record.archived_at is not None:
        out["archivedAt"] = iso_ms(record.archived_at)
    if history:
        out["propertiesWithHistory"] = {
            n: list(record.history.get(n, [])) for n in history if portal.schema.get(record.type, n)
        }
    if associations:
        out["associations"] = v3_associations(portal, record, associations)
    return out


def v3_associations(portal: Portal, record: Record, targets: list[str]) -> dict[str, Any]:
    """`{"companies": {"results": [{"id", "type": "contact_to_company"}]}}`, one entry per type."""
    out: dict[str, Any] = {}
    for target in targets:
        try:
            kind = object_type(target)
        except Exception:  # an unknown name is left out, as unknown properties are
            continue
        results = []
        for target_id, type_ids in portal.associations.targets(record.type, record.id, kind.name):
            linked = portal.get(kind.name, target_id)
            if linked is None:
                continue
            for type_id in type_ids:
                kind_of = portal.associations.types[type_id]
                name = kind_of.v3_name or str(type_id)
                results.append({"id": target_id, "type": name})
        if results:
            out[kind.name] = {"results": results}
    return out


def kinds() -> list[str]:
    return list(TYPES)
