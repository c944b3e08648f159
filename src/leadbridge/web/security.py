"""The web app's gates: the Host header (DNS rebinding), sessions with CSRF tokens for pages,
bearer tokens with a scope for the REST API, and which bind addresses need accounts.

The Host check is hand-written rather than Starlette's TrustedHostMiddleware, which splits the
header at the first colon and so cannot match a bracketed IPv6 host such as `[::1]:8765`.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from leadbridge.web.accounts import SignedIn, TokenGrant, session_of, token_grant
from leadbridge.web.state import WebState

SESSION_COOKIE = "lb_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host part of a Host header: `[::1]:8765` -> `::1`, `a.example:80` -> `a.example`."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    return text.rpartition(":")[0] if text.count(":") == 1 else text


def allowed_hosts(bind_host: str, extra: list[str]) -> frozenset[str]:
    """The names this server answers to: the loopback names, the bound address (unless it is
    a wildcard, which names no host) and the ones given (`--allowed-host`)."""
    names = set(LOOPBACK_NAMES)
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(bind_host.strip("[]").lower())
    names.update(h.strip().lower() for h in extra if h.strip())
    return frozenset(names)


class HostCheck:
    """Refuse a request whose Host header names another host: a page of evil.example whose
    name was re-pointed at 127.0.0.1 (DNS rebinding) gets 400, never our data."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            header = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if host_name(header) not in self.hosts:
                body = b'{"error":"invalid Host header"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class ApiAuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(Exception):
    """A page asked for without a session: the handler sends the browser to /login."""


class CsrfRefused(Exception):
    pass


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def api_grant(request: Request) -> TokenGrant:
    """The bearer token's grant; a write method needs the write scope."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiAuthError(401, "an API token is required: Authorization: Bearer <token>")
    grant = token_grant(web_state(request).hub, token.strip())
    if grant is None:
        raise ApiAuthError(401, "the API token is unknown or revoked")
    if request.method not in SAFE_METHODS and grant.scope != "write":
        raise ApiAuthError(403, "this API token is read-only; this request needs a write token")
    return grant


def page_user(request: Request) -> SignedIn:
    """The signed-in browser; unsafe methods must carry the session's CSRF token."""
    signed = session_of(web_state(request).hub, request.cookies.get(SESSION_COOKIE))
    if signed is None:
        raise LoginRequired()
    request.state.signed_in = signed
    return signed


async def check_csrf(request: Request, signed: SignedIn) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form: Any = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), signed.csrf_token.encode()):
        raise CsrfRefused()
