"""Opening an Apollo client for a stored connection: API key, or OAuth with safe refresh."""

from __future__ import annotations

import time
from typing import Any

import httpx

from leadbridge.connectors.apollo.client import ApolloClient
from leadbridge.connectors.apollo.connector import ApolloConnector
from leadbridge.connectors.errors import AuthError, PermanentError, TransientError
from leadbridge.connectors.http import RetryPolicy, Sleep, body_of
from leadbridge.connectors.oauth import HeaderKeyAuth, OAuthSession, OAuthTokens, RefreshingAuth
from leadbridge.hub.connections import (
    ConnectionInfo,
    Connections,
    ConnectionTokenStore,
    tokens_from,
)


def token_url(base_url: str) -> str:
    """Apollo serves tokens from app.apollo.io, not from the API host; a sandbox from itself."""
    if "api.apollo.io" in base_url:
        return "https://app.apollo.io/api/v1/oauth/token"
    return base_url.rstrip("/") + "/api/v1/oauth/token"


def tokens_from_response(body: dict[str, Any]) -> OAuthTokens:
    expires_in = body.get("expires_in")
    created = body.get("created_at") or time.time()
    return OAuthTokens(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_at=float(created) + float(expires_in) if expires_in else None,
    )


async def exchange_token(
    base_url: str,
    form: dict[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> OAuthTokens:
    """POST the token endpoint (code exchange or refresh). AuthError (with the OAuth error
    code, e.g. invalid_grant) when it says no; TransientError when it is down, unreachable or
    garbled, so a token endpoint outage is retried later instead of pausing the connection."""
    url = token_url(base_url)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=30) as http:
            response = await http.post(url, data=form)
    except httpx.InvalidURL as exc:
        raise PermanentError(
            f"the token endpoint {url!r} is not a valid URL ({exc})",
            hint="check --base-url",
        ) from None
    except httpx.HTTPError as exc:  # unreachable, refused, timed out, TLS: try again later
        raise TransientError(
            f"cannot reach Apollo's token endpoint {url} ({type(exc).__name__}: {exc})"
        ) from None
    body = body_of(response)
    if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
        return tokens_from_response(body)
    if response.status_code >= 500 or response.status_code == 429 or not isinstance(body, dict):
        raise TransientError(
            f"Apollo's token endpoint failed (HTTP {response.status_code})",
            status=response.status_code,
        )
    code = str(body.get("error") or "") or None
    detail = body.get("error_description") or code or ""
    raise AuthError(
        f"Apollo token endpoint refused the grant ({response.status_code} {detail}); "
        "reconnect with `leadbridge connect apollo --oauth`",
        status=response.status_code,
        code=code,
    )


def open_apollo(
    connections: Connections,
    connection: ConnectionInfo,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
) -> ApolloClient:
    creds, _ = connections.credentials(connection.id)
    auth: httpx.Auth
    if creds.get("api_key"):
        auth = HeaderKeyAuth("x-api-key", str(creds["api_key"]))
    elif creds.get("access_token"):
        store = ConnectionTokenStore(connections, connection.id)
        client_id, client_secret = str(creds["client_id"]), str(creds["client_secret"])

        async def refresh(tokens: OAuthTokens) -> OAuthTokens:
            # Which pair to refresh, and whether another process did it already, is the
            # session's business (OAuthSession: compare-and-swap on the stored pair).
            return await exchange_token(
                connection.base_url,
                {
                    "grant_type": "refresh_token",
                    "refresh_token": tokens.refresh_token or "",
                    "client_id": client_id,
                    "client_secret": client_secret,
                },
                transport=transport,
            )

        session = OAuthSession(tokens_from(creds), refresh, store, skew=300)
        auth = RefreshingAuth(session)
    else:
        raise AuthError(
            "this Apollo connection has no credentials: run `leadbridge connect apollo`"
        )
    rate = connection.settings.get("rate_per_second")
    return ApolloClient(
        connection.base_url,
        auth=auth,
        transport=transport,
        policy=policy,
        rate_per_second=float(rate) if rate else None,
        sleep=sleep,
    )


async def open_apollo_connector(
    connections: Connections,
    connection: ConnectionInfo,
    *,
    website_field: str | None,
    batch_size: int,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
) -> ApolloConnector:
    """The Apollo connector of a connection, with the id of the account custom field that
    receives the website (looked up by name or id once, then cached on the connection)."""
    connector = ApolloConnector(
        open_apollo(connections, connection, transport=transport, policy=policy, sleep=sleep),
        batch_size=batch_size,
    )
    if not website_field:
        return connector
    cached = connection.settings.get("website_field_id")
    if cached and connection.settings.get("website_field_for") == website_field:
        connector.website_field_id = str(cached)
        return connector
    try:
        fields = await connector.client.typed_custom_fields()
    except BaseException:
        await connector.aclose()
        raise
    for f in fields:
        if f.get("modality", "account") == "account" and website_field in (
            f.get("id"),
            f.get("name"),
        ):
            settings = dict(connections.get(connection.name).settings)
            settings.update(website_field_id=f["id"], website_field_for=website_field)
            connections.update_settings(connection.id, settings)
            connector.website_field_id = str(f["id"])
            break
    return connector
