"""API keys and OAuth 2.0 grants of the sandbox team (reference B1, B2).

Apollo's OAuth server answers like Doorkeeper (Rails): the token JSON has exactly Doorkeeper's
fields, errors are `{"error", "error_description"}`. Codes are single-use and short-lived (a
reused code is refused; like Doorkeeper, the tokens it already produced stay valid). A refresh
rotates: the old access and refresh tokens die at once. PKCE (RFC 7636, S256 and plain) as
Doorkeeper checks it: a code issued with a code_challenge needs the code_verifier (missing:
invalid_request; wrong: invalid_grant), and a verifier sent for a code issued without a
challenge is refused too (invalid_grant); a failed check does not spend the code.
Not thread-safe on its own: the sandbox calls it under its lock.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ALWAYS_GRANTED = frozenset({"read_user_profile", "app_scopes"})
PKCE_METHODS = ("S256", "plain")


@dataclass
class ApiKey:
    user_id: str
    master: bool
    routes: frozenset[str]  # a scoped key lists routes like "api/v1/accounts/create"


@dataclass
class OAuthApp:
    secret: str
    redirect_uris: list[str]
    scopes: frozenset[str]
    open_scopes: bool  # registered without scopes: any requested scope is granted


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: frozenset[str]
    expires_at: float
    used: bool = False
    challenge: str | None = None  # PKCE code_challenge given on the authorize request
    challenge_method: str = "plain"


@dataclass
class Token:
    client_id: str
    user_id: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False
    refresh_token: str = ""


@dataclass
class Refresh:
    client_id: str
    access_token: str
    revoked: bool = False


class GrantError(Exception):
    """An OAuth error answer: `{"error": code, "error_description": description}`."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code, self.description, self.status = code, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)


