"""Owners v3 (reference A7, recorded `/crm/v3/owners`) and deal pipelines v3.

Owners list 100 a page (`after` is an offset cursor), filter by `email` (an unknown one answers
`{"results": []}`, recorded), and show archived (deactivated) owners only with `archived=true`;
an archived owner has no `userId`, only `userIdIncludingInactive`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.objects_api import flag

OWNER_SCOPES = ("crm.objects.owners.read",)


def owners_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter()
    portal = ctx.portal

    @api.get("/crm/v3/owners")
    @api.get("/crm/v3/owners/")
    async def list_owners(request: Request) -> Any:
        await guard(request, OWNER_SCOPES)
        limit = int(request.query_params.get("limit") or 100)
        if limit < 1 or limit > 500:
            raise errors.validation("limit must be between 1 and 500")
        after = int(request.query_params.get("after") or 0)
        email = (request.query_params.get("email") or "").lower()
        archived = flag(request, "archived")
        with portal.lock:
            owners = [
                dict(o)
                for o in portal.owners.values()
                if o["archived"] == archived and (not email or o["email"].lower() == email)
            ]
        body: dict[str, Any] = {"results": owners[after : after + limit]}
        if after + limit < len(owners):
            next_after = str(after + limit)
            body["paging"] = {
                "next": {
                    "after": next_after,
                    "link": f"{ctx.base_url}/crm/v3/owners/?limit={limit}&after={next_after}",
                }
            }
        return body

    @api.get("/crm/v3/owners/{owner_id}")
    async def read_owner(request: Request, owner_id: str) -> Any:
        await guard(request, OWNER_SCOPES)
        by_user = request.query_params.get("idProperty") == "userId"
        archived = flag(request, "archived")
        with portal.lock:
            for owner in portal.owners.values():
                key = owner["userIdIncludingInactive"] if by_user else owner["id"]
                if str(key) == owner_id and owner["archived"] == archived:
                    return dict(owner)
        raise errors.not_found_html()

    def pipeline_scopes() -> tuple[str, ...]:
        return ("crm.objects.deals.read", "crm.schemas.deals.read")

    def check_type(object_name: str) -> None:
        if object_name not in ("deals", "deal", "0-3"):
            raise errors.validation(f"Pipelines of {object_name} are not served by this sandbox")

    @api.get("/crm/v3/pipelines/{object_name}")
    async def pipelines(request: Request, object_name: str) -> Any:
        check_type(object_name)
        await guard(request, pipeline_scopes())
        with portal.lock:
            return {"results": [dict(p) for p in portal.pipelines.deals.values()]}

    @api.get("/crm/v3/pipelines/{object_name}/{pipeline_id}")
    async def pipeline(request: Request, object_name: str, pipeline_id: str) -> Any:
        check_type(object_name)
        await guard(request, pipeline_scopes())
        with portal.lock:
            found = portal.pipelines.deals.get(pipeline_id)
            if found is None:
                raise errors.error(
                    404, f"Unable to find pipeline {pipeline_id}", "OBJECT_NOT_FOUND"
                )
            return dict(found)

    @api.get("/crm/v3/pipelines/{object_name}/{pipeline_id}/stages")
    async def stages(request: Request, object_name: str, pipeline_id: str) -> Any:
        check_type(object_name)
        await guard(request, pipeline_scopes())
        with portal.lock:
            found = portal.pipelines.deals.get(pipeline_id)
            if found is None:
                raise errors.error(
                    404, f"Unable to find pipeline {pipeline_id}", "OBJECT_NOT_FOUND"
                )
            return {"results": [dict(s) for s in found["stages"]]}

    return api
