"""The CRM sync policy: which side owns each field, how it is written, what is pushed and when.

Defaults follow the written ownership policy of the CRM sync tutorial: the CRM owns lead
status, the sales owner and deal data; the hub owns enrichment (email, phones, title, company
name, size, industry); first and last name are shared and the latest change wins.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Direction = Literal["hub_to_crm", "crm_to_hub", "both"]
Rule = Literal["overwrite", "auto_fill", "latest"]
PersonObject = Literal["Lead", "Contact"]
NO_STAGE = "No stage"

# Hub fields a map may name (plus custom.<name> for the policy's custom fields).
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "title",
    "phone",
    "mobile_phone",
    "company_name",
    "lead_status",
    "owner",
    "stage",
    "source",
)
COMPANY_FIELDS = ("name", "domain", "industry", "employee_count", "account_stage", "owner")
# Hub fields that are derived, never written from the CRM.
READ_ONLY_HUB = {"company_name"}


class UnknownSync(LookupError):
    """A sync name the policy does not have."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldMap(Strict):
    hub: str
    crm: str
    direction: Direction
    rule: Rule | None = None

    @model_validator(mode="after")
    def _rule_fits_direction(self) -> FieldMap:
        if self.rule is None:
            self.rule = "latest" if self.direction == "both" else "overwrite"
        if self.direction == "both" and self.rule != "latest":
            raise ValueError("a field synced both ways takes the latest change (rule: latest)")
        if self.direction != "both" and self.rule == "latest":
            raise ValueError("rule 'latest' is for fields synced both ways")
        if self.direction == "crm_to_hub" and self.rule == "auto_fill":
            raise ValueError("auto_fill writes the hub's value into the CRM: use hub_to_crm")
        return self

    @property
    def writes_crm(self) -> bool:
        return self.direction in ("hub_to_crm", "both")

    @property
    def writes_hub(self) -> bool:
        return self.direction in ("crm_to_hub", "both") and self.hub not in READ_ONLY_HUB


def _f(hub: str, crm: str, direction: Direction, rule: Rule | None = None) -> FieldMap:
    return FieldMap(hub=hub, crm=crm, direction=direction, rule=rule)


def _people_fields(kind: PersonObject) -> list[FieldMap]:
    fields = [
        _f("first_name", "FirstName", "both"),
        _f("last_name", "LastName", "both"),
        _f("email", "Email", "hub_to_crm"),
        _f("title", "Title", "hub_to_crm"),
        _f("phone", "Phone", "hub_to_crm"),
        _f("mobile_phone", "MobilePhone", "hub_to_crm"),
        _f("owner", "OwnerId", "crm_to_hub"),
    ]
    if kind == "Lead":
        fields += [
            _f("company_name", "Company", "hub_to_crm"),
            _f("lead_status", "Status", "crm_to_hub"),
        ]
    return fields


def _account_fields() -> list[FieldMap]:
    return [
        _f("name", "Name", "hub_to_crm"),
        _f("domain", "Website", "hub_to_crm", "auto_fill"),
        _f("industry", "Industry", "hub_to_crm"),
        _f("employee_count", "NumberOfEmployees", "hub_to_crm"),
        _f("owner", "OwnerId", "crm_to_hub"),
    ]


class ObjectMap(Strict):
    fields: list[FieldMap]

    def by_crm(self) -> dict[str, FieldMap]:
        return {f.crm: f for f in self.fields}

    @property
    def writes_owner(self) -> bool:
        """The hub's owner goes to the CRM (the team assigns in the hub)."""
        return any(f.hub == "owner" and f.writes_crm for f in self.fields)


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
    create_people_as: PersonObject = "Lead"
    push_accounts: bool = True
    contacts: StagePush = Field(default_factory=StagePush)
    accounts: StagePush = Field(default_factory=StagePush)
    people_source: SourceSetting = Field(
        default_factory=lambda: SourceSetting(field="LeadSource", value="leadbridge")
    )
    account_source: SourceSetting | None = Field(
        default_factory=lambda: SourceSetting(field="AccountSource", value="leadbridge")
    )
    push_unverified_emails: bool = False
    # A write of more records than this goes through the CRM's bulk API (one job, a handful of
    # calls) instead of batches of 200; below it the batches cost fewer calls.
    bulk_threshold: int = Field(2000, ge=1)


class PullPolicy(Strict):
    interval_minutes: int = Field(30, ge=1)


class Stages(Strict):
    contact: list[str] = Field(
        default_factory=lambda: ["New", "Cold", "Approaching", "Replied", "Interested"]
    )
    account: list[str] = Field(
        default_factory=lambda: ["Prospect", "Active Opportunity", "Customer", "Churned"]
    )


class CustomField(Strict):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    object: Literal["person", "company"] = "person"


class CrmSync(Strict):
    """One sync between the hub and a CRM connection."""

    connection: str = "salesforce"
    setup_window_hours: float = Field(6, ge=0)
    pull: PullPolicy = Field(default_factory=PullPolicy)
    push: PushPolicy = Field(default_factory=PushPolicy)
    stages: Stages = Field(default_factory=Stages)
    custom_fields: list[CustomField] = Field(default_factory=list)
    lead: ObjectMap = Field(default_factory=lambda: ObjectMap(fields=_people_fields("Lead")))
    contact: ObjectMap = Field(default_factory=lambda: ObjectMap(fields=_people_fields("Contact")))
    account: ObjectMap = Field(default_factory=lambda: ObjectMap(fields=_account_fields()))
    batch_size: int = Field(200, ge=1, le=200)

    @model_validator(mode="after")
    def _names_are_known(self) -> CrmSync:
        custom = {
            "person": {f"custom.{c.name}" for c in self.custom_fields if c.object == "person"},
            "company": {f"custom.{c.name}" for c in self.custom_fields if c.object == "company"},
        }
        for label, mapping, known in (
            ("lead", self.lead, set(PERSON_FIELDS) | custom["person"]),
            ("contact", self.contact, set(PERSON_FIELDS) | custom["person"]),
            ("account", self.account, set(COMPANY_FIELDS) | custom["company"]),
        ):
            for f in mapping.fields:
                if f.hub not in known:
                    raise ValueError(
                        f"{label}: unknown hub field {f.hub!r} (known: {', '.join(sorted(known))})"
                    )
                if f.hub in READ_ONLY_HUB and f.direction != "hub_to_crm":
                    raise ValueError(f"{label}: {f.hub} is derived in the hub: use hub_to_crm")
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

    def people_map(self, kind: str) -> ObjectMap:
        return self.lead if kind == "Lead" else self.contact


class PolicyFile(Strict):
    version: Literal[1] = 1
    syncs: dict[str, CrmSync] = Field(default_factory=lambda: {"salesforce": CrmSync()})

    def sync(self, name: str | None = None) -> CrmSync:
        """The named sync (or the only one); UnknownSync names the ones there are."""
        if name is None and len(self.syncs) == 1:
            return next(iter(self.syncs.values()))
        if name is not None and name in self.syncs:
            return self.syncs[name]
        known = ", ".join(self.syncs) or "(none)"
        raise UnknownSync(f"{'no sync ' + repr(name) if name else 'name a sync'} (syncs: {known})")
