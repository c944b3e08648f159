"""Token refresh as a compare-and-swap on the stored pair: sessions that share one stored
connection (two processes, or two clients in one) never lose a rotating refresh token."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from leadbridge.connectors.errors import AuthError
from leadbridge.connectors.oauth import OAuthSession, OAuthTokens, StoredTokens


class RotatingServer:
    """A token endpoint whose refresh rotates: the refresh token used dies at once."""

    def __init__(self, first: OAuthTokens, delay: float = 0.0) -> None:
        self.valid = first.refresh_token
        self.delay = delay
        self.calls = 0
        self.refused = 0
        self._ids = itertools.count(2)

    async def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if tokens.refresh_token != self.valid:
            self.refused += 1
            raise AuthError("refused the grant", status=400, code="invalid_grant")
        n = next(self._ids)
        self.valid = f"refresh-{n}"
        return OAuthTokens(f"access-{n}", self.valid, None)


class MemoryStore:
    """The stored credentials of one connection: a pair and its version, swapped atomically;
    `save_delay` keeps a winner between the server's answer and its save for a while."""

    def __init__(self, tokens: OAuthTokens, save_delay: float = 0.0) -> None:
        self.tokens, self.version = tokens, 1
        self.save_delay = save_delay
        self.swaps_lost = 0

    async def load(self) -> StoredTokens:
        return StoredTokens(self.tokens, self.version)

    async def save(self, tokens: OAuthTokens, version: int) -> int | None:
        await asyncio.sleep(self.save_delay)
        if version != self.version:
            self.swaps_lost += 1
            return None
        self.tokens, self.version = tokens, version + 1
        return self.version


FIRST = OAuthTokens("access-1", "refresh-1", None)


def session(server: RotatingServer, store: MemoryStore, **kw: float) -> OAuthSession:
    return OAuthSession(store.tokens, server.refresh, store, **kw)


async def test_two_sessions_refreshing_at_once_rotate_the_pair_once() -> None:
    server, store = RotatingServer(FIRST, delay=0.01), MemoryStore(FIRST)
    a, b = session(server, store), session(server, store)
    tokens = await asyncio.gather(a.refresh("access-1"), b.refresh("access-1"))
    assert tokens == ["access-2", "access-2"]
    assert store.tokens.refresh_token == "refresh-2" == server.valid
    assert a.refreshes + b.refreshes == 1 and a.adopted + b.adopted == 1


async def test_a_refused_refresh_waits_for_the_winner_to_save_then_adopts_its_pair() -> None:
    # The winner's save lands 0.3 s after the server answered it: the loser, refused by the
    # server in between, must not call that an auth failure.
    server, store = RotatingServer(FIRST), MemoryStore(FIRST, save_delay=0.3)
    a, b = session(server, store), session(server, store, settle=2.0)
    winner = asyncio.create_task(a.refresh("access-1"))
    await asyncio.sleep(0.05)  # a got its answer and is saving it
    assert await b.refresh("access-1") == "access-2"
    assert await winner == "access-2"
    assert server.refused == 1 and b.adopted == 1 and b.refreshes == 0


async def test_a_refused_refresh_with_nothing_rotated_is_an_auth_failure() -> None:
    server, store = RotatingServer(FIRST), MemoryStore(FIRST)
    server.valid = "revoked-by-the-user"
    lone = session(server, store, settle=0.2)
    with pytest.raises(AuthError, match="refused the grant"):
        await lone.refresh("access-1")
    assert store.tokens == FIRST


async def test_a_stored_pair_rotated_by_another_process_is_adopted_without_a_call() -> None:
    server, store = RotatingServer(FIRST), MemoryStore(FIRST)
    behind = session(server, store)
    await session(server, store).refresh("access-1")  # "the other process"
    assert await behind.refresh("access-1") == "access-2"
    assert server.calls == 1 and behind.adopted == 1


async def test_a_version_moved_without_a_new_pair_keeps_our_refresh() -> None:
    # A key rotation re-sealed the row between our read and our save: same pair, new version.
    # Our refresh rotated the pair at the server, so ours must be stored, not the dead one.
    server, store = RotatingServer(FIRST), MemoryStore(FIRST)
    original = server.refresh

    async def refresh_while_resealed(tokens: OAuthTokens) -> OAuthTokens:
        new = await original(tokens)
        store.version += 1
        return new

    lone = OAuthSession(FIRST, refresh_while_resealed, store)
    assert await lone.refresh("access-1") == "access-2"
    assert store.tokens.refresh_token == "refresh-2" and store.swaps_lost == 1


async def test_a_reconnect_stored_meanwhile_wins_over_our_refresh() -> None:
    server, store = RotatingServer(FIRST), MemoryStore(FIRST)
    original = server.refresh
    reconnected = OAuthTokens("access-new-grant", "refresh-new-grant", None)

    async def refresh_while_reconnected(tokens: OAuthTokens) -> OAuthTokens:
        new = await original(tokens)
        store.tokens, store.version = reconnected, store.version + 1
        return new

    lone = OAuthSession(FIRST, refresh_while_reconnected, store)
    assert await lone.refresh("access-1") == "access-new-grant"
    assert store.tokens == reconnected


async def test_many_sessions_racing_many_rounds_never_fail() -> None:
    server, store = RotatingServer(FIRST, delay=0.002), MemoryStore(FIRST, save_delay=0.002)
    sessions = [session(server, store, settle=2.0) for _ in range(4)]
    for _ in range(25):
        await asyncio.gather(*(s.refresh(s.tokens.access_token) for s in sessions))
        assert {s.tokens.access_token for s in sessions} == {store.tokens.access_token}
    assert server.refused > 0, "the sessions must really have raced"
    assert store.tokens.refresh_token == server.valid
