"""Connecting an Apollo team: verify the credentials, learn the team, then save (sealed).

Nothing is saved until Apollo has answered with the team's profile, so a typo in a key leaves
no half-made connection behind. OAuth uses the authorization-code flow with a random `state`
checked on the callback (CustomerOS weakness #4), PKCE with S256 (RFC 7636; Apollo's discovery
metadata lists it), and a one-shot loopback listener.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets as pysecrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from leadbridge.connectors.apollo.client import ApolloClient
from leadbridge.connectors.errors import AuthError
from leadbridge.connectors.oauth import HeaderKeyAuth, OAuthTokens
from leadbridge.engine.systems.apollo import exchange_token
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.hub.userlinks import RemoteUser, UserLinkStore
from leadbridge.secrets import remember

OAUTH_SCOPES = (
    "read_user_profile account_write account_update account_read accounts_search "
    "account_bulk_create account_stages_update account_owners_update account_stages_list "
    "users_list custom_fields_list"
)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636 §4.1-4.2: 64 random bytes as 86
    url-safe characters; the challenge is BASE64URL(SHA256(verifier)) without padding. Two
    lines of the standard library, so no OAuth library is pulled in for them."""
    verifier = pysecrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(base_url: str) -> str:
    """Apollo's authorize page is a hash route on app.apollo.io; a sandbox serves it plainly."""
    if "api.apollo.io" in base_url:
        return "https://app.apollo.io/#/oauth/authorize"
    return base_url.rstrip("/") + "/oauth/authorize"


async def _team_of(client: ApolloClient) -> str:
    profile = await client.api_profile()
    team = profile.get("team_id")
    if not team:
        users = await client.users()
        team = users[0].get("team_id") if users else None
    if not team:
        raise AuthError("Apollo answered without a team id; cannot key the links by team")
    return str(team)


async def _verify_and_save(
    connections: Connections, client: ApolloClient, **save: Any
) -> ConnectionInfo:
    """Learn the team, save the connection, and map the team's users right away (so the
    first plan already knows who owns what)."""
    try:
        team = await _team_of(client)
        info = connections.save(kind="apollo", remote_scope=team, **save)
        users = [
            RemoteUser(
                str(u["id"]),
                u.get("email"),
                u.get("first_name"),
                u.get("last_name"),
                active=not u.get("deleted"),
            )
            for u in await client.users()
        ]
        store = UserLinkStore(connections.hub.workspace_id, "apollo", team)
        with connections.hub.session() as s:
            store.sync(s, users, complete=True, create_hub_users=False)
    finally:
        await client.aclose()
    return info


async def connect_with_key(
    connections: Connections,
    *,
    name: str,
    base_url: str,
    key: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ConnectionInfo:
    remember(key)  # masked already in what the verification may print (an error echoing it)
    client = ApolloClient(base_url, auth=HeaderKeyAuth("x-api-key", key), transport=transport)
    return await _verify_and_save(
        connections, client, name=name, base_url=base_url, credentials={"api_key": key}
    )


async def save_oauth(
    connections: Connections,
    *,
    name: str,
    base_url: str,
    client_id: str,
    client_secret: str,
    tokens: OAuthTokens,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ConnectionInfo:
    from leadbridge.connectors.oauth import OAuthSession, RefreshingAuth

    async def no_refresh(_: OAuthTokens) -> OAuthTokens:
        raise AuthError("the new token was rejected")

    auth = RefreshingAuth(OAuthSession(tokens, no_refresh, skew=0))  # fresh: never refreshed
    return await _verify_and_save(
        connections,
        ApolloClient(base_url, auth=auth, transport=transport),
        name=name,
        base_url=base_url,
        credentials={
            "client_id": client_id,
            "client_secret": client_secret,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
        },
    )


async def wait_for_code(port: int, state: str, wait_seconds: float = 300.0) -> str:
    """A one-request loopback listener for the OAuth redirect; checks `state`."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[str] = loop.create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode(errors="replace")
        target = line.split(" ")[1] if line.count(" ") >= 2 else "/"
        query = parse_qs(urlparse(target).query)
        ok = query.get("state", [""])[0] == state and "code" in query
        text = "leadbridge is connected; you can close this tab." if ok else "Authorization failed."
        writer.write(
            f"HTTP/1.1 {'200 OK' if ok else '400 Bad Request'}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n{text}".encode()
        )
        await writer.drain()
        writer.close()
        if result.done():
            return
        if ok:
            result.set_result(query["code"][0])
        elif "error" in query or "status_code" in query:
            message = query.get("error_message", query.get("error", ["denied"]))[0]
            result.set_exception(AuthError(f"authorization refused: {message}"))
        elif "state" in query:
            result.set_exception(AuthError("OAuth state mismatch: the callback was not ours"))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        return await asyncio.wait_for(result, wait_seconds)
    except TimeoutError as exc:
        raise AuthError("no authorization arrived in time; run the command again") from exc
    finally:
        server.close()
        await server.wait_closed()


async def connect_with_oauth(
    connections: Connections,
    *,
    name: str,
    base_url: str,
    client_id: str,
    client_secret: str,
    redirect_port: int = 8766,
    code: str | None = None,
    redirect_uri: str | None = None,
    code_verifier: str | None = None,
    announce: Callable[[str], None] = print,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ConnectionInfo:
    remember(client_secret, code, code_verifier)
    redirect_uri = redirect_uri or f"http://127.0.0.1:{redirect_port}/callback"
    if code is None:
        state = pysecrets.token_urlsafe(24)
        code_verifier, challenge = pkce_pair()
        remember(code_verifier)
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": OAUTH_SCOPES,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        waiting = asyncio.create_task(wait_for_code(redirect_port, state))
        await asyncio.sleep(0)  # the listener is up before anyone can follow the URL
        announce(f"{authorize_url(base_url)}?{urlencode(params)}")
        code = await waiting
        remember(code)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    if code_verifier:  # with --code: the verifier of the URL that code came from, if any
        form["code_verifier"] = code_verifier
    tokens = await exchange_token(base_url, form, transport=transport)
    return await save_oauth(
        connections,
        name=name,
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        tokens=tokens,
        transport=transport,
    )
