"""What users do in the Salesforce UI or through SOAP/Apex, which REST cannot: the sandbox's own
surface under /__admin__/, never part of the emulated API."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox import jsonbody
from leadbridge.sandbox.salesforce.knobs import SalesforceKnobs
from leadbridge.sandbox.salesforce.org import DmlError, Org
from leadbridge.sandbox.salesforce.replies import Reply, rest_errors

# Who "edits as another user" when the caller names no user: one stand-in rep, made once.
REP = ("rep@sandbox.example", "Sales", "Rep")


async def object_body(request: Request) -> dict[str, Any]:
    """The JSON object a POST to the admin surface carries ({} when empty)."""
    raw = await request.body()
    try:
        body = jsonbody.parse(raw) if raw.strip() else {}
    except jsonbody.BadJson as exc:
        raise Reply(400, {"error": f"the body is not JSON: {exc}"}) from None
    if not isinstance(body, dict):
        raise Reply(400, {"error": "the body must be a JSON object"})
    return body


def knob_value(knobs: SalesforceKnobs, key: str, value: Any) -> Any:
    """`value` as the knob's own type (a number where a number is meant), or a 400."""
    kinds = {f.name: f.type for f in dataclasses.fields(knobs)}
    if key not in kinds:
        raise Reply(400, {"error": f"unknown knob {key}; knobs: {', '.join(sorted(kinds))}"})
    if kinds[key] in ("bool", bool):
        if not isinstance(value, bool):
            raise Reply(400, {"error": f"knob {key} takes true or false, not {value!r}"})
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or value < 0:
        raise Reply(400, {"error": f"knob {key} takes a number >= 0, not {value!r}"})
    return int(value) if kinds[key] in ("int", int) else float(value)


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
        body = await object_body(request)
        user = body.pop("__user_id", None) or org.ensure_user(*REP)
        return guarded(lambda: org.bump(sobject, record_id, body, str(user)).body())

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
        wanted = {k: knob_value(knobs, k, v) for k, v in (await object_body(request)).items()}
        for key, value in wanted.items():  # all checked first: nothing half-set
            setattr(knobs, key, value)
        return vars(knobs)

    @admin.get("/knobs")
    async def get_knobs() -> Any:
        return vars(knobs)

    return admin
