"""Connections: one authorised link to an outside system; credentials sealed at rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from leadbridge.connectors.oauth import OAuthTokens
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Connection
from leadbridge.secrets import SecretBox


class ConnectionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ConnectionInfo:
    id: int
    kind: str
    name: str
    base_url: str
    settings: dict[str, Any]
    remote_scope: str | None
    health: str
    health_detail: str | None


def _info(row: Connection) -> ConnectionInfo:
    return ConnectionInfo(
        row.id,
        row.kind,
        row.name,
        row.base_url,
        dict(row.settings or {}),
        row.remote_scope,
        row.health,
        row.health_detail,
    )


class Connections:
    def __init__(self, hub: Hub, box: SecretBox) -> None:
        self.hub = hub
        self.box = box

    def save(
        self,
        *,
        kind: str,
        name: str,
        base_url: str,
        credentials: dict[str, Any],
        settings: dict[str, Any] | None = None,
        remote_scope: str | None = None,
    ) -> ConnectionInfo:
        """Create or replace (by name) a connection; keeps its settings unless given."""
        with self.hub.session() as s:
            row = s.scalar(
                select(Connection).where(
                    Connection.workspace_id == self.hub.workspace_id, Connection.name == name
                )
            )
            if row is None:
                row = Connection(workspace_id=self.hub.workspace_id, name=name, kind=kind)
                row.settings = settings or {}
                s.add(row)
            elif settings is not None:
                row.settings = settings
            row.kind = kind
            row.base_url = base_url
            row.credentials = self.box.seal(credentials)
            row.credentials_version = (row.credentials_version or 0) + 1
            row.remote_scope = remote_scope
            row.health = "ok"
            row.health_detail = None
            s.flush()
            return _info(row)

    def get(self, name: str | None = None, kind: str | None = None) -> ConnectionInfo:
        with self.hub.session() as s:
            query = select(Connection).where(Connection.workspace_id == self.hub.workspace_id)
            if name:
                query = query.where(Connection.name == name)
            if kind:
                query = query.where(Connection.kind == kind)
            rows = list(s.scalars(query.order_by(Connection.id)))
        if not rows:
            what = f"named {name!r}" if name else f"of kind {kind}" if kind else ""
            raise ConnectionNotFound(
                f"no connection {what}; create one with `leadbridge connect {kind or 'apollo'}`"
            )
        return _info(rows[0])

    def all(self) -> list[ConnectionInfo]:
        with self.hub.session() as s:
            rows = s.scalars(
                select(Connection)
                .where(Connection.workspace_id == self.hub.workspace_id)
                .order_by(Connection.id)
            )
            return [_info(r) for r in rows]

    def credentials(self, connection_id: int) -> tuple[dict[str, Any], int]:
        with self.hub.session() as s:
            row = s.get(Connection, connection_id)
            if row is None:
                raise ConnectionNotFound(f"connection {connection_id} is gone")
            return self.box.open(row.credentials), row.credentials_version

    def update_settings(self, connection_id: int, settings: dict[str, Any]) -> None:
        with self.hub.session() as s:
            s.execute(
                update(Connection).where(Connection.id == connection_id).values(settings=settings)
            )

    def set_health(self, connection_id: int, health: str, detail: str | None = None) -> None:
        with self.hub.session() as s:
            s.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                .values(health=health, health_detail=detail)
            )

    def set_scope(self, connection_id: int, scope: str) -> None:
        with self.hub.session() as s:
            s.execute(
                update(Connection).where(Connection.id == connection_id).values(remote_scope=scope)
            )


class ConnectionTokenStore:
    """Persists rotated OAuth tokens atomically: the sealed credentials and their version move
    together in one UPDATE, so a crash leaves either the old pair or the new one, never half."""

    def __init__(self, connections: Connections, connection_id: int) -> None:
        self.connections = connections
        self.connection_id = connection_id

    def load(self) -> OAuthTokens | None:
        creds, _ = self.connections.credentials(self.connection_id)
        if "access_token" not in creds:
            return None
        return tokens_from(creds)

    async def save(self, tokens: OAuthTokens) -> None:
        creds, version = self.connections.credentials(self.connection_id)
        creds.update(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
        )
        creds.update(dict(tokens.extra))
        with self.connections.hub.session() as s:
            s.execute(
                update(Connection)
                .where(Connection.id == self.connection_id)
                .values(
                    credentials=self.connections.box.seal(creds), credentials_version=version + 1
                )
            )


def tokens_from(creds: dict[str, Any]) -> OAuthTokens:
    extra = tuple(
        (k, str(v))
        for k, v in creds.items()
        if k in ("instance_url", "id", "scope") and v is not None
    )
    expires = creds.get("expires_at")
    return OAuthTokens(
        access_token=str(creds["access_token"]),
        refresh_token=creds.get("refresh_token"),
        expires_at=float(expires) if expires is not None else None,
        extra=extra,
    )
