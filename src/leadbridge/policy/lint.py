"""`leadbridge policy check`: the policy against the live describe of the org.

Warnings are the known disasters (a CRM-owned field written from the hub, a source value not in
its picklist, a required field left unmapped, a field mapped twice); errors are what cannot work
(a CRM field that does not exist or cannot be written)."""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from leadbridge.policy.crm import CrmSync

CRM_OWNED = {"Status": "lead status", "OwnerId": "the sales owner", "StageName": "deal stage",
             "LifecycleStage": "lifecycle stage"}  # fmt: skip
SYSTEM_FIELDS = {"OwnerId", "Id"}


@dataclass
class LintReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


async def lint(policy: CrmSync, describe: Callable[[str], Awaitable[dict[str, Any]]]) -> LintReport:
    out = LintReport()
    for sobject, mapping in (("Lead", policy.lead), ("Contact", policy.contact),
                             ("Account", policy.account)):  # fmt: skip
        fields = {f["name"]: f for f in (await describe(sobject))["fields"]}
        seen: dict[str, str] = {}
        for f in mapping.fields:
            where = f"{sobject}.{f.crm}"
            if f.crm in seen:
                out.warnings.append(f"{where} is mapped twice ({seen[f.crm]} and {f.hub})")
            seen[f.crm] = f.hub
            meta = fields.get(f.crm)
            if meta is None:
                out.errors.append(
                    f"{where} does not exist in this org{_missing_hint(f.crm, fields, sobject)}"
                )
                continue
            if f.writes_crm and not (meta.get("updateable") or meta.get("createable")):
                out.errors.append(f"{where} is read-only: it cannot be written from the hub")
            if f.writes_crm and f.crm in CRM_OWNED:
                out.warnings.append(
                    f"{where} ({CRM_OWNED[f.crm]}) is written hub→CRM: the CRM should own it "
                    "(direction: crm_to_hub)"
                )
        required = {
            name
            for name, meta in fields.items()
            if meta.get("createable")
            and not meta.get("nillable")
            and not meta.get("defaultedOnCreate")
            and meta.get("type") != "boolean"
            and name not in SYSTEM_FIELDS
        }
        if sobject == "Contact":
            required.discard("AccountId")
        for name in sorted(required - set(seen)):
            out.warnings.append(f"{sobject}.{name} is required by Salesforce but not mapped")
        source = policy.push.account_source if sobject == "Account" else policy.push.people_source
        if source is not None:
            meta = fields.get(source.field)
            if meta is None:
                out.errors.append(f"source field {sobject}.{source.field} does not exist")
            elif meta.get("type") == "picklist":
                values = [v["value"] for v in meta.get("picklistValues", []) if v.get("active")]
                if source.value not in values:
                    msg = (f"source value {source.value!r} is not a value of {sobject}."
                           f"{source.field} ({', '.join(values)})")  # fmt: skip
                    (out.errors if meta.get("restrictedPicklist") else out.warnings).append(msg)
    return out


def _missing_hint(name: str, fields: dict[str, Any], sobject: str) -> str:
    """Why a mapped field may be missing: a near spelling, or a custom field not created yet."""
    by_lower = {n.lower(): n for n in fields}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.8)
    if close:
        return f" (did you mean {by_lower[close[0]]}?)"
    if name.endswith("__c"):
        return (f": create the custom field in Salesforce (Setup → Object Manager → {sobject} "
                "→ Fields & Relationships) or fix the policy's field map")  # fmt: skip
    return ""
