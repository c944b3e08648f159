"""The hub's deal pipeline mirrors the CRM's: a hub deal's stage (and pipeline) is one of the
CRM's, named by its label or its value; anything else is refused with the stages there are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadbridge.connectors.catalog import DealStage


def _key(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


@dataclass(frozen=True)
class Pipelines:
    stages: tuple[DealStage, ...]
    label: str  # the CRM, as people name it

    @classmethod
    def of(cls, stages: Sequence[DealStage], label: str) -> Pipelines:
        return cls(tuple(stages), label)

    def pipeline_names(self) -> list[str]:
        return list(dict.fromkeys(s.pipeline_label or "" for s in self.stages if s.pipeline))

    def _in_pipeline(self, pipeline: str | None) -> list[DealStage]:
        if not pipeline or not any(s.pipeline for s in self.stages):
            return list(self.stages)
        wanted = _key(pipeline)
        return [s for s in self.stages if wanted in (_key(s.pipeline), _key(s.pipeline_label))]

    def resolve(self, pipeline: str | None, stage: str | None) -> DealStage | str:
        """The CRM stage a hub deal's (pipeline, stage) names, or why there is none. A deal
        without a pipeline takes the CRM's first pipeline."""
        candidates = self._in_pipeline(pipeline)
        if not candidates:
            known = ", ".join(self.pipeline_names()) or "(none)"
            return f"pipeline {pipeline!r} is not a {self.label} deal pipeline (known: {known})"
        if pipeline is None and any(s.pipeline for s in candidates):
            first = candidates[0].pipeline
            candidates = [s for s in candidates if s.pipeline == first]
        wanted = _key(stage)
        for s in candidates:
            if wanted in (_key(s.value), _key(s.label)):
                return s
        where = f" of pipeline {candidates[0].pipeline_label!r}" if candidates[0].pipeline else ""
        known = ", ".join(s.label for s in candidates)
        if not stage:
            return f"a deal needs a stage{where} ({known})"
        return f"stage {stage!r} is not a {self.label} stage{where} (stages: {known})"

    def from_remote(self, pipeline: str | None, stage: str | None) -> tuple[str | None, str | None]:
        """(pipeline label, stage label) of a CRM deal's raw values (unknown ones as they are)."""
        for s in self._in_pipeline(pipeline) if pipeline else self.stages:
            if stage is not None and s.value == stage:
                return s.pipeline_label, s.label
        return pipeline, stage

    def lines(self) -> list[str]:
        """The pipeline as people read it: one line a stage."""
        out = []
        for s in self.stages:
            chance = f"{s.probability:.0%}" if s.probability is not None else "?"
            state = "won" if s.won else "lost" if s.closed else "open"
            where = f"{s.pipeline_label}: " if s.pipeline_label else ""
            out.append(f"{where}{s.label} ({chance}, {state})")
        return out
