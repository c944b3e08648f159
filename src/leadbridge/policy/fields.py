"""Field maps: which hub field goes to which remote field, in which direction, by which rule."""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

Direction = Literal["hub_to_crm", "crm_to_hub", "both"]
Rule = Literal["overwrite", "auto_fill", "latest"]

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
COMPANY_FIELDS = (
    "name",
    "domain",
    "website",
    "industry",
    "employee_count",
    "account_stage",
    "owner",
)
HUB_FIELDS = {"person": PERSON_FIELDS, "company": COMPANY_FIELDS}
# Hub fields that are derived, never written from the CRM.
READ_ONLY_HUB = {"company_name"}
CUSTOM = re.compile(r"^custom\.[A-Za-z_][A-Za-z0-9_]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldMap(Strict):
    hub: str
    crm: str
    direction: Direction
    rule: Rule | None = None

    @field_validator("hub")
    @classmethod
    def _known_hub_field(cls, name: str) -> str:
        known = sorted({*PERSON_FIELDS, *COMPANY_FIELDS})
        if name in known or CUSTOM.match(name):
            return name
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
        raise ValueError(f"unknown hub field {name!r}{hint}")

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
        if self.hub in READ_ONLY_HUB and self.direction != "hub_to_crm":
            raise ValueError(f"{self.hub} is derived in the hub: use hub_to_crm")
        return self

    @property
    def writes_crm(self) -> bool:
        return self.direction in ("hub_to_crm", "both")

    @property
    def writes_hub(self) -> bool:
        return self.direction in ("crm_to_hub", "both") and self.hub not in READ_ONLY_HUB


def field_map(hub: str, crm: str, direction: Direction, rule: Rule | None = None) -> FieldMap:
    return FieldMap(hub=hub, crm=crm, direction=direction, rule=rule)


class ObjectMap(Strict):
    fields: list[FieldMap]

    def by_crm(self) -> dict[str, FieldMap]:
        return {f.crm: f for f in self.fields}

    @property
    def writes_owner(self) -> bool:
        """The hub's owner goes to the CRM (the team assigns in the hub)."""
        return any(f.hub == "owner" and f.writes_crm for f in self.fields)
