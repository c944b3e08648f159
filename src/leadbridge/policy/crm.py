"""The CRM sync policy: which side owns each field, how it is written, what is pushed and when.

A sync names its connection; the system behind it supplies the defaults (its preset: the
field maps of the CRM sync tutorial's ownership policy — the CRM owns lead status and the sales
owner, the hub owns enrichment, names are shared and the latest change wins). The policy file
overrides per object section (`lead:`, `contact:`, `account:`, `company:` …, as the system names
its objects) and per setting.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from leadbridge.policy.activities import ActivityPush
from leadbridge.policy.fields import (
    COMPANY_FIELDS,
    PERSON_FIELDS,
    FieldMap,
    ObjectMap,
    Strict,
)
from leadbridge.policy.scope import Persona, SyncScope

NO_STAGE = "No stage"

__all__ = ["COMPANY_FIELDS", "PERSON_FIELDS", "FieldMap", "ObjectMap"]


class UnknownSync(LookupError):
    """A sync name the policy does not have."""


class StagePush(Strict):
    """Which records are *created* in the CRM; updates of linked records are never blocked."""

    mode: Literal["all", "stages"] = "all"
    stages: list[str] = Field(default_factory=list)

    def allows(self, stage: str | None) -> bool:
        if self.mode == "all":
            return True
        return (stage or NO_STAGE) in self.stages


class SourceSetting(Strict):
    field: str
    value: str


class PushPolicy(Strict):
    enabled: bool = True
    # The person object new people are created as (a section: lead, contact); None: the
    # system's default.
    create_people_as: str | None = None
    push_accounts: bool = True
    contacts: StagePush = Field(default_factory=StagePush)
    accounts: StagePush = Field(default_factory=StagePush)
    # Set on create, when given (a value outside the CRM's picklist would fail every create,
    # so there is no default: `policy check` says which values the org accepts).
    people_source: SourceSetting | None = None
    account_source: SourceSetting | None = None
    push_unverified_emails: bool = False
    # A new person whose name matches a CRM person at their company's domain (another e-mail)
    # is held as a possible duplicate at this match probability (the duplicate audit's
    # matcher); null turns the guard off. Below 0.5 it would hold more strangers than twins.
    possible_duplicate_threshold: float | None = Field(0.99, ge=0.5, le=1.0)
    # A write of more records than this goes through the CRM's bulk API (one job, a handful of
    # calls) instead of batches of 200; below it the batches cost fewer calls.
    bulk_threshold: int = Field(2000, ge=1, le=150_000_000)  # Bulk 2.0's daily record limit

    @field_validator("create_people_as")
    @classmethod
    def _section(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        section = value.strip().lower()
        known: Mapping[str, str] | None = (info.context or {}).get("sections")
        people = sorted(k for k, kind in (known or {}).items() if kind == "person")
        if known is not None and section not in people:
            close = difflib.get_close_matches(section, people, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"{value!r} is not a person object ({hint}one of: {', '.join(people)})"
            )
        return section


class PullPolicy(Strict):
    interval_minutes: int = Field(30, ge=1, le=10_080, description="minutes")  # a week
    # Deletions (and Salesforce's merges) are read at most this often by scheduled pulls (a
    # read costs a call per object, and finds nothing most of the time); `leadbridge pull`
    # always reads them. 0: every pull.
    deletions_minutes: int = Field(5, ge=0, le=1440, description="minutes")  # a day


class Stages(Strict):
    contact: list[str] = Field(
        default_factory=lambda: ["New", "Cold", "Approaching", "Replied", "Interested"]
    )
    account: list[str] = Field(
        default_factory=lambda: ["Prospect", "Active Opportunity", "Customer", "Churned"]
    )


def _on_off(value: Any) -> Any:
    """YAML reads a bare `on`/`off` (and yes/no) as a boolean: both spellings mean the same."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value.strip().lower() if isinstance(value, str) else value


OnOff = Annotated[Literal["on", "off"], BeforeValidator(_on_off)]


