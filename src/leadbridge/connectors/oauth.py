"""Authentication as httpx auth flows: a static API key, or OAuth tokens refreshed safely.

OAuth rules (the CustomerOS weaknesses #1 and #5, fixed):
- refresh only when the token is about to expire (a skew window) or was just rejected;
- one refresh at a time per session (an asyncio lock), and a caller whose failed token was
  already replaced by another task reuses the new one instead of refreshing again;
- across sessions and processes sharing a stored connection (the `serve` job and a manual
  `users sync`), the stored pair is the truth, and a refresh is a compare-and-swap on it:
  read the stored pair and its version; if another process has rotated it already, adopt it;
  else refresh, and save only if the stored version is still the one read. A refused refresh
  re-reads the store for a few seconds (the winner of a race may not have saved yet) before it
  counts as an auth failure. Essential when refresh tokens rotate and the old pair dies on use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, replace
from typing import Protocol

import httpx

from leadbridge.connectors.errors import AuthError
from leadbridge.secrets import remember


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # epoch seconds; None when the server does not say
    extra: tuple[tuple[str, str], ...] = ()  # e.g. Salesforce's instance_url

    def __post_init__(self) -> None:
        remember(self.access_token, self.refresh_token)  # masked wherever output is produced

    def get(self, key: str) -> str | None:
        return dict(self.extra).get(key)

    def expiring(self, skew: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now or time.time()) >= self.expires_at - skew

    def same_pair(self, other: OAuthTokens) -> bool:
        return (self.access_token, self.refresh_token) == (other.access_token, other.refresh_token)

    def __repr__(self) -> str:  # never print tokens, even by accident
        return (
            f"OAuthTokens(expires_at={self.expires_at!r}, has_refresh={bool(self.refresh_token)})"
        )


@dataclass(frozen=True)
class StoredTokens:
    tokens: OAuthTokens
    version: int  # bumped on every write of the stored credentials


class TokenStore(Protocol):
    async def load(self) -> StoredTokens | None: ...

    async def save(self, tokens: OAuthTokens, version: int) -> int | None:
        """Compare-and-swap: stores `tokens` only if the stored version is still `version`;
        the new version, or None when another writer got there first."""
        ...


RefreshFn = Callable[[OAuthTokens], Awaitable[OAuthTokens]]
AuthFailure = Callable[[httpx.Response], bool]
Sleep = Callable[[float], Awaitable[None]]


def is_401(response: httpx.Response) -> bool:
    return response.status_code == 401


class OAuthSession:
    """The live token pair of one connection; refreshes under a lock, through the store."""

    def __init__(
        self,
        tokens: OAuthTokens,
        refresh: RefreshFn,
        store: TokenStore | None = None,
        *,
        skew: float = 300.0,
        settle: float = 5.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.tokens = tokens
        self._refresh = refresh
        self._store = store
        self.skew = skew
        self.settle = settle  # how long a refused refresh waits for a racing winner's save
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self.refreshes = 0  # refreshes this session made at the server
        self.adopted = 0  # pairs another session or process had rotated (no server call)

    async def access_token(self) -> str:
        if self.tokens.expiring(self.skew):
            await self.refresh(self.tokens.access_token)
        return self.tokens.access_token

    async def refresh(self, failed_access_token: str) -> str:
        async with self._lock:
            if self.tokens.access_token != failed_access_token:
                return self.tokens.access_token  # another task refreshed while we waited
            if self._store is None:
                self.tokens = await self._at_server(self.tokens)
                self.refreshes += 1
                return self.tokens.access_token
            return await self._shared_refresh()

    async def _shared_refresh(self) -> str:
        assert self._store is not None
        stored = await self._store.load()
        if stored is None:  # nothing stored to coordinate on (the connection lost its tokens)
            raise AuthError("the stored OAuth tokens are gone: reconnect")
        if not stored.tokens.same_pair(self.tokens) and not stored.tokens.expiring(self.skew):
            return self._adopt(stored.tokens)
        base = stored
        try:
            new = await self._at_server(base.tokens)
        except AuthError as exc:
            rotated = await self._rotated_since(base.tokens) if _maybe_raced(exc) else None
            if rotated is None:
                raise
            return self._adopt(rotated)
        while True:
            version = await self._store.save(new, base.version)
            if version is not None:
                self.tokens = new
                self.refreshes += 1
                return new.access_token
            latest = await self._store.load()
            if latest is None:
                raise AuthError("the stored OAuth tokens are gone: reconnect")
            if not latest.tokens.same_pair(base.tokens):
                # Another writer stored a different pair meanwhile (a reconnect, or a server
                # that does not rotate): that pair is what every process now uses.
                return self._adopt(latest.tokens)
            base = latest  # only the version moved (re-sealed by a key rotation): ours stands

    async def _at_server(self, tokens: OAuthTokens) -> OAuthTokens:
        if not tokens.refresh_token:
            raise AuthError("access token rejected and no refresh token: reconnect")
        new = await self._refresh(tokens)
        if new.refresh_token is None:  # servers without rotation keep the old one valid
            new = replace(new, refresh_token=tokens.refresh_token)
        return new

    async def _rotated_since(self, used: OAuthTokens) -> OAuthTokens | None:
        """The pair another process stored after rotating `used`, waiting up to `settle`
        seconds for it (the server answered the winner before the winner could save)."""
        assert self._store is not None
        deadline = time.monotonic() + self.settle
        delay = 0.05
        while True:
            stored = await self._store.load()
            if stored is not None and not stored.tokens.same_pair(used):
                return stored.tokens
            if time.monotonic() >= deadline:
                return None
            await self._sleep(delay)
            delay = min(delay * 2, 0.5)

    def _adopt(self, tokens: OAuthTokens) -> str:
        self.tokens = tokens
        self.adopted += 1
        return tokens.access_token


def _maybe_raced(exc: AuthError) -> bool:
    """A refused refresh may be a lost race (invalid_grant: the refresh token was just rotated
    by someone else), unless the server said something else (e.g. invalid_client)."""
    return exc.code in (None, "invalid_grant")


class RefreshingAuth(httpx.Auth):
    """Bearer auth; on an auth failure renews the token and resends, then gives up. A pair
    adopted from another process may itself have been rotated again meanwhile, so an adopted
    pair that is refused gets one more renewal; a pair fresh from the server does not."""

    RENEWALS = 2

    def __init__(self, session: OAuthSession, is_auth_failure: AuthFailure = is_401) -> None:
        self.session = session
        self.is_auth_failure = is_auth_failure

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.session.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        for _ in range(self.RENEWALS):
            if not self.is_auth_failure(response):
                return
            await response.aread()
            refreshes = self.session.refreshes
            token = await self.session.refresh(token)
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if self.session.refreshes != refreshes:
                return  # a pair fresh from the server was refused too: that is final


class HeaderKeyAuth(httpx.Auth):
    """A static key sent in a header (Apollo's x-api-key)."""

    def __init__(self, header: str, key: str) -> None:
        self.header = header
        self._key = key
        remember(key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._key
        yield request

    def __repr__(self) -> str:
        return f"HeaderKeyAuth({self.header!r}, '***')"
