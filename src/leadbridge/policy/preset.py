"""What a system's defaults are for its sync: the default field maps per object, the person
object creates go to, and the system's own lint rules. Each connector ships one (preset.py);
the policy file overrides what it names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from leadbridge.policy.fields import FieldMap, ObjectMap


@dataclass(frozen=True)
class Preset:
    # Policy section (`contact:`) -> the default field map of that object.
    maps: Mapping[str, tuple[FieldMap, ...]]
    create_people_as: str  # the person section new people are created as
    # Remote field -> what it is: the CRM should own it; written from the hub, it is a warning.
    crm_owned: Mapping[str, str] = field(default_factory=dict)
    # Section -> required fields the engine fills itself (a contact's account lookup).
    filled_by_engine: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Kind -> the field a source value usually goes to (the lint suggests it).
    source_fields: Mapping[str, str] = field(default_factory=dict)
    # Sections a user may name that this system refuses, with why.
    refused: Mapping[str, str] = field(default_factory=dict)
    # How to make a mapped field that does not exist ({object}: the object's name).
    missing_field_hint: str = "create the field on {object}, or fix the policy's field map"

    def object_map(self, section: str) -> ObjectMap:
        return ObjectMap(fields=list(self.maps.get(section, ())))
