"""Sync scope: which hub people a sync creates in the CRM, so that a prospecting database does
not flood it (the CRM sync tutorial's "Sync Scope"). A scope is any of some tags and personas;
a persona is a named rule over a person's hub fields, declared once at the top of the policy:

    personas:
      mql_ready: {title_contains: [vp, head of], stages: [Interested]}
    syncs:
      salesforce:
        scope: {tags: [webinar-2026], personas: [mql_ready]}
        campaign: Webinar 2026          # people the sync creates or links join it

People already linked to the CRM keep syncing whatever their scope (nothing is deleted or
unlinked when they leave it). The SQL of a scope is the engine's (engine/sync/push/select.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, PrivateAttr, model_validator

from leadbridge.normalize.tag import normalize_tag
from leadbridge.policy.fields import Strict


def _tags(value: list[str]) -> list[str]:
    return sorted({t for t in (normalize_tag(v) for v in value) if t})


Tags = Annotated[list[str], AfterValidator(_tags)]


class Persona(Strict):
    """Every condition given holds; within a list, any of its values (titles: a part of the
    title, without case)."""

    title_contains: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    lead_statuses: list[str] = Field(default_factory=list)
    tags: Tags = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_something(self) -> Persona:
        if not (self.title_contains or self.stages or self.lead_statuses or self.tags):
            raise ValueError(
                "a persona needs a condition: title_contains, stages, lead_statuses or tags"
            )
        return self


class SyncScope(Strict):
    """The people a sync creates: those with any of `tags` or matching any of `personas`;
    none given, everyone."""

    tags: Tags = Field(default_factory=list)
    personas: list[str] = Field(default_factory=list)
    # The personas' rules, filled in by the policy file from its `personas:` (PolicyFile).
    _rules: dict[str, Persona] = PrivateAttr(default_factory=dict)

    @property
    def restricted(self) -> bool:
        return bool(self.tags or self.personas)

    def rules(self) -> dict[str, Persona]:
        """The personas' rules by name; KeyError names one the policy does not declare."""
        missing = [p for p in self.personas if p not in self._rules]
        if missing:
            raise KeyError(f"persona {missing[0]!r} is not declared under personas:")
        return {p: self._rules[p] for p in self.personas}

    def resolve(self, personas: dict[str, Persona]) -> None:
        self._rules = {p: personas[p] for p in self.personas if p in personas}

    def describe(self) -> str:
        parts = []
        if self.tags:
            parts.append(f"tags {', '.join(self.tags)}")
        if self.personas:
            parts.append(f"personas {', '.join(self.personas)}")
        return "; ".join(parts) or "everyone"
