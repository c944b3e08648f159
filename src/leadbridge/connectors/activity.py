"""An activity as the engine hands it to a connector: canonical, with the remote ids of the
records it goes on already resolved. Each connector that takes activities says which of its
objects a kind lands in (`activity_object`) and writes them (`write_activities`), idempotent
by `key`: the same key sent twice (a run killed after the CRM's answer, before our commit)
hands back the record the first send made, never a second one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from leadbridge.connectors.base import WriteResult


@dataclass(frozen=True)
class ActivityOut:
    key: str  # leadbridge's id of the activity ("lb-<workspace>-<id>"), unique in the CRM
    kind: str  # email | call | meeting | note | task | summary
    title: str
    occurred_at: datetime
    body: str | None = None
    person: tuple[str, str] | None = None  # (person stream, remote id)
    company: str | None = None  # the company stream's remote id
    deal: str | None = None
    owner: str | None = None  # a remote user id
    direction: str | None = None  # outgoing | incoming
    from_email: str | None = None
    to_emails: tuple[str, ...] = ()
    cc_emails: tuple[str, ...] = ()
    sequence_subtype: bool = False  # a sequence send written as its own subtype/type
    call_outcome: str | None = None
    call_duration_seconds: int | None = None
    recording_url: str | None = None
    meeting_start: datetime | None = None
    meeting_end: datetime | None = None
    location: str | None = None
    attendees: tuple[str, ...] = ()
    due_at: datetime | None = None
    task_status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ActivityWriter(Protocol):
    """What a connector that takes activities adds to the Connector protocol."""

    def activity_object(self, kind: str) -> str:
        """The remote object a kind lands in ("Task", "Event", "emails" …)."""
        ...

    def activity_batch(self) -> int:
        """Activities per create call (Salesforce collections: 200; HubSpot batches: 100)."""
        ...

    async def activity_setup(self, sequence_subtype: bool = False) -> str | None:
        """What the CRM lacks to take activities idempotently (the key field), or to write
        sequence sends as their own subtype when asked; None when nothing."""
        ...

    async def write_activities(self, items: list[tuple[Any, ActivityOut]]) -> list[WriteResult]:
        """(ref, activity) in, one WriteResult per input out, in input order."""
        ...


def body_lines(a: ActivityOut) -> str:
    """The activity's details as text, for CRMs with one description field."""
    lines = []
    if a.kind == "email":
        lines += [f"From: {a.from_email}"] if a.from_email else []
        lines += [f"To: {', '.join(a.to_emails)}"] if a.to_emails else []
        lines += [f"Cc: {', '.join(a.cc_emails)}"] if a.cc_emails else []
    if a.kind == "call":
        lines += [f"Outcome: {a.call_outcome}"] if a.call_outcome else []
        lines += [f"Recording: {a.recording_url}"] if a.recording_url else []
    if a.kind == "meeting" and a.attendees:
        lines.append(f"Attendees: {', '.join(a.attendees)}")
    if a.body:
        lines += ["", a.body] if lines else [a.body]
    return "\n".join(lines)