class PerKind(Strict):
    """A setting per hub object: people (contacts and leads) and companies (accounts)."""

    person: OnOff = "off"
    company: OnOff = "off"

    def on(self, kind: str) -> bool:
        return getattr(self, kind, "off") == "on"


def _per_kind(value: Any) -> Any:
    """`deletion_sync: on` sets both kinds; `{person: on}` one of them."""
    if isinstance(value, bool | str):
        return {"person": value, "company": value}
    return value


DealMode = Literal["two_way", "pull_only", "push_only", "hide", "off"]
DealField = Literal["name", "amount", "close_date", "stage", "pipeline", "owner", "company"]


def _crm_owned() -> list[DealField]:
    return ["stage", "amount", "close_date", "pipeline"]


class DealPolicy(Strict):
    """How deals sync with this CRM (the push settings' "Sync deals" section).

    two_way    CRM deals pulled, hub deals (new and changed) pushed
    pull_only  CRM deals pulled, nothing pushed (the default: the CRM's deals are always
               pulled, so that nobody prospects what the CRM already holds)
    push_only  new and changed hub deals pushed, nothing pulled
    hide       CRM deals pulled but hidden (`deals list --hidden` shows them), nothing pushed
    off        no deal sync; the deals pulled before stay in the hub

    On enabling a mode that pulls, every CRM deal is read and the CRM is the source of truth
    for the deals synced before. `crm_owned` fields take the CRM's value on every pull and are
    never pushed to a deal the CRM has (they are sent when a deal is created).
    """

    mode: DealMode = "pull_only"
    crm_owned: list[DealField] = Field(default_factory=_crm_owned)

    @property
    def pulls(self) -> bool:
        return self.mode in ("two_way", "pull_only", "hide")

    @property
    def pushes(self) -> bool:
        return self.mode in ("two_way", "push_only")


class CustomField(Strict):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    object: Literal["person", "company"] = "person"


