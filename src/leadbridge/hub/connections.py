"""Connections: one authorised link to an outside system; credentials sealed at rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from leadbridge.connectors.oauth import OAuthTokens, StoredTokens
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Connection
from leadbridge.secrets import SecretBox, redact_text


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

    def swap_credentials(self, connection_id: int, version: int, sealed: str) -> int | None:
        """Compare-and-swap of the sealed credentials: written only while the stored version
        is still `version`; the new version, or None when another writer came first."""
        with self.hub.session() as s:
            result = s.execute(
                update(Connection)
                .where(Connection.id == connection_id, Connection.credentials_version == version)
                .values(credentials=sealed, credentials_version=version + 1)
            )
            return version + 1 if getattr(result, "rowcount", 0) == 1 else None

    def credential_problems(self) -> dict[int, str]:
        """Connections of this workspace whose credentials cannot be opened, and why. Opening
        the others also makes their secrets known to the masking (secrets.values)."""
        with self.hub.session() as s:
            rows = s.execute(
                select(Connection.id, Connection.credentials).where(
                    Connection.workspace_id == self.hub.workspace_id
                )
            )
            sealed = [(r.id, r.credentials) for r in rows]
        problems = {}
        for connection_id, token in sealed:
            problem = self.box.problem(token)
            if problem is not None:
                problems[connection_id] = problem
        return problems

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
                .values(health=health, health_detail=redact_text(detail) if detail else None)
            )

    def set_scope(self, connection_id: int, scope: str) -> None:
        with self.hub.session() as s:
            s.execute(
                update(Connection).where(Connection.id == connection_id).values(remote_scope=scope)
            )


class ConnectionTokenStore:
    """The stored OAuth pair of one connection, written by compare-and-swap: the sealed
    credentials and their version move together in one UPDATE that only matches the version
    the writer read, so two processes refreshing at once cannot overwrite each other, and a
    crash leaves either the old pair or the new one, never half."""

    def __init__(self, connections: Connections, connection_id: int) -> None:
        self.connections = connections
        self.connection_id = connection_id

    async def load(self) -> StoredTokens | None:
        creds, version = self.connections.credentials(self.connection_id)
        if "access_token" not in creds:
            return None
        return StoredTokens(tokens_from(creds), version)

    async def save(self, tokens: OAuthTokens, version: int) -> int | None:
        creds, current = self.connections.credentials(self.connection_id)
        if current != version:
            return None
        creds.update(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
        )
        creds.update(dict(tokens.extra))
        sealed = self.connections.box.seal(creds)
        return self.connections.swap_credentials(self.connection_id, version, sealed)


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


@dataclass(frozen=True)
class Sealed:
    id: int
    name: str
    credentials: str
    version: int


def sealed_credentials(hub: Hub) -> list[Sealed]:
    """Every connection that has sealed credentials, in every workspace (one key seals all)."""
    with hub.session() as s:
        rows = s.execute(
            select(
                Connection.id,
                Connection.name,
                Connection.credentials,
                Connection.credentials_version,
            )
            .where(Connection.credentials.is_not(None))
            .order_by(Connection.id)
        )
        return [Sealed(r.id, r.name, r.credentials, r.credentials_version) for r in rows]
