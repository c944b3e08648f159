"""The hub side and the remote side of one mapped record, in comparable form.

Owners travel as remote user ids (through the user links); the stream's domain field (a
website) is compared by its registrable domain, so "https://www.acme.com/" and "acme.com" are
the same value.
"""

from __future__ import annotations

from typing import Any

from leadbridge.connectors.catalog import Stream
from leadbridge.hub.edits import get_field
from leadbridge.hub.tables import Company, Person
from leadbridge.normalize import normalize_domain
from leadbridge.policy.crm import CrmSync
from leadbridge.policy.fields import ObjectMap


def hub_values(
    record: Person | Company,
    mapping: ObjectMap,
    *,
    policy: CrmSync,
    company: Company | None,
    to_remote: dict[int, str],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in mapping.fields:
        if f.hub == "owner":
            out[f.hub] = to_remote.get(record.owner_id) if record.owner_id else None
        elif f.hub == "company_name":
            out[f.hub] = company.name if company is not None else None
        else:
            out[f.hub] = get_field(record, f.hub)
    if (
        isinstance(record, Person)
        and record.email_status != "verified"
        and not policy.push.push_unverified_emails
    ):
        out.pop("email", None)  # pushed without the unverified address; the record still goes
    return out


def crm_values(fields: dict[str, Any], mapping: ObjectMap, stream: Stream) -> dict[str, Any]:
    domain = stream.role("domain")
    return {
        f.crm: normalize_domain(fields.get(f.crm)) if f.crm == domain else fields.get(f.crm)
        for f in mapping.fields
    }


def to_hub(changes: dict[str, Any], to_hub_user: dict[str, int]) -> dict[str, Any]:
    """Remote values (by hub field) as hub values; an owner we cannot map is left alone."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "owner":
            if value in to_hub_user:
                out["owner_id"] = to_hub_user[value]
        elif name == "domain":
            out[name] = normalize_domain(value)
        else:
            out[name] = value
    return out