class CrmSync(Strict):
    """One sync between the hub and a CRM connection."""

    connection: str = "salesforce"
    setup_window_hours: float = Field(6, ge=0, le=720, description="hours")  # 30 days
    pull: PullPolicy = Field(default_factory=PullPolicy)
    push: PushPolicy = Field(default_factory=PushPolicy)
    stages: Stages = Field(default_factory=Stages)
    custom_fields: list[CustomField] = Field(default_factory=list)
    deals: DealPolicy = Field(default_factory=DealPolicy)
    # Object sections by name (`contact:` …): the field maps that replace the preset's.
    objects: dict[str, ObjectMap] = Field(default_factory=dict)
    batch_size: int = Field(200, ge=1, le=200)
    # A record deleted on one side is deleted on the other (a hub deletion is a tombstone that
    # `undo` restores); off, a CRM deletion only unlinks the hub record, a hub deletion only
    # unlinks the CRM one. Off by default, as Apollo's push settings have it.
    deletion_sync: Annotated[PerKind, BeforeValidator(_per_kind)] = Field(default_factory=PerKind)
    # A merge in the CRM merges the hub records linked to its losers into the one linked to the
    # survivor. Off (Apollo's default: a box to check), a merge only moves the loser's link to
    # the survivor when no hub record has it yet, and flags the two hub records otherwise.
    merge_sync: Annotated[PerKind, BeforeValidator(_per_kind)] = Field(default_factory=PerKind)
    activities: ActivityPush = Field(default_factory=ActivityPush)
    # Which people the sync creates in the CRM (policy/scope.py); linked ones always sync.
    scope: SyncScope = Field(default_factory=SyncScope)
    # A campaign (Salesforce) or static list (HubSpot) that people the push creates or links
    # join; it must exist in the CRM.
    campaign: str | None = Field(None, min_length=1, max_length=255)

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data: Any, info: ValidationInfo) -> Any:
        """`contact: {fields: […]}` at the sync's level is an object section. With the known
        sections in the validation context (`{"sections": {name: kind}}`), only those are taken:
        a misspelt one stays behind and is refused where it stands, with its line."""
        if not isinstance(data, dict):
            return data
        known: Mapping[str, str] | None = (info.context or {}).get("sections")
        data = dict(data)
        objects = dict(data.pop("objects", None) or {})
        for key in [k for k in data if k not in cls.model_fields]:
            value = data[key]
            section = str(key).lower()
            if (known is not None and section in known) or (
                known is None and isinstance(value, dict) and "fields" in value
            ):
                objects[section] = data.pop(key)
        data["objects"] = objects
        return data

    @model_validator(mode="after")
    def _stages_are_known(self) -> CrmSync:
        for label, push, stages in (
            ("contacts", self.push.contacts, self.stages.contact),
            ("accounts", self.push.accounts, self.stages.account),
        ):
            unknown = [s for s in push.stages if s != NO_STAGE and s not in stages]
            if unknown:
                raise ValueError(
                    f"push.{label}.stages: {', '.join(unknown)} not among the stages "
                    f"({', '.join([*stages, NO_STAGE])})"
                )
        return self

    @model_validator(mode="after")
    def _campaign_has_people(self) -> CrmSync:
        if self.campaign and not self.scope.restricted:
            raise ValueError(
                "campaign: needs a scope, the people who join it (scope: {tags: […]} or "
                "{personas: […]})"
            )
        return self

    def map_problems(self, kinds: Mapping[str, str]) -> list[tuple[tuple[Any, ...], str]]:
        """What the object sections name that their objects cannot take: a hub field of the
        other kind, or a custom field the policy does not declare. `kinds`: section -> kind.
        Each problem comes with its location in the sync (for its line in the file)."""
        custom = {
            kind: {f"custom.{c.name}" for c in self.custom_fields if c.object == kind}
            for kind in ("person", "company")
        }
        problems = []
        for section, mapping in self.objects.items():
            kind = kinds.get(section)
            if kind not in ("person", "company"):
                continue
            known = set(PERSON_FIELDS if kind == "person" else COMPANY_FIELDS) | custom[kind]
            for index, f in enumerate(mapping.fields):
                if f.hub in known:
                    continue
                loc = ("objects", section, "fields", index, "hub")
                if f.hub.startswith("custom."):
                    close = difflib.get_close_matches(f.hub, sorted(custom[kind]), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    problems.append((loc, f"{f.hub} is not declared in custom_fields{hint}"))
                else:
                    problems.append(
                        (
                            loc,
                            f"{f.hub!r} is not a {kind} field (known: {', '.join(sorted(known))})",
                        )
                    )
        return problems


class PolicyFile(Strict):
    version: Literal[1] = 1
    # Named rules over a person's fields that a sync's scope selects people by.
    personas: dict[str, Persona] = Field(default_factory=dict)
    syncs: dict[str, CrmSync] = Field(default_factory=lambda: {"salesforce": CrmSync()})

    @model_validator(mode="after")
    def _resolve_personas(self) -> PolicyFile:
        for sync in self.syncs.values():
            sync.scope.resolve(self.personas)
        return self

    def scope_problems(self) -> list[tuple[tuple[Any, ...], str]]:
        """Personas a sync's scope names that `personas:` does not declare (with their
        location in the file, for the line)."""
        problems = []
        known = sorted(self.personas)
        for name, sync in self.syncs.items():
            for index, persona in enumerate(sync.scope.personas):
                if persona in self.personas:
                    continue
                close = difflib.get_close_matches(persona, known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                declared = ", ".join(known) or "none"
                problems.append(
                    (
                        ("syncs", name, "scope", "personas", index),
                        f"unknown persona {persona!r} ({hint}declared under personas: {declared})",
                    )
                )
        return problems

    def sync(self, name: str | None = None) -> CrmSync:
        """The named sync (or the only one); UnknownSync names the ones there are."""
        if name is None and len(self.syncs) == 1:
            return next(iter(self.syncs.values()))
        if name is not None and name in self.syncs:
            return self.syncs[name]
        known = ", ".join(self.syncs) or "(none)"
        raise UnknownSync(f"{'no sync ' + repr(name) if name else 'name a sync'} (syncs: {known})")
