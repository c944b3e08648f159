"""Authentication as httpx auth flows: a static API key, or OAuth tokens refreshed safely.

OAuth rules (the CustomerOS weaknesses #1 and #5, fixed):
- refresh only when the token is about to expire (a skew window) or was just rejected;
- one refresh at a time per connection (an asyncio lock), and a caller whose failed token was
  already replaced by another task reuses the new one instead of refreshing again — essential
  when refresh tokens rotate and the old pair is revoked on use;
- the new pair is handed to a TokenStore before it is used, so a crash cannot lose it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, replace
from typing import Protocol

import httpx

from leadbridge.connectors.errors import AuthError


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # epoch seconds; None when the server does not say
    extra: tuple[tuple[str, str], ...] = ()  # e.g. Salesforce's instance_url

    def get(self, key: str) -> str | None:
        return dict(self.extra).get(key)

    def expiring(self, skew: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now or time.time()) >= self.expires_at - skew

    def __repr__(self) -> str:  # never print tokens, even by accident
        return (
            f"OAuthTokens(expires_at={self.expires_at!r}, has_refresh={bool(self.refresh_token)})"
        )


class TokenStore(Protocol):
    async def save(self, tokens: OAuthTokens) -> None: ...


RefreshFn = Callable[[OAuthTokens], Awaitable[OAuthTokens]]
AuthFailure = Callable[[httpx.Response], bool]


def is_401(response: httpx.Response) -> bool:
    return response.status_code == 401


class OAuthSession:
    """The live token pair of one connection; refreshes under a lock and persists first."""

    def __init__(
        self,
        tokens: OAuthTokens,
        refresh: RefreshFn,
        store: TokenStore | None = None,
        *,
        skew: float = 300.0,
    ) -> None:
        self.tokens = tokens
        self._refresh = refresh
        self._store = store
        self.skew = skew
        self._lock = asyncio.Lock()
        self.refreshes = 0

    async def access_token(self) -> str:
        if self.tokens.expiring(self.skew):
            await self.refresh(self.tokens.access_token)
        return self.tokens.access_token

    async def refresh(self, failed_access_token: str) -> str:
        async with self._lock:
            if self.tokens.access_token != failed_access_token:
                return self.tokens.access_token  # someone else refreshed while we waited
            if not self.tokens.refresh_token:
                raise AuthError("access token rejected and no refresh token: reconnect")
            new = await self._refresh(self.tokens)
            if new.refresh_token is None:  # servers without rotation keep the old one valid
                new = replace(new, refresh_token=self.tokens.refresh_token)
            if self._store is not None:
                await self._store.save(new)
            self.tokens = new
            self.refreshes += 1
            return new.access_token


class RefreshingAuth(httpx.Auth):
    """Bearer auth; on an auth failure refreshes once and resends, then gives up."""

    def __init__(self, session: OAuthSession, is_auth_failure: AuthFailure = is_401) -> None:
        self.session = session
        self.is_auth_failure = is_auth_failure

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.session.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if self.is_auth_failure(response):
            await response.aread()
            token = await self.session.refresh(token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


class HeaderKeyAuth(httpx.Auth):
    """A static key sent in a header (Apollo's x-api-key)."""

    def __init__(self, header: str, key: str) -> None:
        self.header = header
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._key
        yield request

    def __repr__(self) -> str:
        return f"HeaderKeyAuth({self.header!r}, '***')"
