"""HubSpot authentication (reference A1, A2): OAuth 2.0 for public apps, or a private app's
static token. Both travel as `Authorization: Bearer …`.

OAuth: the user consents at `authorize_url` (scopes space-separated, a random `state` echoed
back to the redirect with `code`); `exchange_code` redeems the code at `/oauth/v1/token`;
access tokens live 30 minutes (`expires_in`, honoured rather than assumed), so the session
refreshes shortly before expiry and once on a 401 (connectors.oauth.RefreshingAuth); a refresh
answers the same refresh token [C/U], and a refused one (400 BAD_REFRESH_TOKEN) means reconnect.

    url = authorize_url(client_id, redirect_uri, state=state)      # state = new_state()
    tokens = await exchange_code(api_base, client_id, secret, redirect_uri, code)
    session = OAuthSession(tokens, lambda t: refresh(api_base, client_id, secret, t), store)
    client = HubSpotClient(api_base, auth=RefreshingAuth(session))
    # or, for a private app:  HubSpotClient(api_base, auth=private_app_auth(token))
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import httpx

from leadbridge.connectors.errors import AuthError, TransientError
from leadbridge.connectors.http import body_of
from leadbridge.connectors.oauth import HeaderKeyAuth, OAuthTokens
from leadbridge.secrets import remember

AUTHORIZE_BASE = "https://app.hubspot.com"  # the consent page lives on the app's host
# What the sync reads and writes (reference A2): objects, owners, and the properties API.
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.owners.read",
    "crm.schemas.contacts.read",
    "crm.schemas.companies.read",
)
# What some features need (deals; campaigns as lists): asked as optional, so a portal without
# them still connects, and the feature answers MISSING_SCOPES with the fix when used.
OPTIONAL_SCOPES = (
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.schemas.deals.read",
    "crm.lists.read",
    "crm.lists.write",
)


def new_state() -> str:
    return secrets.token_urlsafe(24)


def state_matches(sent: str, received: str | None) -> bool:
    return received is not None and hmac.compare_digest(sent, received)


def authorize_url(
    client_id: str,
    redirect_uri: str,
    *,
    state: str,
    scopes: Iterable[str] = SCOPES,
    optional_scopes: Iterable[str] = OPTIONAL_SCOPES,
    base: str = AUTHORIZE_BASE,
) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    optional = " ".join(optional_scopes)
    if optional:
        params["optional_scope"] = optional
    return f"{base.rstrip('/')}/oauth/authorize?{urlencode(params)}"


def tokens_from(body: dict[str, Any], refresh_token: str | None = None) -> OAuthTokens:
    expires_in = body.get("expires_in")
    return OAuthTokens(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token") or refresh_token,
        expires_at=time.time() + float(expires_in) if expires_in else None,
        extra=tuple(
            (key, str(body[key])) for key in ("hub_id", "user_id") if body.get(key) is not None
        ),
    )


async def _token(api_base: str, form: dict[str, str], what: str, verify: Any) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(verify=verify, timeout=30, trust_env=False) as http:
            response = await http.post(api_base.rstrip("/") + "/oauth/v1/token", data=form)
    except httpx.TransportError as exc:  # unreachable: an outage, not a refusal
        raise TransientError(f"HubSpot's token endpoint did not answer: {exc}") from exc
    body = body_of(response)
    if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
        return body
    if response.status_code >= 500 or not isinstance(body, dict):  # down: retry later
        raise TransientError(
            f"HubSpot's token endpoint failed (HTTP {response.status_code})",
            status=response.status_code,
        )
    status = str(body.get("status") or "") or None
    raise AuthError(
        f"HubSpot refused the {what} ({status or response.status_code}: {body.get('message')}); "
        "reconnect the portal",
        status=response.status_code,
        # A refused refresh token may be a lost race with another process (connectors.oauth).
        code="invalid_grant" if status == "BAD_REFRESH_TOKEN" else status,
    )


async def exchange_code(
    api_base: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    verify: Any = True,
) -> OAuthTokens:
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "code": code,
    }
    return tokens_from(await _token(api_base, form, "authorization code", verify))


async def refresh(
    api_base: str, client_id: str, client_secret: str, tokens: OAuthTokens, *, verify: Any = True
) -> OAuthTokens:
    if not tokens.refresh_token:
        raise AuthError("no HubSpot refresh token: reconnect the portal")
    form = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": tokens.refresh_token,
    }
    return tokens_from(await _token(api_base, form, "refresh", verify), tokens.refresh_token)


def private_app_auth(token: str) -> HeaderKeyAuth:
    """A private app's token: static, never refreshed (a 401 means it was revoked)."""
    remember(token)  # masked wherever output is produced, bare as well as in its header
    return HeaderKeyAuth("Authorization", f"Bearer {token}")
