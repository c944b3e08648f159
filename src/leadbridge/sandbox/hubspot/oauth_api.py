"""OAuth 2.0 for public apps (reference A2): the authorize page, the v1 and v3 token endpoints,
token metadata and refresh-token revocation.

`GET /oauth/authorize?client_id&redirect_uri&scope&state` shows a consent page listing the
scopes (HubSpot's lives on app.hubspot.com; the sandbox serves it itself); granting redirects to
`redirect_uri?code=…&state=…`. Token answers: `{token_type: "bearer", refresh_token,
access_token, expires_in}` (v3 adds `token_use`, `hub_id`, `scopes`); refusals are 400
`{"status": "BAD_AUTH_CODE" | "BAD_REFRESH_TOKEN" | …, "message", "correlationId"}` [C/U].
"""

from __future__ import annotations

import html
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadbridge.sandbox.consent import consent_page, refusal_page
from leadbridge.sandbox.hubspot.credentials import ALL_SCOPES, GrantError
from leadbridge.sandbox.hubspot.errors import JSON
from leadbridge.sandbox.hubspot.guard import Context

AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "scope", "optional_scope", "state")


def with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), *extra.items()])))


def optional_scopes(params: dict[str, str]) -> frozenset[str]:
    """The optional scopes the portal can grant: all it knows (its tier has every feature)."""
    return frozenset(params.get("optional_scope", "").split()) & ALL_SCOPES


async def form_of(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


def oauth_router(ctx: Context) -> APIRouter:
    api = APIRouter()
    portal, credentials = ctx.portal, ctx.credentials

    def admin_user() -> str:
        with portal.lock:
            owners = [o for o in portal.owners.values() if not o["archived"]]
            return str(owners[0]["userIdIncludingInactive"]) if owners else "1"

    @api.get("/oauth/authorize", response_class=HTMLResponse)
    async def authorize_page(request: Request) -> Response:
        params = {k: v for k, v in request.query_params.items() if k in AUTHORIZE_FIELDS}
        with portal.lock:
            why = credentials.authorize_problem(
                params.get("client_id", ""), params.get("redirect_uri", ""), params.get("scope", "")
            )
        if why:
            return refusal_page("Authorization failed", why)
        scopes = ", ".join(sorted(params["scope"].split()))
        prompt = f"An app asks to access portal {portal.portal_id} with the scopes: {scopes}."
        asked = [*sorted(params["scope"].split()), *optional_scopes(params)]
        listing = "".join(f"<li>{html.escape(s)}</li>" for s in asked)
        page = consent_page("HubSpot sandbox", prompt, params, "grant", "deny")
        body = bytes(page.body).decode().replace("<form", f"<ul>{listing}</ul><form", 1)
        return HTMLResponse(body)

    @api.post("/oauth/authorize")
    async def authorize_decision(request: Request) -> Response:
        params = await form_of(request)
        with portal.lock:
            why = credentials.authorize_problem(
                params.get("client_id", ""), params.get("redirect_uri", ""), params.get("scope", "")
            )
            if why:
                return refusal_page("Authorization failed", why)
            back: dict[str, str] = {}
            if params.get("decision", "grant") == "deny":
                back["error"] = "access_denied"
                back["error_description"] = "The user denied access to this app."
            else:
                back["code"] = credentials.issue_code(
                    params["client_id"],
                    params["redirect_uri"],
                    frozenset(params["scope"].split()) | optional_scopes(params),
                    admin_user(),
                    ctx.knobs.code_ttl,
                    portal.clock(),
                )
        if "state" in params:
            back["state"] = params["state"]
        return RedirectResponse(with_query(params["redirect_uri"], back), status_code=302)

    def refused(exc: GrantError) -> JSON:
        return JSON(
            {"status": exc.code, "message": exc.message, "correlationId": str(uuid.uuid4())}, 400
        )

    async def token(request: Request, v3: bool) -> Response:
        form = await form_of(request)
        grant = form.get("grant_type", "")
        ttl = ctx.knobs.access_token_ttl
        try:
            with portal.lock:
                credentials.client(form.get("client_id", ""), form.get("client_secret", ""))
                now = portal.clock()
                if grant == "authorization_code":
                    access, refresh, made = credentials.redeem(
                        form["client_id"],
                        form.get("code", ""),
                        form.get("redirect_uri", ""),
                        ttl,
                        now,
                    )
                elif grant == "refresh_token":
                    access, refresh, made = credentials.renew(
                        form["client_id"], form.get("refresh_token", ""), ttl, now
                    )
                else:
                    raise GrantError("BAD_GRANT_TYPE", f"unsupported grant_type {grant!r}")
        except GrantError as exc:
            return refused(exc)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": access,
            "expires_in": int(ttl),
        }
        if v3:
            body |= {"token_use": "access_token", "hub_id": portal.portal_id,
                     "user_id": int(made.user_id), "scopes": sorted(made.scopes)}  # fmt: skip
        return JSON(body, headers={"cache-control": "no-store"})

    @api.post("/oauth/v1/token")
    async def token_v1(request: Request) -> Response:
        return await token(request, v3=False)

    @api.post("/oauth/v3/token")
    async def token_v3(request: Request) -> Response:
        return await token(request, v3=True)

    @api.get("/oauth/v1/access-tokens/{access}")
    async def access_info(access: str) -> Response:
        with portal.lock:
            made = credentials.access.get(access)
            now = portal.clock()
            if made is None or made.expires_at <= now:
                return refused(GrantError("BAD_ACCESS_TOKEN", "missing or unknown access token"))
            app = credentials.apps[made.client_id]
            return JSON(
                {
                    "token": access,
                    "user": None,
                    "hub_domain": f"portal-{portal.portal_id}.sandbox.example",
                    "scopes": sorted(made.scopes),
                    "hub_id": portal.portal_id,
                    "app_id": int(app.app_id),
                    "expires_in": int(made.expires_at - now),
                    "user_id": int(made.user_id),
                    "token_type": "access",
                    "is_private_distribution": False,
                }
            )

    @api.get("/oauth/v1/refresh-tokens/{refresh}")
    async def refresh_info(refresh: str) -> Response:
        with portal.lock:
            grant = credentials.refresh.get(refresh)
            if grant is None or grant.revoked:
                return refused(GrantError("BAD_REFRESH_TOKEN", "missing or unknown refresh token"))
            return JSON(
                {
                    "token": refresh,
                    "user": None,
                    "hub_domain": f"portal-{portal.portal_id}.sandbox.example",
                    "scopes": sorted(grant.scopes),
                    "hub_id": portal.portal_id,
                    "client_id": grant.client_id,
                    "user_id": int(grant.user_id),
                    "token_type": "refresh",
                }
            )

    @api.delete("/oauth/v1/refresh-tokens/{refresh}")
    async def revoke(refresh: str) -> Response:
        with portal.lock:
            if not credentials.revoke_refresh(refresh):
                return refused(GrantError("BAD_REFRESH_TOKEN", "missing or unknown refresh token"))
        return Response(status_code=204)

    return api
