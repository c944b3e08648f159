"""Connecting a portal: OAuth 2.0 (consent with `state`, code exchange, 30-minute tokens
refreshed once when they expire) and private-app tokens; auth and scope failures typed."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from leadbridge.connectors.errors import AccessDeniedError, AuthError
from leadbridge.connectors.hubspot import HubSpotClient, HubSpotConnector
from leadbridge.connectors.hubspot import oauth as hs_oauth
from leadbridge.connectors.oauth import OAuthSession, OAuthTokens, RefreshingAuth, StoredTokens

from .conftest import FAST, Portal

REDIRECT = "http://127.0.0.1:9/callback"


def consent(portal: Portal, client_id: str, state: str) -> dict[str, list[str]]:
    """The user grants the app on the consent page; where the browser is sent back to."""
    url = hs_oauth.authorize_url(client_id, REDIRECT, state=state, base=portal.url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"].split() == list(hs_oauth.SCOPES)
    with httpx.Client(base_url=portal.url, trust_env=False) as http:
        page = http.get(url).text
        assert "crm.objects.contacts.write" in page and "crm.lists.write" in page  # optional too
        granted = http.post("/oauth/authorize", data={**query, "decision": "grant"})
    return parse_qs(urlsplit(granted.headers["location"]).query)


async def test_oauth_code_exchange_and_refresh_on_expiry(portal: Portal) -> None:
    sb = portal.sandbox
    client_id, secret = sb.register_oauth_app([REDIRECT])
    state = hs_oauth.new_state()
    back = consent(portal, client_id, state)
    assert hs_oauth.state_matches(state, back["state"][0])
    assert not hs_oauth.state_matches(state, "forged") and not hs_oauth.state_matches(state, None)
    tokens = await hs_oauth.exchange_code(portal.url, client_id, secret, REDIRECT, back["code"][0])
    assert tokens.refresh_token and tokens.expires_at is not None
    assert 1790 < tokens.expires_at - time.time() <= 1800  # honoured from expires_in
    assert "CN" not in repr(tokens)  # never printed

    saved: list[OAuthTokens] = [tokens]

    class Store:  # the connection's stored pair (compare-and-swap on its version)
        async def load(self) -> StoredTokens:
            return StoredTokens(saved[-1], len(saved))

        async def save(self, new: OAuthTokens, version: int) -> int | None:
            if version != len(saved):
                return None
            saved.append(new)
            return len(saved)

    async def refresh(current: OAuthTokens) -> OAuthTokens:
        return await hs_oauth.refresh(portal.url, client_id, secret, current)

    session = OAuthSession(tokens, refresh, Store(), settle=0.2)
    client = HubSpotClient(portal.url, auth=RefreshingAuth(session), policy=FAST)
    hs = HubSpotConnector(client)
    (made,) = await hs.write("contacts", "create", [(0, {"email": "o@auth.example"})])
    assert made.ok and session.refreshes == 0
    # Deals and lists were asked as optional scopes and granted: a deal can be written.
    deal = {"dealname": "Scoped", "pipeline": "default", "dealstage": "appointmentscheduled"}
    (written,) = await hs.write("deals", "create", [(9, deal)])
    assert written.ok, written
    sb.expire_tokens()  # 30 minutes later
    (again,) = await hs.write("contacts", "create", [(1, {"email": "p@auth.example"})])
    assert again.ok and session.refreshes == 1 and saved[-1].access_token != tokens.access_token
    assert saved[-1].refresh_token == tokens.refresh_token  # HubSpot keeps the refresh token
    assert client.budget.limit is None  # OAuth calls carry no daily headers: no daily limit

    with httpx.Client(base_url=portal.url, trust_env=False) as http:  # the user uninstalls
        assert http.delete(f"/oauth/v1/refresh-tokens/{tokens.refresh_token}").status_code == 204
    sb.expire_tokens()
    with pytest.raises(AuthError, match="reconnect"):
        await hs.write("contacts", "create", [(2, {"email": "q@auth.example"})])
    assert sb.count("contacts") == 2
    await hs.aclose()


async def test_a_refused_code_is_a_clear_auth_error(portal: Portal) -> None:
    client_id, secret = portal.sandbox.register_oauth_app([REDIRECT])
    with pytest.raises(AuthError, match="BAD_AUTH_CODE"):
        await hs_oauth.exchange_code(portal.url, client_id, secret, REDIRECT, "not-a-code")


async def test_private_app_tokens_and_scopes(portal: Portal) -> None:
    sb = portal.sandbox
    read_only = sb.issue_private_app_token(
        ["crm.objects.contacts.read", "crm.schemas.contacts.read", "crm.objects.owners.read"]
    )
    hs = portal.connector(token=read_only)
    with pytest.raises(AccessDeniedError, match=r"crm\.objects\.contacts\.write"):
        await hs.write("contacts", "create", [(0, {"email": "s@scope.example"})])
    assert sb.count("contacts") == 0
    await hs.aclose()
    revoked = portal.connector(token="pat-na1-00000000-0000-0000-0000-000000000000")
    with pytest.raises(AuthError):
        await revoked.schema("contacts")
    await revoked.aclose()
    assert "pat-na1" not in repr(hs_oauth.private_app_auth(portal.token))
