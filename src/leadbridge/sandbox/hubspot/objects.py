"""The CRM object types the sandbox serves, and how a path names them.

Type ids, scopes and default properties follow the reference (A2, A3) and the recordings:
contacts stamp `lastmodifieddate`, everything else `hs_lastmodifieddate`; engagements are
guarded by the contacts scopes.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadbridge.sandbox.hubspot.errors import Reply, validation


@dataclass(frozen=True)
class ObjectType:
    name: str  # the plural path name: "contacts"
    type_id: str  # "0-1"
    singular: str  # "contact" (association type names, webhook event types)
    legacy: str  # "CONTACT" (error messages)
    scope_object: str  # crm.objects.<scope_object>.read/write
    created: str  # the creation stamp property
    modified: str  # the last-modified stamp property
    defaults: tuple[str, ...]  # returned when no properties= is asked for
    id_base: int  # first id handed out (real portals' ids are large and per type)

    @property
    def read_scope(self) -> str:
        return f"crm.objects.{self.scope_object}.read"

    @property
    def write_scope(self) -> str:
        return f"crm.objects.{self.scope_object}.write"

    @property
    def schema_scope(self) -> str:
        return f"crm.schemas.{self.scope_object}"

    @property
    def engagement(self) -> bool:
        return self.scope_object == "contacts" and self.name != "contacts"

    @property
    def always(self) -> tuple[str, ...]:
        """Added to any properties= selection (recorded)."""
        return (self.created, "hs_object_id", self.modified)


def _engagement(name: str, type_id: str, singular: str, base: int) -> ObjectType:
    return ObjectType(
        name,
        type_id,
        singular,
        singular.upper(),
        "contacts",
        "hs_createdate",
        "hs_lastmodifieddate",
        ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
        base,
    )


TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        ObjectType(
            "contacts",
            "0-1",
            "contact",
            "CONTACT",
            "contacts",
            "createdate",
            "lastmodifieddate",
            ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
            73_183_578_000,
        ),
        ObjectType(
            "companies",
            "0-2",
            "company",
            "COMPANY",
            "companies",
            "createdate",
            "hs_lastmodifieddate",
            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
            22_816_780_000,
        ),
        ObjectType(
            "deals",
            "0-3",
            "deal",
            "DEAL",
            "deals",
            "createdate",
            "hs_lastmodifieddate",
            (
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ),
            9_755_286_000,
        ),
        _engagement("tasks", "0-27", "task", 65_039_244_000),
        _engagement("notes", "0-46", "note", 27_190_000_000),
        _engagement("meetings", "0-47", "meeting", 24_386_387_000),
        _engagement("calls", "0-48", "call", 24_384_342_000),
        _engagement("emails", "0-49", "email", 26_001_000_000),
    )
}
_ALIASES = {t.type_id: t for t in TYPES.values()} | {t.singular: t for t in TYPES.values()}
_ALIASES["meeting_event"] = TYPES["meetings"]


def object_type(name: str) -> ObjectType:
    """A path's object type: plural, singular, any case, or the type id; 400 otherwise."""
    found = TYPES.get(name.lower()) or _ALIASES.get(name.lower())
    if found is None:
        raise unknown_type(name)
    return found


def unknown_type(name: str) -> Reply:
    return validation(f"Unable to infer object type from: {name}")
