"""OAuth 2.0 for partners (reference B2): authorize page, token, revoke.

Apollo's authorize URL is a hash route (`app.apollo.io/#/oauth/authorize?...`) that a server
never sees, so the sandbox serves `GET /oauth/authorize` with the same query as an HTML page with
an Approve form; approving posts back and redirects to `redirect_uri?code=...&state=...`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from leadbridge.sandbox import jsonbody
from leadbridge.sandbox.apollo.credentials import GrantError
from leadbridge.sandbox.apollo.state import ApolloState
from leadbridge.sandbox.consent import consent_page, refusal_page

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
AUTHORIZE_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *extra.items()])
    return urlunsplit(parts._replace(query=query))


async def form_of(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = jsonbody.parse(await request.body())
        except jsonbody.BadJson:
            return {}  # refused below as a request without its parameters
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {k: str(v) for k, v in (await request.form()).items()}


def basic_client(request: Request) -> tuple[str, str] | None:
    """client_secret_basic: `Authorization: Basic base64(client_id:client_secret)`."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def add_authorize_pages(app: FastAPI, state: ApolloState) -> None:
    credentials = state.credentials

    def problem(params: dict[str, str]) -> str:
        return credentials.authorize_problem(
            params.get("client_id", ""),
            params.get("redirect_uri", ""),
            params.get("response_type", ""),
            params.get("code_challenge_method") if params.get("code_challenge") else None,
        )

    @app.get("/oauth/authorize", response_class=HTMLResponse)
    async def authorize_page(request: Request) -> Response:
        params = {k: v for k, v in request.query_params.items() if k in AUTHORIZE_FIELDS}
        with state.lock:
            why = problem(params)
        if why:
            return refusal_page("Cannot authorize", why)
        return consent_page(
            "Apollo sandbox",
            "An app asks to access your Apollo team.",
            params,
            "approve",
            "deny",
        )

    @app.post("/oauth/authorize")
    async def authorize_decision(request: Request) -> Response:
        params = await form_of(request)
        params.setdefault("response_type", "code")  # the consent form always sends it
        with state.lock:
            why = problem(params)
            if why:
                return refusal_page("Cannot authorize", why)
            back: dict[str, str] = {}
            if params.get("decision", "approve") == "deny":
                # Apollo's documented refusal redirect (reference B2) rather than RFC's error=.
                back["status_code"] = "403"
                back["error_message"] = "The user denied access to this app."
            else:
                client_id = params["client_id"]
                back["code"] = credentials.issue_code(
                    client_id,
                    params["redirect_uri"],
                    state.admin["id"],  # the signed-in user approving: the team's admin
                    credentials.granted_scopes(client_id, params.get("scope", "")),
                    state.knobs.code_ttl,
                    params.get("code_challenge"),
                    params.get("code_challenge_method"),
                )
        if "state" in params:
            back["state"] = params["state"]
        return RedirectResponse(with_query(params["redirect_uri"], back), status_code=302)


def oauth_router(state: ApolloState) -> APIRouter:
    api = APIRouter()
    credentials = state.credentials

    @api.post("/oauth/token")
    async def token(request: Request) -> Response:
        form = await form_of(request)
        client_id, secret = basic_client(request) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        ttl = state.knobs.access_token_ttl
        try:
            with state.lock:
                credentials.client(client_id, secret)
                grant = form.get("grant_type", "")
                if grant == "authorization_code":
                    answer = credentials.redeem_code(
                        client_id,
                        required(form, "code"),
                        form.get("redirect_uri"),
                        ttl,
                        form.get("code_verifier"),
                    )
                elif grant == "refresh_token":
                    answer = credentials.refresh(
                        client_id, required(form, "refresh_token"), form.get("scope"), ttl
                    )
                elif not grant:
                    raise missing("grant_type")
                else:
                    raise GrantError(
                        "unsupported_grant_type",
                        "The authorization grant type is not supported by the authorization "
                        "server.",
                    )
        except GrantError as exc:
            return JSONResponse(exc.body(), exc.status, headers=NO_STORE)
        return JSONResponse(answer, headers=NO_STORE)

    @api.post("/oauth/revoke")
    async def revoke(request: Request) -> Response:
        # [C/U] listed in Apollo's OAuth discovery metadata; RFC 7009 semantics.
        form = await form_of(request)
        client_id, secret = basic_client(request) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        try:
            with state.lock:
                credentials.client(client_id, secret)
                credentials.revoke(client_id, required(form, "token"))
        except GrantError as exc:
            return JSONResponse(exc.body(), exc.status, headers=NO_STORE)
        return JSONResponse({}, headers=NO_STORE)

    return api


def missing(name: str) -> GrantError:
    return GrantError("invalid_request", f"Missing required parameter: {name}.")


def required(form: dict[str, Any], name: str) -> str:
    value = str(form.get(name) or "")
    if not value:
        raise missing(name)
    return value
