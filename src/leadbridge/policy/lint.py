"""`leadbridge policy check`: the policy against the live schema of the connection's objects.

Errors are what cannot work: a field that does not exist or cannot be written, a field the
system requires on create left unmapped (for an object this sync creates), a source field that
cannot be set, a source value outside a restricted picklist. Warnings are the known disasters: a
CRM-owned field (lead status, the owner, a deal or lifecycle stage) written from the hub, a
field mapped twice, a source value outside an unrestricted picklist. Notes say what a default
leaves out.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from leadbridge.policy.crm import CrmSync, SourceSetting
from leadbridge.policy.fields import ObjectMap
from leadbridge.policy.preset import Preset
from leadbridge.policy.schema import ObjectSchema


@dataclass(frozen=True)
class LintObject:
    """One remote object of the sync, as the lint sees it."""

    name: str  # the remote object ("Contact")
    section: str  # its policy section ("contact")
    kind: str  # person | company
    mapping: ObjectMap
    schema: ObjectSchema
    created: bool  # this sync creates records of it


@dataclass
class LintReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def lint(
    objects: Sequence[LintObject], policy: CrmSync, preset: Preset, label: str, scope: str
) -> LintReport:
    """`label`: the system ("Salesforce"); `scope`: what a connection reaches ("org")."""
    out = LintReport()
    for obj in objects:
        _fields(obj, preset, scope, out)
        if obj.created:
            _required(obj, policy, preset, label, out)
        source = policy.push.people_source if obj.kind == "person" else policy.push.account_source
        if source is not None and obj.created:
            _source(obj, source, out)
    _missing_sources(objects, policy, preset, out)
    out.warnings.extend(policy.activities.warnings())
    return out


def _fields(obj: LintObject, preset: Preset, scope: str, out: LintReport) -> None:
    seen: dict[str, str] = {}
    for f in obj.mapping.fields:
        where = f"{obj.name}.{f.crm}"
        if f.crm in seen:
            out.warnings.append(f"{where} is mapped twice ({seen[f.crm]} and {f.hub})")
        seen[f.crm] = f.hub
        # Exactly as the system spells it: the mirror keys values by that spelling.
        meta = obj.schema.fields.get(f.crm)
        if meta is None:
            out.errors.append(f"{where} does not exist in this {scope}{_hint(f.crm, obj, preset)}")
            continue
        if f.writes_crm and not meta.writable:
            out.errors.append(f"{where} is read-only: it cannot be written from the hub")
        if f.writes_crm and meta.name in preset.crm_owned:
            out.warnings.append(
                f"{where} ({preset.crm_owned[meta.name]}) is written hub→CRM: the CRM should "
                "own it (direction: crm_to_hub)"
            )


def _required(
    obj: LintObject, policy: CrmSync, preset: Preset, label: str, out: LintReport
) -> None:
    mapped = {f.crm.lower() for f in obj.mapping.fields if f.writes_crm}
    filled = {n.lower() for n in preset.filled_by_engine.get(obj.section, frozenset())}
    source = policy.push.people_source if obj.kind == "person" else policy.push.account_source
    if source is not None:
        filled.add(source.field.lower())
    for f in sorted(obj.schema.fields.values(), key=lambda f: f.name):
        if f.required_on_create and f.name.lower() not in mapped | filled:
            out.errors.append(
                f"{obj.name}.{f.name} is required by {label} on create but not mapped: every "
                f"new {obj.name.lower()} would be refused (map a hub field to it, hub_to_crm)"
            )


def _source(obj: LintObject, source: SourceSetting, out: LintReport) -> None:
    meta = obj.schema.field(source.field)
    where = f"source field {obj.name}.{source.field}"
    if meta is None:
        out.errors.append(f"{where} does not exist")
        return
    if not meta.createable:
        out.errors.append(f"{where} is read-only: it cannot be set on create")
        return
    if meta.options and source.value not in meta.options:
        message = (
            f"source value {source.value!r} is not a value of {obj.name}.{meta.name} "
            f"({', '.join(meta.options)})"
        )
        (out.errors if meta.restricted else out.warnings).append(message)


def _missing_sources(
    objects: Sequence[LintObject], policy: CrmSync, preset: Preset, out: LintReport
) -> None:
    """No source set: say once how to set one, with the values the field takes."""
    missing = []
    for kind, setting, key in (
        ("person", policy.push.people_source, "people_source"),
        ("company", policy.push.account_source, "account_source"),
    ):
        name = preset.source_fields.get(kind)
        obj = next((o for o in objects if o.kind == kind and o.created), None)
        if setting is not None or name is None or obj is None:
            continue
        meta = obj.schema.field(name)
        values = (
            f" (one of: {', '.join(meta.options)})" if meta is not None and meta.options else ""
        )
        missing.append(f"push.{key}: {{field: {name}, value: …}}{values}")
    if missing:
        out.notes.append(
            "records leadbridge creates carry no source value; to mark them, set "
            + "; ".join(missing)
        )


def _hint(name: str, obj: LintObject, preset: Preset) -> str:
    """Why a mapped field may be missing: a near spelling, or a field not created yet."""
    by_lower = {n.lower(): n for n in obj.schema.fields}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.8)
    if close:
        return f" (did you mean {by_lower[close[0]]}?)"
    return ": " + preset.missing_field_hint.format(object=obj.name)
