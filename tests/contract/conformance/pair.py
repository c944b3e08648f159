"""What the conformance suite knows of one connector-plus-sandbox pair: a way to open the
connector against the sandbox served on a real socket, a "remote" handle to seed the sandbox,
look at what it holds and pull its fault knobs, the streams the suite writes (`Subject`), and
what the system cannot do (`not_applicable`: feature -> why), which a test says instead of
running. Each system's pair lives in its own module; the tests are written once, here-blind.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from leadbridge.connectors.base import Connector, Cursor, Page, RemoteRecord, WriteResult
from leadbridge.connectors.catalog import Catalog, Stream
from leadbridge.connectors.errors import ConnectorError
from leadbridge.connectors.http import Budget, RetryPolicy
from leadbridge.policy.preset import Preset

# Short waits so that a test of retries takes milliseconds; a server's wait above 2 s ends the
# call with RateLimitedError (what the engine defers on), below it is waited out.
FAST = RetryPolicy(max_attempts=4, base_delay=0.005, max_delay=0.01, max_rate_limit_wait=2.0)
OVERLAP = timedelta(seconds=5)

# Features a pair may declare not applicable (with the reason), as the tests name them.
FEATURES = (
    "cursor",  # read_changed by a compound cursor (ties, late commits, catch-up)
    "oauth",  # an access token refreshed once on 401
    "budget",  # a daily API budget the system reports, and our ceiling on it
    "converted",
    "merged",
    "deleted",
    "refused_remotely",
    "restricted",
    "read_only",
    "required",
    "campaigns",  # people added to a campaign (CampaignWriter)
)


class Clock:
    """The sandbox's clock: real time until a test freezes it, then moved by hand (many
    records in one second, a quiet hour)."""

    def __init__(self) -> None:
        self.frozen: float | None = None

    def __call__(self) -> float:
        return self.frozen if self.frozen is not None else time.time()

    def freeze(self) -> None:
        # A quarter into a whole second still to come: after everything made in real time so
        # far, and far from a second's edge (one system stamps whole seconds).
        self.frozen = float(int(time.time())) + 1.25

    def advance(self, seconds: float) -> None:
        assert self.frozen is not None, "freeze the clock first"
        self.frozen += seconds

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)


class Dice:
    """A sandbox's fault dice, loaded: `fail` draws that fault, then never again."""

    def __init__(self, fail: int) -> None:
        self.left = fail

    def random(self) -> float:
        if self.left > 0:
            self.left -= 1
            return 0.0
        return 0.999


@dataclass
class Subject:
    """A stream the suite writes, and how to make its values."""

    stream: str
    make: Callable[[int], dict[str, Any]]  # valid create values, unique per number
    change: Callable[[int], dict[str, Any]]  # values an update sets
    # Values that pass our checks and the remote refuses (the field it names), or why not.
    refused_remotely: tuple[Callable[[int], dict[str, Any]], str | None] | str
    # kind (restricted / read_only / required) -> values the schema refuses, or why not.
    refused_locally: dict[str, dict[str, Any] | str] = field(default_factory=dict)


@dataclass
class OAuthCase:
    """A connector on an OAuth token pair, and the refreshes it tried at the server."""

    connector: Connector
    attempts: list[bool] = field(default_factory=list)  # one per refresh tried: did it work


