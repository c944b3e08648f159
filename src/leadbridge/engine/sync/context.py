"""What every run of a sync shares: the connection, its policy, the connector (and through it
the system's catalog), the system's preset, the hub's stores of this remote scope (links,
mirror, user links), the run row, and the sync state (setup window, initial pull).

The engine reads the remote system only through `connector` and names its objects and fields
only through the catalog's streams and roles and the effective field maps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from leadbridge.connectors.base import Connector, RemoteRecord
from leadbridge.connectors.catalog import Catalog, Stream
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.links import LinkStore
from leadbridge.hub.mirror import MirrorStore, Read
from leadbridge.hub.runs import finish_run, start_run
from leadbridge.hub.tables import CrmRecord
from leadbridge.hub.userlinks import UserLinkStore
from leadbridge.policy.crm import CrmSync
from leadbridge.policy.fields import ObjectMap
from leadbridge.policy.preset import Preset


class SyncRefused(Exception):
    """A run or manual action the sync state does not allow now; the message says why."""


@dataclass
class SyncContext:
    hub: Hub
    connections: Connections
    connection: ConnectionInfo
    policy: CrmSync
    connector: Connector
    preset: Preset
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    progress: Callable[[str, int], None] | None = None
    calls_at_start: int = 0

    @property
    def workspace_id(self) -> int:
        return self.hub.workspace_id

    @property
    def catalog(self) -> Catalog:
        return self.connector.catalog

    @property
    def label(self) -> str:
        return self.catalog.label

    @property
    def system(self) -> str:
        return self.catalog.system

    @property
    def scope(self) -> str:
        return self.connection.remote_scope or f"connection-{self.connection.id}"

    @cached_property
    def links(self) -> LinkStore:
        return LinkStore(self.workspace_id, self.system, self.scope)

    @cached_property
    def mirror(self) -> MirrorStore:
        return MirrorStore(self.workspace_id, self.system, self.scope)

    @cached_property
    def users(self) -> UserLinkStore:
        return UserLinkStore(self.workspace_id, self.system, self.scope)

    # --- the system's objects, as the policy maps them -------------------------------------

    def stream(self, name: str) -> Stream:
        return self.catalog.stream(name)

    def people(self) -> list[Stream]:
        """The person streams, the one that wins for one identity first."""
        return self.catalog.of_kind("person")

    def person_names(self) -> list[str]:
        return [s.name for s in self.people()]

    def company(self) -> Stream:
        return self.catalog.first("company")

    def create_people_as(self) -> Stream:
        """The person stream new people are created as: the policy's, else the preset's."""
        section = self.policy.push.create_people_as or self.preset.create_people_as
        if section in self.preset.refused:
            raise SyncRefused(f"create_people_as: {self.preset.refused[section]}")
        stream = self.catalog.by_section(section)
        if stream is None or stream.kind != "person" or not stream.creatable:
            names = ", ".join(s.section for s in self.people() if s.creatable)
            raise SyncRefused(
                f"create_people_as: {section!r} is not a {self.label} person object ({names})"
            )
        return stream

    def object_map(self, stream: Stream | str) -> ObjectMap:
        """The field map of a stream: the policy's section, else the preset's default."""
        s = self.stream(stream) if isinstance(stream, str) else stream
        return self.policy.objects.get(s.section) or self.preset.object_map(s.section)

    def maps(self) -> list[tuple[Stream, ObjectMap]]:
        return [(s, self.object_map(s)) for s in self.catalog.streams if s.kind != "user"]

    def hub_object(self, stream: Stream | str) -> str:
        s = self.stream(stream) if isinstance(stream, str) else stream
        return s.kind

    # --- the mirror in this system's terms ----------------------------------------------------

    def keys(self, obj: str, fields: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        return self.stream(obj).match_keys(fields)

    def stamps(self, obj: str) -> frozenset[str]:
        return self.stream(obj).stamps

    def store_mirror(
        self, s: Session, records: Sequence[RemoteRecord], run_id: int | None, *, read: bool = True
    ) -> list[CrmRecord]:
        reads = [
            Read(
                r.object,
                r.id,
                r.fields,
                r.modified_at,
                r.deleted,
                r.event.kind if r.event else None,
                [list(pair) for pair in r.event.into] if r.event else None,
            )
            for r in records
        ]
        return self.mirror.store(s, reads, run_id, keys=self.keys, stamps=self.stamps, read=read)

    # --- sync state (kept in the connection's settings) -------------------------------------

    def state(self) -> dict[str, Any]:
        fresh = self.connections.get(self.connection.name)
        return dict(fresh.settings.get("crm") or {})

    def save_state(self, **changes: Any) -> None:
        fresh = self.connections.get(self.connection.name)
        settings = dict(fresh.settings)
        settings["crm"] = {**dict(settings.get("crm") or {}), **changes}
        self.connections.update_settings(self.connection.id, settings)
        self.connection = self.connections.get(self.connection.name)

    def setup_until(self) -> datetime | None:
        value = self.state().get("setup_until")
        return datetime.fromisoformat(value) if value else None

    def in_setup_window(self) -> bool:
        until = self.setup_until()
        return until is not None and self.clock() < until

    def read_through(self) -> datetime | None:
        """Up to when the last complete pull read the CRM (its cap)."""
        value = self.state().get("read_through")
        return datetime.fromisoformat(value) if value else None

    def initial_pull_done(self) -> bool:
        return self.state().get("initial_pull") == "done"

    # --- runs ---------------------------------------------------------------------------------

    def start_run(self, job: str) -> int:
        self.calls_at_start = self.connector.calls.total
        return start_run(self.hub, job, self.connection.id)

    def finish_run(
        self, run_id: int, status: str, counts: dict[str, int], message: str | None = None
    ) -> None:
        calls = self.connector.calls.total - self.calls_at_start
        finish_run(self.hub, run_id, status, counts, message=message, api_calls=calls)
