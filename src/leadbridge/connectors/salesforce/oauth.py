"""Salesforce OAuth: the refresh grant (no rotation by default: the refresh token stays)."""

from __future__ import annotations

from typing import Any

import httpx

from leadbridge.connectors.errors import AuthError, TransientError
from leadbridge.connectors.http import body_of
from leadbridge.connectors.oauth import OAuthTokens


def tokens_from(body: dict[str, Any], refresh_token: str | None = None) -> OAuthTokens:
    """Salesforce sends no expires_in: the session lives until the org says INVALID_SESSION_ID."""
    return OAuthTokens(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token") or refresh_token,
        expires_at=None,
        extra=(
            ("instance_url", str(body.get("instance_url", ""))),
            ("id", str(body.get("id", ""))),
        ),
    )


async def refresh(
    login_url: str, client_id: str, client_secret: str, tokens: OAuthTokens, *, verify: Any = True
) -> OAuthTokens:
    async with httpx.AsyncClient(verify=verify, timeout=30, trust_env=False) as http:
        response = await http.post(
            login_url.rstrip("/") + "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token or "",
                "client_id": client_id,
                "client_secret": client_secret,
            },
        )
    body = body_of(response)
    if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
        return tokens_from(body, tokens.refresh_token)
    if response.status_code >= 500 or not isinstance(body, dict):  # down: retry later
        raise TransientError(
            f"Salesforce's token endpoint failed (HTTP {response.status_code})",
            status=response.status_code,
        )
    raise AuthError(
        f"Salesforce refused the refresh ({body.get('error_description')}); reconnect the org",
        status=response.status_code,
        code=str(body.get("error") or "") or None,  # invalid_grant may be a lost race
    )


async def exchange_code(
    login_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    *,
    verify: Any = True,
) -> dict[str, Any]:
    """The web-server flow's code for the token response (with PKCE's verifier)."""
    try:
        async with httpx.AsyncClient(verify=verify, timeout=30, trust_env=False) as http:
            response = await http.post(
                login_url.rstrip("/") + "/services/oauth2/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                },
            )
    except httpx.TransportError as exc:
        raise TransientError(f"Salesforce's token endpoint did not answer: {exc}") from exc
    body = body_of(response)
    if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
        return body
    if response.status_code >= 500 or not isinstance(body, dict):
        raise TransientError(
            f"Salesforce's token endpoint failed (HTTP {response.status_code})",
            status=response.status_code,
        )
    raise AuthError(
        f"Salesforce refused the authorization code ({body.get('error_description')})",
        status=response.status_code,
        code=str(body.get("error") or "") or None,
    )
