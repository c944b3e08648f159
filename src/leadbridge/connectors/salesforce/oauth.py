"""Salesforce OAuth: the refresh grant (no rotation by default: the refresh token stays)."""

from __future__ import annotations

from typing import Any

import httpx

from leadbridge.connectors.errors import AuthError
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
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        detail = body.get("error_description") if isinstance(body, dict) else body
        raise AuthError(
            f"Salesforce refused the refresh ({detail}); reconnect the org",
            status=response.status_code,
        )
    return tokens_from(body, tokens.refresh_token)
