"""The OAuth web-server flow with PKCE against a served Salesforce sandbox (tests' helper)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from typing import Any

import httpx

from leadbridge.sandbox.salesforce import SalesforceSandbox


def oauth_token_body(
    sandbox: SalesforceSandbox, url: str, ca: str
) -> tuple[dict[str, Any], str, str]:
    redirect = "https://hub.example/cb"
    client_id, secret = sandbox.register_connected_app([redirect])
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    ctx = ssl.create_default_context(cafile=ca)
    with httpx.Client(base_url=url, verify=ctx, trust_env=False) as http:
        back = http.post(
            "/services/oauth2/authorize",
            data={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect,
                "code_challenge": challenge,
            },
        )
        code = httpx.URL(back.headers["location"]).params["code"]
        body = http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uri": redirect,
                "code_verifier": verifier,
            },
        ).json()
    return body, client_id, secret
