"""Settings of the lead-push job, kept on the Apollo connection (`leadbridge settings`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadbridge.engine.plan import OnDisqualified, PushRules
from leadbridge.engine.qualify import DEFAULT_STAGES, NON_RANK_STAGES, StageLadder


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

    def rules(self) -> PushRules:
        return PushRules(
            ladder=StageLadder(tuple(self.stages), self.stage_threshold),
            settle=timedelta(minutes=self.settle_minutes),
            max_attempts=self.max_attempts,
            on_disqualified=self.on_disqualified,
        )

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
