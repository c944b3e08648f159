"""What every connector hands the engine: plain records, per-record write results, cursors.

The engine never branches on which system it talks to; a connector never decides policy.
A batch write returns one WriteResult per input, in input order: one bad record fails alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

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


@dataclass(frozen=True)
class RemoteJob:
    """A server-side batch job (Salesforce Bulk 2.0 ingest) that outlives the call that made it:
    once its data is handed over it runs to the end whether or not we are there to read it."""

    id: str
    object: str
    operation: str
    meta: dict[str, Any] = field(default_factory=dict)  # what reading its results back takes


class JobLedger(Protocol):
    """Where a connector records a batch job before its data can be processed, so that a run
    that dies (or gives up waiting) leaves the job for the next run: no record of it is sent
    again until the job's results are read, and an unfinished upload is aborted."""

    async def opened(self, job: RemoteJob, refs: Sequence[Any]) -> None: ...


@dataclass(frozen=True)
class JobOutcome:
    """A recorded job looked at again: still running (after the wait), or finished with one
    result per record given, in input order (NotProcessedError for those it never wrote)."""

    state: str
    finished: bool
    results: list[WriteResult] = field(default_factory=list)
