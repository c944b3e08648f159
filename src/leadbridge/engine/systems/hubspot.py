"""HubSpot connections: opening one (a private app's static token, or OAuth tokens refreshed
through the shared session: a compare-and-swap on the stored pair, so `serve` and a manual
command never refresh over each other) and connecting one (verify the credentials and learn the
portal's id, its scope, before anything is saved; then open the setup window).

OAuth runs the authorization-code flow in the browser: a random `state` is sent and checked on
the loopback callback (a callback with another state is refused), then the code is redeemed.
Reconnecting the same portal (new tokens after a revoke) keeps its sync state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leadbridge.connectors.errors import AuthError, PermanentError
from leadbridge.connectors.http import Budget, RetryPolicy
from leadbridge.connectors.hubspot import HubSpotClient, HubSpotConnector, private_app_auth
from leadbridge.connectors.hubspot import oauth as hs_oauth
from leadbridge.connectors.hubspot.client import BASE_URL
from leadbridge.connectors.hubspot.limits import SEARCH_PER_SECOND
from leadbridge.connectors.oauth import OAuthSession, OAuthTokens, RefreshingAuth
from leadbridge.hub.connections import (
    ConnectionInfo,
    Connections,
    ConnectionTokenStore,
    tokens_from,
)
from leadbridge.secrets import remember

KIND = "hubspot"
RECONNECT = "run `leadbridge connect hubspot`"


def open_hubspot(
    connections: Connections,
    connection: ConnectionInfo,
    *,
    policy: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> HubSpotConnector:
    creds, _ = connections.credentials(connection.id)
    auth: httpx.Auth
    if creds.get("private_app_token"):
        auth = private_app_auth(str(creds["private_app_token"]))
    elif creds.get("access_token"):
        client_id = str(creds.get("client_id") or "")
        client_secret = str(creds.get("client_secret") or "")

        async def refresh(tokens: OAuthTokens) -> OAuthTokens:
            # Which pair to refresh, and whether another process did it already, is the
            # session's business (OAuthSession: compare-and-swap on the stored pair).
            if not client_id:
                raise AuthError(f"the HubSpot token expired and cannot be refreshed: {RECONNECT}")
            return await hs_oauth.refresh(connection.base_url, client_id, client_secret, tokens)

        store = ConnectionTokenStore(connections, connection.id)
        auth = RefreshingAuth(OAuthSession(tokens_from(creds), refresh, store, skew=300))
    else:
        raise AuthError(f"this HubSpot connection has no credentials: {RECONNECT}")
    settings = connection.settings
    client = HubSpotClient(
        connection.base_url,
        auth=auth,
        policy=policy,
        transport=transport,
        budget=Budget(ceiling=float(settings.get("budget_ceiling", 0.75))),
        # Search's own limit (no header reports it): 5 a second unless the portal says more.
        search_per_second=int(settings.get("search_per_second", SEARCH_PER_SECOND)),
    )
    return HubSpotConnector(client)


@dataclass(frozen=True)
class Connected:
    info: ConnectionInfo
    reconnected: bool  # the same portal again: its sync state is kept


async def portal_of(
    base_url: str, auth: httpx.Auth, transport: httpx.AsyncBaseTransport | None = None
) -> str:
    """The portal id (Hub ID) the credentials reach; an error when HubSpot refuses them."""
    client = HubSpotClient(base_url, auth=auth, transport=transport, policy=RetryPolicy(3))
    try:
        details = await client.account_details()
    finally:
        await client.aclose()
    portal = details.get("portalId")
    if not portal:
        raise PermanentError("HubSpot answered without a portal id; cannot key the links by it")
    return str(portal)


def save(
    connections: Connections,
    *,
    name: str,
    base_url: str,
    portal: str,
    credentials: dict[str, Any],
    setup_window_hours: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Connected:
    """Store an authorised portal. New credentials for the portal a connection already has
    keep its sync state (no second setup window, no second initial pull); another portal
    starts afresh, with a setup window."""
    previous = next((c for c in connections.all() if c.name == name), None)
    if previous is not None and previous.kind != KIND:
        raise PermanentError(
            f"connection {name!r} is a {previous.kind} connection: choose another --name"
        )
    same = previous is not None and previous.remote_scope == portal
    if same:
        assert previous is not None
        settings = dict(previous.settings)
    else:
        until = clock() + timedelta(hours=setup_window_hours)
        settings = {"crm": {"setup_until": until.isoformat(), "initial_pull": "not_started"}}
    info = connections.save(
        kind=KIND,
        name=name,
        base_url=base_url,
        credentials=credentials,
        settings=settings,
        remote_scope=portal,
    )
    return Connected(info, same)


async def connect_with_token(
    connections: Connections,
    *,
    name: str,
    token: str,
    base_url: str = BASE_URL,
    setup_window_hours: float = 6,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Connected:
    """A private app's token: checked against the portal before it is saved."""
    token = token.strip()
    remember(token)
    portal = await portal_of(base_url, private_app_auth(token), transport)
    return save(
        connections,
        name=name,
        base_url=base_url,
        portal=portal,
        credentials={"private_app_token": token},
        setup_window_hours=setup_window_hours,
    )


def authorize_base(base_url: str) -> str:
    """HubSpot's consent page lives on app.hubspot.com; a sandbox serves it itself."""
    return hs_oauth.AUTHORIZE_BASE if base_url.rstrip("/") == BASE_URL else base_url


async def connect_with_oauth(
    connections: Connections,
    *,
    name: str,
    client_id: str,
    client_secret: str,
    base_url: str = BASE_URL,
    redirect_port: int = 8768,
    code: str | None = None,
    redirect_uri: str | None = None,
    setup_window_hours: float = 6,
    announce: Callable[[str], None] = print,
    wait_seconds: float = 300.0,
) -> Connected:
    """The authorization-code flow: the authorize URL is announced (with a fresh `state`) and
    the code taken from the loopback redirect, or a `code` obtained elsewhere is redeemed."""
    from leadbridge.engine.systems.apollo_connect import wait_for_code

    remember(client_secret, code)
    redirect_uri = redirect_uri or f"http://127.0.0.1:{redirect_port}/callback"
    if code is None:
        state = hs_oauth.new_state()
        url = hs_oauth.authorize_url(
            client_id, redirect_uri, state=state, base=authorize_base(base_url)
        )
        waiting = asyncio.create_task(wait_for_code(redirect_port, state, wait_seconds))
        await asyncio.sleep(0)  # the listener is up before anyone can follow the URL
        announce(url)
        code = await waiting
        remember(code)
    tokens = await hs_oauth.exchange_code(base_url, client_id, client_secret, redirect_uri, code)

    async def no_refresh(_: OAuthTokens) -> OAuthTokens:
        raise AuthError("HubSpot refused the token it just issued")

    fresh = RefreshingAuth(OAuthSession(tokens, no_refresh, skew=0))
    portal = tokens.get("hub_id") or await portal_of(base_url, fresh)
    return save(
        connections,
        name=name,
        base_url=base_url,
        portal=portal,
        credentials={
            "client_id": client_id,
            "client_secret": client_secret,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
        },
        setup_window_hours=setup_window_hours,
    )
