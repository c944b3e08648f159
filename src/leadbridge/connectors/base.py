"""What every connector hands the engine: plain records, per-record write results, cursors.

The engine never branches on which system it talks to; a connector never decides policy.
A batch write returns one WriteResult per input, in input order: one bad record fails alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadbridge.connectors.errors import ConnectorError


@dataclass(frozen=True)
class RemoteRecord:
    object: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)
    modified_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True)
class WriteResult:
    """Outcome of one record of a batch write. `ref` is the caller's key for the input."""

    ref: Any
    remote_id: str | None = None
    created: bool = False
    error: ConnectorError | None = None
    # The remote record as the remote answered it (e.g. an adopted record left unmodified).
    record: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, order=True)
class Cursor:
    """A compound (modified-at, id) position; records strictly after it are new."""

    modified_at: datetime | None = None
    last_id: str | None = None

    def after(self, modified_at: datetime, record_id: str) -> bool:
        if self.modified_at is None:
            return True
        return (modified_at, record_id) > (self.modified_at, self.last_id or "")
