"""Salesforce's deal stages: the active values of Opportunity.StageName in the describe.

A describe's picklist values carry no probability or closed/won flags (those live on the
OpportunityStage object, which the sandbox does not serve): the standard stages get the
defaults Salesforce documents for them, and any other stage is closed when its label says
"Closed" (won when it also says "Won"), with no probability.
"""

from __future__ import annotations

from typing import Any

from leadbridge.connectors.catalog import DealStage

# Salesforce's standard opportunity stages: (default probability, closed, won).
STANDARD = {
    "Prospecting": (0.10, False, False),
    "Qualification": (0.10, False, False),
    "Needs Analysis": (0.20, False, False),
    "Value Proposition": (0.50, False, False),
    "Id. Decision Makers": (0.60, False, False),
    "Perception Analysis": (0.70, False, False),
    "Proposal/Price Quote": (0.75, False, False),
    "Negotiation/Review": (0.90, False, False),
    "Closed Won": (1.0, True, True),
    "Closed Lost": (0.0, True, False),
}


def deal_stages(describe: dict[str, Any]) -> list[DealStage]:
    field = next((f for f in describe.get("fields") or [] if f.get("name") == "StageName"), None)
    out: list[DealStage] = []
    for value in (field or {}).get("picklistValues") or []:
        if not value.get("active", True):
            continue
        name = str(value.get("value"))
        label = str(value.get("label") or name)
        closed = "closed" in label.lower()
        probability, closed, won = STANDARD.get(
            name, (None, closed, closed and "won" in label.lower())
        )
        out.append(DealStage(None, None, name, label, probability, closed, won))
    return out
