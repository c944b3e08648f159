"""What users do in the Salesforce UI or through SOAP/Apex, which REST cannot: the sandbox's own
surface under /__admin__/, never part of the emulated API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.salesforce.knobs import SalesforceKnobs
from leadbridge.sandbox.salesforce.org import DmlError, Org
from leadbridge.sandbox.salesforce.replies import Reply, rest_errors


def admin_router(org: Org, knobs: SalesforceKnobs) -> APIRouter:
    admin = APIRouter(prefix="/__admin__")

    def guarded(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except DmlError as exc:
            raise Reply(400, rest_errors(exc.errors)) from None
        except (KeyError, ValueError) as exc:
            raise Reply(400, {"error": str(exc)}) from None

    @admin.post("/convert/{lead_id}")
    async def convert(lead_id: str, create_opportunity: bool = False) -> Any:
        return guarded(lambda: org.convert_lead(lead_id, create_opportunity=create_opportunity))

    @admin.post("/merge/{sobject}/{master_id}")
    async def merge(sobject: str, master_id: str, losers: str) -> Any:
        guarded(lambda: org.merge(sobject, master_id, losers.split(",")))
        return {"merged": True}

    @admin.post("/undelete/{sobject}/{record_id}")
    async def undelete(sobject: str, record_id: str) -> Any:
        guarded(lambda: org.undelete(sobject, record_id))
        return {"undeleted": True}

    @admin.post("/bump/{sobject}/{record_id}")
    async def bump(sobject: str, record_id: str, request: Request) -> Any:
        body = await request.json()
        user = body.pop("__user_id", None) or org.add_user("rep@sandbox.example", "Sales", "Rep")
        return guarded(lambda: org.bump(sobject, record_id, body, user).body())

    @admin.post("/limits")
    async def set_limits(daily: int, used: int | None = None) -> Any:
        org.daily_limit = daily
        if used is not None:
            org.api_usage = used
        return {"daily": org.daily_limit, "used": org.api_usage}

    @admin.post("/fields/{sobject}/{name}")
    async def add_field(
        sobject: str, name: str, kind: str = "string", external_id: bool = False
    ) -> Any:
        return guarded(
            lambda: org.add_custom_field(sobject, name, kind, external_id=external_id)["name"]
        )

    @admin.post("/picklists/{sobject}/{name}")
    async def restrict(sobject: str, name: str, restricted: bool = True) -> Any:
        guarded(lambda: org.restrict_picklist(sobject, name, restricted))
        return {"restricted": restricted}

    @admin.post("/knobs")
    async def set_knobs(request: Request) -> Any:
        for key, value in (await request.json()).items():
            if not hasattr(knobs, key):
                raise Reply(400, {"error": f"unknown knob {key}"})
            setattr(knobs, key, value)
        return vars(knobs)

    return admin
