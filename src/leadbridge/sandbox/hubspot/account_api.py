"""Account information (`GET /account-info/v3/details`): the portal's id (the Hub ID), time
zone and currency. Any valid token may read it (HubSpot lists the `oauth` scope, which every
OAuth app holds; private apps need none); it counts against the rate limits like any call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.hubspot.guard import Context, Guard


def account_router(ctx: Context, guard: Guard) -> APIRouter:
    api = APIRouter()
    portal = ctx.portal

    @api.get("/account-info/v3/details")
    async def details(request: Request) -> Any:
        await guard(request, ())
        return {
            "portalId": portal.portal_id,
            "accountType": "STANDARD",
            "timeZone": "US/Eastern",
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": "-05:00",
            "utcOffsetMilliseconds": -18_000_000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }

    return api