class Pair(ABC):
    system: str
    catalog: Catalog
    preset: Preset
    subjects: tuple[Subject, ...]
    not_applicable: ClassVar[dict[str, str]]
    clock: Clock

    def __init__(self) -> None:
        self.clock = Clock()
        self._opened: list[Connector] = []

    @abstractmethod
    @contextmanager
    def serve(self) -> Iterator[Pair]:
        """The sandbox on a loopback socket while the context lasts."""

    # --- the connector ---------------------------------------------------------------------------

    def connect(self, *, budget: Budget | None = None) -> Connector:
        """A fresh connector with good credentials (closed when the test ends)."""
        connector = self._connect(budget or Budget(ceiling=1.0))
        self._opened.append(connector)
        return connector

    def track(self, connector: Connector) -> Connector:
        self._opened.append(connector)
        return connector

    async def aclose(self) -> None:
        for connector in self._opened:
            await connector.aclose()

    @abstractmethod
    def _connect(self, budget: Budget) -> Connector: ...

    def subject(self, stream: str) -> Subject:
        return next(s for s in self.subjects if s.stream == stream)

    def na(self, feature: str) -> None:
        """Say the feature is not applicable to this system, with the reason, and stop."""
        assert feature in FEATURES, feature
        reason = self.not_applicable.get(feature)
        if reason is not None:
            pytest.skip(f"not applicable to {self.catalog.label}: {reason}")

    # --- what the remote holds ---------------------------------------------------------------

    @abstractmethod
    def seed(self, stream: str, values: dict[str, Any]) -> str:
        """A record made in the system by one of its users (not through the connector)."""

    @abstractmethod
    def edit(self, stream: str, remote_id: str, values: dict[str, Any]) -> None: ...

    @abstractmethod
    def held(self, stream: str, remote_id: str) -> dict[str, Any] | None:
        """The live record as the system holds it, by the connector's field names."""

    @abstractmethod
    def count(self, stream: str) -> int:
        """Live records of the stream."""

    @abstractmethod
    def missing_id(self, stream: str) -> str:
        """A well-formed id no record of the stream has."""

    @abstractmethod
    def api_calls(self) -> int:
        """API calls the sandbox received (every attempt, admin surface aside)."""

    # --- faults ------------------------------------------------------------------------------

    @abstractmethod
    @contextmanager
    def failing(self) -> Iterator[None]:
        """Inside: every call answers a 5xx before it takes effect."""

    @abstractmethod
    @contextmanager
    def answers_lost(self) -> Iterator[None]:
        """Inside: the first write lands, and its answer is lost (a 5xx after the commit)."""

    @abstractmethod
    def rate_limit(self, count: int, *, long: bool) -> float | None:
        """The next `count` calls are refused for the rate; `long`: for longer than the retry
        policy waits. The wait the server asks for, when it names one."""

    @abstractmethod
    def garbage(self, count: int) -> None:
        """The next `count` successful answers come back as an HTML page."""

    @abstractmethod
    def denied(self) -> Connector:
        """A connector whose credentials work but lack a scope or permission."""

    @abstractmethod
    def bad_credentials(self) -> Connector:
        """A connector whose credentials the system does not know."""

    async def oauth(self) -> OAuthCase:
        """A connector on an OAuth token pair the system just granted."""
        raise NotImplementedError

    def expire_access_tokens(self) -> None:
        raise NotImplementedError

    def revoke_refresh_tokens(self) -> None:
        raise NotImplementedError

    # --- cursors: late commits ---------------------------------------------------------------

    def begin_late(self, stream: str, values: dict[str, Any]) -> Any:
        """Start a record stamped now that a read made now does not see yet."""
        raise NotImplementedError

    def finish_late(self, late: Any) -> str:
        """Let the late record become visible; its id."""
        raise NotImplementedError

    def small_pages(self) -> None:
        """The smallest pages the system serves, so that a few hundred records take several
        (the connectors ask for pages of 100 where the system lets them choose)."""
        return None

    # --- budget ------------------------------------------------------------------------------

    def set_daily_limit(self, limit: int) -> None:
        raise NotImplementedError

    def daily_used(self) -> int:
        raise NotImplementedError

    # --- events --------------------------------------------------------------------------------

    # kind -> (stream, the reads that carry it as the connector documents them)
    event_reads: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {}

    def sample(self, stream: str, number: int) -> dict[str, Any]:
        """Values a record of the stream can be seeded with (an event's subject)."""
        return self.subject(stream).make(number)

    def convert(self, lead_id: str) -> dict[str, str]:
        """Convert a person into others: {stream: new id}."""
        raise NotImplementedError

    def merge(self, stream: str, survivor: str, loser: str) -> str:
        """Merge two records as a user would; the surviving record's id (maybe a new one)."""
        raise NotImplementedError

    def delete(self, stream: str, remote_id: str) -> None:
        raise NotImplementedError

    # --- campaigns -----------------------------------------------------------------------------

    campaign_person_stream: ClassVar[str] = ""  # the person stream members are added from

    def make_campaign(self, name: str) -> str:
        """A campaign (static list) made in the system by one of its users; its id."""
        raise NotImplementedError

    def campaign_members(self, campaign_id: str) -> set[str]:
        """The person ids the campaign holds."""
        raise NotImplementedError

    def deny_campaign_members(self) -> None:
        """The connector's user may no longer add members (a permission, a scope)."""
        raise NotImplementedError


async def collect(pages: AsyncIterator[Page]) -> tuple[list[RemoteRecord], Cursor | None, int]:
    """Every record of a read, the last cursor it gave, and how many pages it took."""
    records: list[RemoteRecord] = []
    cursor: Cursor | None = None
    count = 0
    async for page in pages:
        records.extend(page.records)
        cursor = page.cursor
        count += 1
    return records, cursor, count


async def write_errors(call: Awaitable[list[WriteResult]]) -> list[ConnectorError]:
    """The errors a write ended with: the one it raised (a whole call failed), else those of
    its results. A connector may say either; the class is what counts."""
    try:
        results = await call
    except ConnectorError as exc:
        return [exc]
    return [r.error for r in results if r.error is not None]


def fields_of(stream: Stream, values: dict[str, Any]) -> list[str]:
    return stream.fields_to_read(list(values))
