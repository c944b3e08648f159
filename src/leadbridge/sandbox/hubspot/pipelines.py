"""Deal pipelines and stages (`/crm/v3/pipelines/deals`).

The default "Sales Pipeline" is the recorded one (`GET /deals/v1/pipelines`: stage ids,
labels, probabilities, closedWon), served in the v3 shape (stage `metadata` values are strings:
`isClosed`, `probability`). More pipelines can be added through the admin surface.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from leadbridge.sandbox.hubspot.values import iso_ms

DEFAULT_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
    ("contractsent", "Contract Sent", 0.9, False),
    ("closedwon", "Closed Won", 1.0, True),
    ("closedlost", "Closed Lost", 0.0, True),
)


class Pipelines:
    def __init__(self, now_ms: Callable[[], int]) -> None:
        self.now_ms = now_ms
        self.deals: dict[str, dict[str, Any]] = {}
        self.add("default", "Sales Pipeline", DEFAULT_STAGES)

    def add(
        self, pipeline_id: str, label: str, stages: tuple[tuple[str, str, float, bool], ...]
    ) -> dict[str, Any]:
        stamp = iso_ms(self.now_ms())
        pipeline = {
            "label": label,
            "displayOrder": len(self.deals),
            "id": pipeline_id,
            "stages": [
                {
                    "label": stage_label,
                    "displayOrder": order,
                    "metadata": {"isClosed": str(closed).lower(), "probability": str(chance)},
                    "id": stage_id,
                    "createdAt": stamp,
                    "updatedAt": stamp,
                    "archived": False,
                    "writePermissions": "CRUD_ALL",
                }
                for order, (stage_id, stage_label, chance, closed) in enumerate(stages)
            ],
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }
        self.deals[pipeline_id] = pipeline
        return copy.deepcopy(pipeline)

    def ids(self) -> list[str]:
        return list(self.deals)

    def stage_ids(self, pipeline_id: str) -> list[str]:
        pipeline = self.deals.get(pipeline_id)
        return [s["id"] for s in pipeline["stages"]] if pipeline else []

    def stage(self, pipeline_id: str, stage_id: str) -> dict[str, Any] | None:
        pipeline = self.deals.get(pipeline_id) or {"stages": []}
        return next((s for s in pipeline["stages"] if s["id"] == stage_id), None)
