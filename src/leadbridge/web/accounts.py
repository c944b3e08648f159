"""Accounts of the web app: users with argon2id password hashes (argon2-cffi), browser sessions
and API tokens. Sessions and tokens are random 256-bit values; the hub keeps only their SHA-256,
so a copy of the database opens nothing (a fast hash is enough for values of that entropy, unlike
passwords, which get argon2)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import TOKEN_SCOPES, ApiToken, WebSession, WebUser, as_utc, utcnow

SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "lbt_"
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when a name is unknown, so a login takes as long whether or not the user exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A refused account operation; the message says why."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str


@dataclass(frozen=True)
class TokenGrant:
    """Who a valid API token belongs to and what it may do."""

    account: Account
    scope: str
    token_id: int


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def has_accounts(hub: Hub) -> bool:
    with hub.session() as s:
        n = s.scalar(select(func.count()).select_from(WebUser))
        return bool(n)


def create_user(hub: Hub, username: str, password: str) -> Account:
    name = username.strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise AccountError("a user name is 1-200 characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    with hub.session() as s:
        found = s.scalar(
            select(WebUser).where(
                WebUser.workspace_id == hub.workspace_id, WebUser.username == name
            )
        )
        if found is not None:
            raise AccountError(f"there is already a user {name!r}")
        user = WebUser(
            workspace_id=hub.workspace_id, username=name, password_hash=_hasher.hash(password)
        )
        s.add(user)
        s.flush()
        return Account(user.id, user.username)


def authenticate(hub: Hub, username: str, password: str) -> Account | None:
    with hub.session() as s:
        user = s.scalar(
            select(WebUser).where(
                WebUser.workspace_id == hub.workspace_id, WebUser.username == username.strip()
            )
        )
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = utcnow()
        return Account(user.id, user.username)


# --- sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    account: Account
    csrf_token: str


def open_session(hub: Hub, account: Account) -> tuple[str, str]:
    """A new session for `account`: (the cookie value, its CSRF token)."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    with hub.session() as s:
        s.execute(delete(WebSession).where(WebSession.expires_at < now))
        s.add(
            WebSession(
                id=digest(cookie),
                user_id=account.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return cookie, csrf


def session_of(hub: Hub, cookie: str | None) -> SignedIn | None:
    if not cookie or len(cookie) > 200:
        return None
    with hub.session() as s:
        row = s.get(WebSession, digest(cookie))
        expires = as_utc(row.expires_at) if row is not None else None
        if row is None or expires is None or expires < utcnow():
            return None
        user = s.get(WebUser, row.user_id)
        if user is None:
            return None
        return SignedIn(Account(user.id, user.username), row.csrf_token)


def close_session(hub: Hub, cookie: str | None) -> None:
    if cookie:
        with hub.session() as s:
            s.execute(delete(WebSession).where(WebSession.id == digest(cookie)))


# --- API tokens ----------------------------------------------------------------------------


def create_token(hub: Hub, username: str, name: str, scope: str) -> str:
    """A new API token for `username`; the token itself is returned once and never stored."""
    if scope not in TOKEN_SCOPES:
        raise AccountError(f"the scope is read or write, not {scope!r}")
    with hub.session() as s:
        user = s.scalar(
            select(WebUser).where(
                WebUser.workspace_id == hub.workspace_id, WebUser.username == username
            )
        )
        if user is None:
            raise AccountError(
                f"no user {username!r} (create it with `leadbridge admin create-user`)"
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        s.add(
            ApiToken(
                user_id=user.id,
                name=name[:200] or "token",
                token_hash=digest(token),
                prefix=token[:12],
                scope=scope,
            )
        )
    return token


def token_grant(hub: Hub, token: str) -> TokenGrant | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with hub.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        user = s.get(WebUser, row.user_id)
        if user is None or user.workspace_id != hub.workspace_id:
            return None
        row.last_used_at = utcnow()
        return TokenGrant(Account(user.id, user.username), row.scope, row.id)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None


def list_tokens(hub: Hub, account: Account) -> list[TokenInfo]:
    with hub.session() as s:
        rows = s.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == account.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id)
        )
        return [
            TokenInfo(r.id, r.name, r.prefix, r.scope, r.created_at, r.last_used_at) for r in rows
        ]


def revoke_token(hub: Hub, account: Account, token_id: int) -> bool:
    with hub.session() as s:
        row = s.get(ApiToken, token_id)
        if row is None or row.user_id != account.id or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        return True
