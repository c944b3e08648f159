"""Pages: the connections, and connecting a system entirely in the browser — a key checked and
saved, or OAuth: the consent page's URL with a fresh `state` and a PKCE challenge, the redirect
back to this server's own `/connections/callback` (on loopback when served there), `state`
checked (once, within 15 minutes, by the signed-in user who started it), the code redeemed by
the system's connect function. Reconnecting is connecting again under the same name."""

from __future__ import annotations

import secrets as pysecrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadbridge.connectors.errors import ConnectorError
from leadbridge.engine.systems.apollo_connect import pkce_pair
from leadbridge.secrets import remember
from leadbridge.web.connect_kinds import (
    KINDS,
    ConnectProblem,
    checked_base_url,
    checked_ca_file,
)
from leadbridge.web.pages_main import User
from leadbridge.web.render import page
from leadbridge.web.security import web_state
from leadbridge.web.state import OAuthFlow
from leadbridge.web.status import connections_json

router = APIRouter(include_in_schema=False)
NAME = Annotated[str, Form(max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
Text = Annotated[str, Form(max_length=2000)]


def _page(
    request: Request, *, message: str | None = None, error: str | None = None, status: int = 200
) -> HTMLResponse:
    state = web_state(request)
    return page(
        request,
        "connections.html",
        status_code=status,
        connections=connections_json(state),
        kinds=KINDS,
        callback=callback_url(request),
        message=message,
        error=error,
    )


def callback_url(request: Request) -> str:
    """This server's callback, on the host the browser uses (the Host header was checked)."""
    return str(request.base_url).rstrip("/") + "/connections/callback"


@router.get("/connections")
def connections(request: Request, user: User) -> HTMLResponse:
    return _page(request)


@router.post("/connections/{kind}/key")
async def connect_key(
    request: Request, user: User, kind: str, name: NAME, key: Text, base_url: Text = ""
) -> HTMLResponse:
    spec = KINDS.get(kind)
    if spec is None or spec.connect_key is None:
        return _page(request, error=f"{kind[:40]} does not connect with a key", status=404)
    remember(key)  # masked from here on, even in an error that echoes it
    try:
        url = checked_base_url(base_url, spec.default_base_url)
        info = await spec.connect_key(web_state(request).connections, name, url, key.strip())
    except (ConnectProblem, ConnectorError) as exc:
        return _page(request, error=f"{spec.label}: {exc}", status=422)
    return _page(request, message=f"connected {info.name} to {spec.label} {info.remote_scope}")


@router.post("/connections/{kind}/oauth")
def start_oauth(
    request: Request,
    user: User,
    kind: str,
    name: NAME,
    client_id: Text,
    client_secret: Text,
    base_url: Text = "",
    ca_file: Text = "",
    setup_hours: Annotated[float, Form(ge=0, le=720)] = 6,
) -> Response:
    spec = KINDS.get(kind)
    if spec is None or spec.authorize is None:
        return _page(request, error=f"{kind[:40]} does not connect with OAuth", status=404)
    remember(client_secret)
    try:
        url = checked_base_url(base_url, spec.default_base_url)
        ca = checked_ca_file(ca_file) if spec.ca_file else None
    except ConnectProblem as exc:
        return _page(request, error=str(exc), status=422)
    if not client_id.strip() or not client_secret.strip():
        return _page(request, error="give the app's client id and client secret", status=422)
    state_value = pysecrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    remember(verifier)
    flow = OAuthFlow(
        kind=kind,
        name=name,
        base_url=url,
        client_id=client_id.strip(),
        client_secret=client_secret.strip(),
        verifier=verifier,
        redirect_uri=callback_url(request),
        ca_file=ca,
        extra={"setup_hours": setup_hours, "user": user.account.id},
    )
    web_state(request).flows[state_value] = flow
    return RedirectResponse(spec.authorize(flow, state_value, challenge), status_code=303)


@router.get("/connections/callback")
async def callback(
    request: Request,
    user: User,
    state: str = "",
    code: str = "",
    error: str = "",
    error_description: str = "",
) -> HTMLResponse:
    flow = web_state(request).take_flow(state[:200]) if state else None
    if flow is None or flow.extra.get("user") != user.account.id:
        return _page(
            request,
            error="this authorization was not started here (unknown or used state); start again",
            status=400,
        )
    spec = KINDS[flow.kind]
    if error or not code:
        reason = error_description or error or "no code came back"
        return _page(request, error=f"{spec.label} refused: {reason[:300]}", status=400)
    remember(code)
    assert spec.finish is not None
    try:
        info = await spec.finish(web_state(request).connections, flow, code[:2000])
    except ConnectorError as exc:
        return _page(request, error=f"{spec.label}: {exc}", status=422)
    return _page(
        request,
        message=f"connected {info.name} to {spec.label} ({info.remote_scope or 'connected'})",
    )
