"""What every connector hands the engine: plain records, per-record write results, cursors.

The engine never branches on which system it talks to; a connector never decides policy.
A batch write returns one WriteResult per input, in input order: one bad record fails alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from leadbridge.connectors.catalog import Catalog
from leadbridge.connectors.errors import ConnectorError
from leadbridge.connectors.http import CallCounter
from leadbridge.policy.schema import ObjectSchema

EventKind = Literal["deleted", "merged", "converted", "restored"]
Op = Literal["create", "update", "upsert", "delete"]


@dataclass(frozen=True)
class RemoteEvent:
    """What happened to a record beyond its values, as data the engine applies by one set of
    rules: deleted; merged into a survivor; converted into other records (a lead into a
    contact and an account); restored. `into` names the records it lives on as."""

    kind: EventKind
    into: tuple[tuple[str, str], ...] = ()  # (stream, remote id)

    def target(self, stream: str) -> str | None:
        return next((rid for name, rid in self.into if name == stream), None)


@dataclass(frozen=True)
class RemoteRecord:
    object: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)
    modified_at: datetime | None = None
    deleted: bool = False
    event: RemoteEvent | None = None


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


@dataclass(frozen=True)
class Page:
    """One page of an incremental read, and the cursor to commit with it."""

    records: list[RemoteRecord]
    cursor: Cursor


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


class Connector(Protocol):
    """The seam the engine stands on: every read and write of a system goes through these."""

    catalog: Catalog

    @property
    def calls(self) -> CallCounter:
        """API calls spent through this connector (every attempt counts)."""
        ...

    async def write(
        self,
        stream: str,
        op: Op,
        records: Sequence[tuple[Any, dict[str, Any]]],
        *,
        ledger: JobLedger | None = None,
    ) -> list[WriteResult]:
        """(ref, values) in, one WriteResult per input out, in input order; one bad record
        fails alone. Updates and deletes carry the remote id as "Id"."""
        ...

    def read_changed(
        self, stream: str, fields: Sequence[str], cursor: Cursor, cap: datetime
    ) -> AsyncIterator[Page]:
        """Records changed after `cursor` (with an overlap) up to `cap`, in cursor order, each
        page with the cursor to commit with it; a system without one reads everything."""
        ...

    async def read_ids(
        self, stream: str, fields: Sequence[str], ids: Sequence[str]
    ) -> list[RemoteRecord]:
        """The records with these ids as they are now (missing ones are left out)."""
        ...

    async def read_deleted(self, stream: str, since: datetime) -> list[RemoteRecord]:
        """Records deleted (or merged away) since `since`, as deleted records with their event
        (Salesforce: queryAll on IsDeleted with MasterRecordId; HubSpot: the archived)."""
        ...

    async def schema(self, stream: str) -> ObjectSchema:
        """The stream's fields (types, writability, picklists), for the lint."""
        ...

    async def job_outcome(
        self, job: RemoteJob, records: Sequence[tuple[Any, dict[str, Any]]], *, wait: float
    ) -> JobOutcome:
        """A batch job a ledger recorded, looked at again (see JobLedger)."""
        ...

    async def aclose(self) -> None: ...


class CampaignWriter(Protocol):
    """What a connector that can add people to a campaign adds to the Connector protocol
    (Salesforce: CampaignMember records; HubSpot: a static list's memberships)."""

    campaign_word: str  # what the CRM calls one ("campaign", "list"), for messages

    async def add_to_campaign(
        self, campaign: str, people: Sequence[tuple[Any, str, str]]
    ) -> list[WriteResult]:
        """(ref, person stream, remote id) in, one WriteResult per input out, in input order;
        one already a member is a success with `created` False (nothing written twice). A
        campaign that does not exist raises PermanentError (code CAMPAIGN_NOT_FOUND), one the
        user may not add members to AccessDeniedError: both before anything is written."""
        ...
