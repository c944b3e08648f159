"""OAuth 2.0 of the sandbox org: the web-server flow with PKCE, refresh, revoke and the identity
URL, with token bodies as the real ones (`issued_at` in ms, `signature`, no `expires_in`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from leadbridge.sandbox.consent import consent_page, refusal_page
from leadbridge.sandbox.salesforce.gate import Session
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.salesforce.replies import Reply


@dataclass
class OAuthState:
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)


def token_error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, 400)


def add_oauth_routes(
    app: FastAPI,
    org: Org,
    sessions: dict[str, Session],
    oauth: OAuthState,
    base: dict[str, str],
) -> None:
    def identity_url(user_id: str) -> str:
        return f"{base['login']}/id/{org.id}/{user_id}"

    def token_body(client_id: str, user_id: str, scope: str, with_refresh: bool) -> dict[str, Any]:
        app_ = oauth.apps[client_id]
        access = f"{org.id[:15]}!AQ{secrets.token_urlsafe(40)}"
        issued = str(int(org.clock() * 1000))
        sessions[access] = Session(user_id, org.clock())
        ident = identity_url(user_id)
        signature = base64.b64encode(
            hmac.new(app_["secret"].encode(), (ident + issued).encode(), hashlib.sha256).digest()
        ).decode()
        body: dict[str, Any] = {
            "access_token": access,
            "signature": signature,
            "scope": scope,
            "instance_url": base["instance"],
            "id": ident,
            "token_type": "Bearer",
            "issued_at": issued,
        }
        if with_refresh:
            refresh = secrets.token_urlsafe(40)
            oauth.refresh[refresh] = {"client_id": client_id, "user_id": user_id, "scope": scope}
            body["refresh_token"] = refresh
        return body

    @app.post("/services/oauth2/token")
    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id = form.get("client_id", "")
        app_ = oauth.apps.get(client_id)
        if app_ is None:
            return token_error("invalid_client_id", "client identifier invalid")
        grant = form.get("grant_type")
        with org.lock:
            if grant == "authorization_code":
                if form.get("client_secret") != app_["secret"]:
                    return token_error("invalid_client", "invalid client credentials")
                code = oauth.codes.pop(form.get("code", ""), None)
                if (
                    code is None
                    or code["client_id"] != client_id
                    or code["expires_at"] < org.clock()
                ):
                    return token_error("invalid_grant", "invalid authorization code")
                if form.get("redirect_uri") != code["redirect_uri"]:
                    return token_error("invalid_grant", "redirect_uri must match configuration")
                if code.get("challenge"):
                    verifier = form.get("code_verifier")
                    if not verifier:
                        return token_error("invalid_grant", "invalid code verifier")
                    digest = (
                        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                        .rstrip(b"=")
                        .decode()
                    )
                    if digest != code["challenge"]:
                        return token_error("invalid_request", "invalid code verifier")
                return JSONResponse(token_body(client_id, code["user_id"], code["scope"], True))
            if grant == "refresh_token":
                grant_ = oauth.refresh.get(form.get("refresh_token", ""))
                if grant_ is None or grant_["client_id"] != client_id:
                    return token_error("invalid_grant", "expired access/refresh token")
                if "client_secret" in form and form["client_secret"] != app_["secret"]:
                    return token_error("invalid_client", "invalid client credentials")
                return JSONResponse(
                    token_body(client_id, grant_["user_id"], grant_["scope"], False)
                )
        return token_error("unsupported_grant_type", "grant type not supported")

    @app.post("/services/oauth2/revoke")
    async def revoke(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        token_ = form.get("token") or request.query_params.get("token", "")
        with org.lock:
            if token_ in sessions:
                sessions[token_].revoked = True
            elif oauth.refresh.pop(token_, None) is None:
                return token_error("unsupported_token_type", "this token type is not supported")
        return Response(status_code=200)

    def authorize_problem(params: dict[str, str]) -> str | None:
        app_ = oauth.apps.get(params.get("client_id", ""))
        if app_ is None:
            return "error=invalid_client_id&error_description=client identifier invalid"
        if params.get("redirect_uri") not in app_["redirect_uris"]:
            return (
                "error=redirect_uri_mismatch&error_description="
                "redirect_uri must match configuration"
            )
        if params.get("response_type") != "code":
            return "error=unsupported_response_type"
        return None

    @app.get("/services/oauth2/authorize")
    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        problem = authorize_problem(params)
        if problem:
            return refusal_page("OAuth Error", problem)
        return consent_page(
            "Allow Access?", "An app asks to access this org.", params, "allow", "deny"
        )

    @app.post("/services/oauth2/authorize")
    async def authorize_decision(request: Request) -> Response:
        params = {k: str(v) for k, v in (await request.form()).items()}
        problem = authorize_problem(params)
        if problem:
            return refusal_page("OAuth Error", problem)
        back: dict[str, str] = {}
        if params.get("decision") == "deny":
            back.update(error="access_denied", error_description="end-user denied authorization")
        else:
            code = "aPrx" + secrets.token_urlsafe(30)
            oauth.codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "user_id": org.integration_user,
                "scope": params.get("scope") or "api refresh_token",
                "challenge": params.get("code_challenge"),
                "expires_at": org.clock() + 900,
            }
            back["code"] = code
        if "state" in params:
            back["state"] = params["state"]
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", 302)

    @app.get("/id/{org_id}/{user_id}")
    @app.get("/services/oauth2/userinfo")
    async def identity(request: Request, org_id: str = "", user_id: str = "") -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        s = sessions.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if s is None or s.revoked:
            raise Reply(403, "Bad_OAuth_Token")
        user = org.records["User"][s.user_id]
        return {
            "id": identity_url(s.user_id),
            "organization_id": org.id,
            "user_id": s.user_id,
            "username": user["Username"],
            "email": user["Email"],
            "display_name": user["Name"],
            "active": user["IsActive"],
            "urls": {"rest": f"{base['instance']}/services/data/v{{version}}/"},
        }
