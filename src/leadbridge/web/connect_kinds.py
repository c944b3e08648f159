"""How each kind of system is connected from the browser, as a table: a key or token checked and
saved, or the OAuth authorization-code flow (the consent page's URL with `state` and, where the
system takes it, a PKCE challenge; then the code redeemed by the system's own connect function).

The web app only routes: the functions are the ones `leadbridge connect …` uses.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from leadbridge.connectors.hubspot import oauth as hubspot_oauth
from leadbridge.connectors.oauth import OAuthTokens
from leadbridge.engine.systems import hubspot
from leadbridge.engine.systems.apollo import exchange_token
from leadbridge.engine.systems.apollo_connect import (
    OAUTH_SCOPES,
    authorize_url,
    connect_with_key,
    save_oauth,
)
from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.web.state import OAuthFlow

KeyConnect = Callable[[Connections, str, str, str], Awaitable[ConnectionInfo]]
Authorize = Callable[[OAuthFlow, str, str], str]  # (flow, state, challenge) -> consent URL
Finish = Callable[[Connections, OAuthFlow, str], Awaitable[ConnectionInfo]]


class ConnectProblem(ValueError):
    """A connect form that cannot be used as filled in; the message says what to fix."""


@dataclass(frozen=True)
class ConnectKind:
    kind: str
    label: str
    default_base_url: str
    key_label: str | None = None  # "API key": the kind connects with a pasted key
    connect_key: KeyConnect | None = None
    authorize: Authorize | None = None  # the kind connects with OAuth
    finish: Finish | None = None
    ca_file: bool = False  # a sandbox served over HTTPS with its own CA may need one
    pkce: bool = True  # the authorize URL carries a PKCE challenge
    setup_window: bool = False  # a CRM: its first pull waits for the setup window


# --- Apollo ---------------------------------------------------------------------------------


async def _apollo_key(
    connections: Connections, name: str, base_url: str, key: str
) -> ConnectionInfo:
    return await connect_with_key(connections, name=name, base_url=base_url, key=key)


def _apollo_authorize(flow: OAuthFlow, state: str, challenge: str) -> str:
    params = {
        "client_id": flow.client_id,
        "redirect_uri": flow.redirect_uri,
        "response_type": "code",
        "scope": OAUTH_SCOPES,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{authorize_url(flow.base_url)}?{urlencode(params)}"


async def _apollo_finish(connections: Connections, flow: OAuthFlow, code: str) -> ConnectionInfo:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": flow.client_id,
        "client_secret": flow.client_secret,
        "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier,
    }
    tokens: OAuthTokens = await exchange_token(flow.base_url, form)
    return await save_oauth(
        connections,
        name=flow.name,
        base_url=flow.base_url,
        client_id=flow.client_id,
        client_secret=flow.client_secret,
        tokens=tokens,
    )


# --- Salesforce -----------------------------------------------------------------------------


def _salesforce_authorize(flow: OAuthFlow, state: str, challenge: str) -> str:
    params = {
        "response_type": "code",
        "client_id": flow.client_id,
        "redirect_uri": flow.redirect_uri,
        "scope": "api refresh_token",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{flow.base_url.rstrip('/')}/services/oauth2/authorize?{urlencode(params)}"


async def _salesforce_finish(
    connections: Connections, flow: OAuthFlow, code: str
) -> ConnectionInfo:
    from leadbridge.connectors.salesforce.oauth import exchange_code

    verify: Any = ssl.create_default_context(cafile=flow.ca_file) if flow.ca_file else True
    body = await exchange_code(
        flow.base_url,
        flow.client_id,
        flow.client_secret,
        code,
        flow.redirect_uri,
        flow.verifier,
        verify=verify,
    )
    return connect_salesforce(
        connections.hub,
        connections,
        name=flow.name,
        login_url=flow.base_url,
        token_body=body,
        client_id=flow.client_id,
        client_secret=flow.client_secret,
        ca_file=flow.ca_file,
        setup_window_hours=float(flow.extra.get("setup_hours", 6)),
    )


# --- HubSpot -------------------------------------------------------------------------------


async def _hubspot_key(
    connections: Connections, name: str, base_url: str, key: str
) -> ConnectionInfo:
    return (
        await hubspot.connect_with_token(connections, name=name, token=key, base_url=base_url)
    ).info


def _hubspot_authorize(flow: OAuthFlow, state: str, challenge: str) -> str:
    # HubSpot's authorization-code flow takes no PKCE challenge; `state` is checked on return.
    return hubspot_oauth.authorize_url(
        flow.client_id, flow.redirect_uri, state=state, base=hubspot.authorize_base(flow.base_url)
    )


async def _hubspot_finish(connections: Connections, flow: OAuthFlow, code: str) -> ConnectionInfo:
    done = await hubspot.connect_with_oauth(
        connections,
        name=flow.name,
        client_id=flow.client_id,
        client_secret=flow.client_secret,
        base_url=flow.base_url,
        code=code,
        redirect_uri=flow.redirect_uri,
        setup_window_hours=float(flow.extra.get("setup_hours", 6)),
    )
    return done.info


KINDS: dict[str, ConnectKind] = {
    "apollo": ConnectKind(
        "apollo",
        "Apollo",
        "https://api.apollo.io",
        key_label="API key",
        connect_key=_apollo_key,
        authorize=_apollo_authorize,
        finish=_apollo_finish,
    ),
    "salesforce": ConnectKind(
        "salesforce",
        "Salesforce",
        "https://login.salesforce.com",
        authorize=_salesforce_authorize,
        finish=_salesforce_finish,
        ca_file=True,
        setup_window=True,
    ),
    "hubspot": ConnectKind(
        "hubspot",
        "HubSpot",
        hubspot.BASE_URL,
        key_label="private app token",
        connect_key=_hubspot_key,
        authorize=_hubspot_authorize,
        finish=_hubspot_finish,
        pkce=False,
        setup_window=True,
    ),
}


def checked_ca_file(raw: str) -> str | None:
    """A CA file path as given for a sandbox: it must exist and hold certificates."""
    if not raw.strip():
        return None
    path = Path(raw.strip()).expanduser()
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError, ValueError):
        raise ConnectProblem(f"{raw.strip()[:200]} is not a readable CA file (PEM)") from None
    return str(path)


def checked_base_url(raw: str, default: str) -> str:
    url = (raw.strip() or default).rstrip("/")
    if not url.startswith(("https://", "http://")) or len(url) > 2000 or " " in url:
        raise ConnectProblem(f"{url[:200]!r} is not an http(s) URL")
    return url
