"""Settings of the lead-push job, kept on the Apollo connection (`leadbridge settings`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Not ranks: a customer or a not-a-fit lead never passes a stage threshold, however the list
# is ordered (CustomerOS weakness #11: Postgres enum order put them above ready_to_buy).
NON_RANK_STAGES = ("customer", "not_a_fit")
DEFAULT_STAGES = ("pending", "target", "education", "solution", "evaluation", "ready_to_buy")


class OnDisqualified(StrEnum):
    LEAVE = "leave"  # leave the remote record untouched, mark the link, stop updating it
    KEEP_UPDATING = "keep_updating"  # keep pushing changes while it can still be pushed


class SettingsError(ValueError):
    """A setting that cannot work; the message names it and says what is allowed."""


class ApolloPushSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    stages: list[str] = Field(default=list(DEFAULT_STAGES), description="ordered, lowest first")
    stage_threshold: str = Field(default="target", description="leads must be above this stage")
    batch_size: int = Field(default=25, ge=1, le=100, description="accounts per bulk_create")
    settle_minutes: float = Field(default=5, ge=0, description="skip leads modified this recently")
    interval_minutes: float = Field(default=15, gt=0, description="schedule of `leadbridge serve`")
    max_attempts: int = Field(default=8, ge=1, description="transient retries before giving up")
    on_disqualified: OnDisqualified = Field(default=OnDisqualified.LEAVE)
    website_field: str | None = Field(
        default="Website",
        description="Apollo account custom field (name or id) that receives the website",
    )
    enabled: bool = True

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if s in NON_RANK_STAGES]
        if bad:
            raise ValueError(f"{', '.join(bad)} cannot be a rank in the stage list")
        if len(set(value)) != len(value) or not value:
            raise ValueError("the stage list must name each stage once")
        return value

    @model_validator(mode="after")
    def _threshold(self) -> ApolloPushSettings:
        if self.stage_threshold not in self.stages:
            raise ValueError(
                f"stage_threshold {self.stage_threshold!r} is not one of: {', '.join(self.stages)}"
            )
        return self

    @classmethod
    def load(cls, raw: dict[str, Any] | None) -> ApolloPushSettings:
        try:
            return cls.model_validate(raw or {})
        except ValidationError as exc:
            raise SettingsError(describe_errors(exc)) from exc

    def with_changes(self, changes: dict[str, str]) -> ApolloPushSettings:
        """A copy with `key=value` strings applied (the CLI's form); errors name the key."""
        data = self.model_dump(mode="json")
        for key, value in changes.items():
            if key not in type(self).model_fields:
                known = ", ".join(sorted(type(self).model_fields))
                raise SettingsError(f"unknown setting {key!r}; known settings: {known}")
            data[key] = [s.strip() for s in value.split(",")] if key == "stages" else value
        if data.get("website_field") in ("", "none", "None"):
            data["website_field"] = None
        return type(self).load(data)


def describe_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "settings"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