class Credentials:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.api_keys: dict[str, ApiKey] = {}
        self.apps: dict[str, OAuthApp] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Refresh] = {}

    # --- keys and apps -------------------------------------------------------------------------

    def issue_api_key(self, user_id: str, master: bool, routes: list[str] | None) -> str:
        key = secrets.token_urlsafe(16)
        self.api_keys[key] = ApiKey(user_id, master, frozenset(routes or ()))
        return key

    def register_app(self, redirect_uris: list[str], scopes: list[str] | None) -> tuple[str, str]:
        client_id, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
        wanted = frozenset(scopes or ())
        self.apps[client_id] = OAuthApp(
            secret, list(redirect_uris), wanted | ALWAYS_GRANTED, open_scopes=not wanted
        )
        return client_id, secret

    def authorize_problem(
        self,
        client_id: str,
        redirect_uri: str,
        response_type: str,
        challenge_method: str | None = None,
    ) -> str:
        """Why the authorize page must refuse ("" when it may ask the user)."""
        app = self.apps.get(client_id)
        if app is None:
            return "Unknown client_id: this app is not registered."
        if redirect_uri not in app.redirect_uris:
            return "The redirect_uri is not registered for this app."
        if response_type != "code":
            return "response_type must be code."
        if challenge_method is not None and challenge_method not in PKCE_METHODS:
            return f"code_challenge_method must be one of {', '.join(PKCE_METHODS)}."
        return ""

    def granted_scopes(self, client_id: str, requested: str) -> frozenset[str]:
        """`scope` defaults to the registered set; registered scopes cap what may be granted."""
        app = self.apps[client_id]
        wanted = frozenset(requested.split()) if requested.strip() else app.scopes
        if not app.open_scopes:
            wanted &= app.scopes
        return wanted | ALWAYS_GRANTED

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        user_id: str,
        scopes: frozenset[str],
        ttl: float,
        challenge: str | None = None,
        challenge_method: str | None = None,
    ) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = Code(
            client_id,
            redirect_uri,
            user_id,
            scopes,
            self.clock() + ttl,
            challenge=challenge or None,
            challenge_method=challenge_method or "plain",  # RFC 7636 §4.3: plain by default
        )
        return code

    # --- the token endpoint ----------------------------------------------------------------------

    def client(self, client_id: str, secret: str) -> OAuthApp:
        app = self.apps.get(client_id)
        if app is None or not secrets.compare_digest(app.secret, secret):
            raise GrantError(
                "invalid_client",
                "Client authentication failed due to unknown client, no client authentication "
                "included, or unsupported authentication method.",
                401,
            )
        return app

    def redeem_code(
        self,
        client_id: str,
        code_text: str,
        redirect_uri: str | None,
        ttl: float,
        verifier: str | None = None,
    ) -> dict[str, Any]:
        code = self.codes.get(code_text)
        if code is not None and code.challenge and not verifier:
            raise GrantError("invalid_request", "Missing required parameter: code_verifier.")
        if code is None or code.client_id != client_id:
            raise GrantError("invalid_grant", INVALID_GRANT)
        if code.used or code.expires_at <= self.clock():
            raise GrantError("invalid_grant", INVALID_GRANT)
        if (code.challenge or verifier) and not pkce_matches(code, verifier or ""):
            raise GrantError("invalid_grant", INVALID_GRANT)
        code.used = True  # presented once by its client: spent, even if the rest is wrong
        # The reference makes redirect_uri optional here; when sent it must be the same one.
        if redirect_uri is not None and redirect_uri != code.redirect_uri:
            raise GrantError("invalid_grant", INVALID_GRANT)
        return self._mint(client_id, code.user_id, code.scopes, ttl)

    def refresh(
        self, client_id: str, refresh_text: str, scope: str | None, ttl: float
    ) -> dict[str, Any]:
        old = self.refresh_tokens.get(refresh_text)
        if old is None or old.revoked or old.client_id != client_id:
            raise GrantError("invalid_grant", INVALID_GRANT)
        token = self.tokens[old.access_token]
        scopes = token.scopes
        if scope:  # a refresh may narrow the grant, never widen it
            scopes = (scopes & frozenset(scope.split())) | ALWAYS_GRANTED
        old.revoked = True  # rotation: the old pair dies now
        token.revoked = True
        return self._mint(client_id, token.user_id, scopes, ttl)

    def revoke(self, client_id: str, token_text: str) -> None:
        """RFC 7009: revoking a refresh token also revokes its access token; unknown is fine."""
        if token_text in self.refresh_tokens:
            refresh = self.refresh_tokens[token_text]
            if refresh.client_id == client_id:
                refresh.revoked = True
                self.revoke_access(refresh.access_token)
        elif token_text in self.tokens and self.tokens[token_text].client_id == client_id:
            self.revoke_access(token_text)

    def revoke_access(self, access: str) -> None:
        token = self.tokens.get(access)
        if token is not None:
            token.revoked = True
            if token.refresh_token in self.refresh_tokens:
                self.refresh_tokens[token.refresh_token].revoked = True

    def _mint(
        self, client_id: str, user_id: str, scopes: frozenset[str], ttl: float
    ) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock()
        self.tokens[access] = Token(client_id, user_id, scopes, now + ttl, refresh_token=refresh)
        self.refresh_tokens[refresh] = Refresh(client_id, access)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(ttl),
            "refresh_token": refresh,
            "scope": " ".join(sorted(scopes)),
            "created_at": int(now),
        }

    # --- checking a bearer token ---------------------------------------------------------------

    def bearer(self, access: str) -> tuple[Token | None, str]:
        """The live token, or None and why not."""
        token = self.tokens.get(access)
        if token is None:
            return None, "The access token is invalid"
        if token.revoked:
            return None, "The access token was revoked"
        if token.expires_at <= self.clock():
            return None, "The access token expired"
        return token, ""


def pkce_matches(code: Code, verifier: str) -> bool:
    if code.challenge is None:
        return False  # a verifier for a code issued without a challenge
    if code.challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return secrets.compare_digest(expected, code.challenge)
