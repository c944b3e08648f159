"""Team endpoints: health, the caller's profile, users, account stages, custom fields, usage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.apollo import endpoints as ep
from leadbridge.sandbox.apollo.fields import paging
from leadbridge.sandbox.apollo.guard import Guard
from leadbridge.sandbox.apollo.state import ApolloState

PROFILE_FIELDS = ("id", "team_id", "first_name", "last_name", "title", "email")


def team_router(state: ApolloState, guard: Guard) -> APIRouter:
    api = APIRouter()
    knobs = state.knobs

    @api.get("/auth/health")
    async def health(request: Request) -> dict[str, Any]:
        await guard(request, ep.HEALTH)
        return {"healthy": True, "is_logged_in": True}

    @api.get("/users/api_profile")
    async def api_profile(request: Request) -> dict[str, Any]:
        caller = await guard(request, ep.API_PROFILE)
        with state.lock:
            user = state.users[caller.user_id]
            return {key: user[key] for key in PROFILE_FIELDS}

    @api.get("/users/search")
    async def users_search(request: Request) -> dict[str, Any]:
        await guard(request, ep.USERS_SEARCH)
        page, per_page = paging(dict(request.query_params), knobs.per_page_max)
        with state.lock:
            users = [dict(u) for u in state.users.values()]  # in creation order
        total = len(users)
        return {
            # Apollo's documented quirk: page and per_page come back as strings here.
            "pagination": {
                "page": str(page),
                "per_page": str(per_page),
                "total_entries": total,
                "total_pages": -(-total // per_page),
            },
            "users": users[(page - 1) * per_page : page * per_page],
        }

    @api.get("/account_stages")
    async def account_stages(request: Request) -> dict[str, Any]:
        await guard(request, ep.ACCOUNT_STAGES)
        with state.lock:
            return {"account_stages": [dict(s) for s in state.stages]}

    @api.get("/typed_custom_fields")
    async def typed_custom_fields(request: Request) -> dict[str, Any]:
        await guard(request, ep.CUSTOM_FIELDS)
        with state.lock:
            return {"typed_custom_fields": [dict(f) for f in state.custom_fields]}

    @api.post("/usage_stats/api_usage_stats")
    async def usage_stats(request: Request) -> dict[str, Any]:
        await guard(request, ep.USAGE_STATS)
        with state.lock:
            now = state.clock()
            return {
                endpoint.usage_key: state.windows.usage(endpoint.route, knobs.limits, now)
                for endpoint in ep.ALL
            }

    return api
