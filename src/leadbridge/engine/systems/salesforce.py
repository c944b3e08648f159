"""Salesforce connections: opening one (stored tokens, refresh on INVALID_SESSION_ID, the org's
own CA file for a sandbox served over HTTPS) and connecting one (which opens the setup window)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from leadbridge.connectors.errors import AuthError
from leadbridge.connectors.http import Budget, RetryPolicy
from leadbridge.connectors.oauth import OAuthSession, OAuthTokens, RefreshingAuth
from leadbridge.connectors.salesforce import SalesforceClient, SalesforceConnector
from leadbridge.connectors.salesforce import oauth as sf_oauth
from leadbridge.connectors.salesforce.client import is_invalid_session
from leadbridge.hub.connections import (
    ConnectionInfo,
    Connections,
    ConnectionTokenStore,
    tokens_from,
)
from leadbridge.hub.db import Hub


def _verify(connection: ConnectionInfo) -> Any:
    ca = connection.settings.get("ca_file")
    return ssl.create_default_context(cafile=str(ca)) if ca else True


def open_salesforce(
    connections: Connections,
    connection: ConnectionInfo,
    *,
    policy: RetryPolicy | None = None,
    bulk_threshold: int = 2000,
) -> SalesforceConnector:
    creds, _ = connections.credentials(connection.id)
    if not creds.get("access_token"):
        raise AuthError(
            "this Salesforce connection has no token: run `leadbridge connect salesforce`"
        )
    verify = _verify(connection)
    store = ConnectionTokenStore(connections, connection.id)

    async def refresh(tokens: OAuthTokens) -> OAuthTokens:
        if not creds.get("refresh_token") or not creds.get("client_id"):
            raise AuthError("the Salesforce session expired: run `leadbridge connect salesforce`")
        return await sf_oauth.refresh(
            connection.base_url,
            str(creds["client_id"]),
            str(creds.get("client_secret") or ""),
            tokens,
            verify=verify,
        )

    session = OAuthSession(tokens_from(creds), refresh, store)
    client = SalesforceClient(
        str(creds.get("instance_url") or connection.base_url),
        auth=RefreshingAuth(session, is_invalid_session),
        verify=verify,
        policy=policy,
        budget=Budget(ceiling=float(connection.settings.get("budget_ceiling", 0.75))),
    )
    return SalesforceConnector(client, bulk_threshold=bulk_threshold)


def connect_salesforce(
    hub: Hub,
    connections: Connections,
    *,
    name: str,
    login_url: str,
    token_body: dict[str, Any],
    client_id: str | None = None,
    client_secret: str | None = None,
    ca_file: str | None = None,
    setup_window_hours: float = 6,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConnectionInfo:
    """Store an authorised org (token response of the OAuth flow) and open the setup window.
    New tokens for the org a connection already has (the fix for a revoked session) keep its
    sync state: no second setup window, no second initial pull."""
    org_id = str(token_body.get("id", "")).rstrip("/").split("/")[-2:-1]
    scope = org_id[0] if org_id else None
    credentials = {
        "access_token": token_body["access_token"],
        "refresh_token": token_body.get("refresh_token"),
        "instance_url": token_body.get("instance_url") or login_url,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    previous = next(
        (c for c in connections.all() if c.name == name and c.kind == "salesforce"), None
    )
    if previous is not None and scope is not None and previous.remote_scope == scope:
        settings = dict(previous.settings)
    else:
        until = clock() + timedelta(hours=setup_window_hours)
        settings = {"crm": {"setup_until": until.isoformat(), "initial_pull": "not_started"}}
    settings.pop("ca_file", None)
    if ca_file:
        settings["ca_file"] = ca_file
    return connections.save(
        kind="salesforce",
        name=name,
        base_url=login_url,
        credentials=credentials,
        settings=settings,
        remote_scope=scope,
    )
