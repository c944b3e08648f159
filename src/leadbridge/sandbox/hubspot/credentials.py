"""Private-app tokens and OAuth 2.0 grants of the sandbox portal (reference A1, A2).

Both travel as `Authorization: Bearer …`. A private app has a token (`pat-na1-…`) that does not
expire and the scopes it was given. An OAuth app has a client id and secret and redirect URIs;
its authorization codes are single-use; its access tokens live `access_token_ttl` (30 minutes);
a refresh answers a new access token and the same refresh token (reference A2, [C/U]).
Not thread-safe on its own: the sandbox calls it under the portal lock.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

# The scopes this sandbox knows; a private app gets them all unless told otherwise.
ALL_SCOPES = frozenset(
    {
        "oauth",
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.companies.read",
        "crm.objects.companies.write",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
        "crm.objects.owners.read",
        "crm.schemas.contacts.read",
        "crm.schemas.contacts.write",
        "crm.schemas.companies.read",
        "crm.schemas.companies.write",
        "crm.schemas.deals.read",
        "crm.schemas.deals.write",
        "sales-email-read",
        "crm.lists.read",
        "crm.lists.write",
    }
)


@dataclass(frozen=True)
class Caller:
    token: str
    app_id: str
    scopes: frozenset[str]
    oauth: bool
    user_id: str | None = None

    @property
    def rate_key(self) -> str:
        """Private apps share the portal's limits; each OAuth app has its own."""
        return f"app:{self.app_id}" if self.oauth else "private-apps"


@dataclass
class PrivateApp:
    app_id: str
    scopes: frozenset[str]
    client_secret: str  # signs its webhooks


@dataclass
class OAuthApp:
    app_id: str
    secret: str
    redirect_uris: list[str]
    scopes: frozenset[str]


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    user_id: str
    expires_at: float


@dataclass
class AccessToken:
    client_id: str
    scopes: frozenset[str]
    user_id: str
    expires_at: float
    refresh_token: str


@dataclass
class RefreshToken:
    client_id: str
    scopes: frozenset[str]
    user_id: str
    revoked: bool = False


class GrantError(Exception):
    """A token-endpoint refusal: 400 `{"status": code, "message", "correlationId"}` [C/U]."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Credentials:
    private: dict[str, PrivateApp] = field(default_factory=dict)
    apps: dict[str, OAuthApp] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    _next_app: int = 4_169_410  # the recorded private app's id

    def _app_id(self) -> str:
        self._next_app += 1
        return str(self._next_app)

    def issue_private_token(self, scopes: list[str] | None = None) -> str:
        token = f"pat-na1-{uuid.uuid4()}"
        wanted = frozenset(scopes) if scopes is not None else ALL_SCOPES
        self.private[token] = PrivateApp(self._app_id(), wanted, str(uuid.uuid4()))
        return token

    def register_app(self, redirect_uris: list[str], scopes: list[str] | None) -> tuple[str, str]:
        client_id, secret = str(uuid.uuid4()), str(uuid.uuid4())
        wanted = frozenset(scopes) if scopes is not None else ALL_SCOPES
        self.apps[client_id] = OAuthApp(self._app_id(), secret, list(redirect_uris), wanted)
        return client_id, secret

    def authorize_problem(self, client_id: str, redirect_uri: str, scope: str) -> str:
        """Why the authorize page refuses ("" when it may ask the user)."""
        app = self.apps.get(client_id)
        if app is None:
            return "Unknown client_id: this app is not registered."
        if redirect_uri not in app.redirect_uris:
            return "The redirect_uri does not match one of the app's redirect URLs."
        requested = set(scope.split())
        if not requested:
            return "The scope parameter is required."
        unknown = requested - app.scopes
        if unknown:
            return f"The app has not been configured with these scopes: {' '.join(sorted(unknown))}"
        return ""

    def issue_code(
        self, client_id: str, redirect_uri: str, scopes: frozenset[str], user_id: str, ttl: float,
        now: float,
    ) -> str:  # fmt: skip
        code = str(uuid.uuid4())
        self.codes[code] = Code(client_id, redirect_uri, scopes, user_id, now + ttl)
        return code

    def client(self, client_id: str, secret: str) -> OAuthApp:
        app = self.apps.get(client_id)
        if app is None:
            raise GrantError("BAD_CLIENT_ID", "missing or unknown client id")
        if not secrets.compare_digest(secret, app.secret):
            raise GrantError("BAD_CLIENT_SECRET", "missing or invalid client secret")
        return app

    def redeem(
        self, client_id: str, code_text: str, redirect_uri: str, ttl: float, now: float
    ) -> tuple[str, str, AccessToken]:
        code = self.codes.pop(code_text, None)  # single use, even when refused below
        if code is None or code.client_id != client_id or code.expires_at <= now:
            raise GrantError("BAD_AUTH_CODE", "missing or unknown auth code")
        if redirect_uri != code.redirect_uri:
            raise GrantError("BAD_REDIRECT_URI", "redirect_uri does not match the auth code's")
        refresh = str(uuid.uuid4())
        self.refresh[refresh] = RefreshToken(client_id, code.scopes, code.user_id)
        access, token = self._mint(client_id, refresh, ttl, now)
        return access, refresh, token

    def renew(
        self, client_id: str, refresh_text: str, ttl: float, now: float
    ) -> tuple[str, str, AccessToken]:
        refresh = self.refresh.get(refresh_text)
        if refresh is None or refresh.revoked or refresh.client_id != client_id:
            raise GrantError("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        access, token = self._mint(client_id, refresh_text, ttl, now)
        return access, refresh_text, token

    def _mint(
        self, client_id: str, refresh_text: str, ttl: float, now: float
    ) -> tuple[str, AccessToken]:
        grant = self.refresh[refresh_text]
        access = "CN" + secrets.token_urlsafe(120)
        token = AccessToken(client_id, grant.scopes, grant.user_id, now + ttl, refresh_text)
        self.access[access] = token
        return access, token

    def revoke_refresh(self, refresh_text: str) -> bool:
        refresh = self.refresh.get(refresh_text)
        if refresh is None or refresh.revoked:
            return False
        refresh.revoked = True
        for token in self.access.values():
            if token.refresh_token == refresh_text:
                token.expires_at = 0.0
        return True

    def expire_all(self, now: float) -> int:
        """Every live OAuth access token expires now (the token-expiry knob)."""
        live = [t for t in self.access.values() if t.expires_at > now]
        for token in live:
            token.expires_at = now
        return len(live)

    def caller(self, token_text: str, now: float) -> Caller | float:
        """The caller of a bearer token; else the time it expired at (0 when unknown)."""
        app = self.private.get(token_text)
        if app is not None:
            return Caller(token_text, app.app_id, app.scopes, oauth=False)
        token = self.access.get(token_text)
        if token is None:
            return 0.0
        if token.expires_at <= now:
            return token.expires_at
        oauth_app = self.apps[token.client_id]
        return Caller(token_text, oauth_app.app_id, token.scopes, True, token.user_id)

    def secret_of(self, app_id: str) -> str | None:
        """The client secret that signs an app's webhooks."""
        for app in self.apps.values():
            if app.app_id == app_id:
                return app.secret
        for private in self.private.values():
            if private.app_id == app_id:
                return private.client_secret
        return None
