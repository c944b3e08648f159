"""One failure policy for every sync: how a failed record is marked, logged and retried.

- Permanent (the record is wrong: validation, picklist, an owner the system refuses): the link
  keeps the hash of what failed; the same data is not sent again until it changes or someone
  runs `leadbridge errors retry`. Logged with the field and a fix hint.
- Transient (5xx, timeouts, locks, garbage): retried on later runs, with backoff (1, 2, 4 …
  minutes, ±20 % jitter, at most 6 h) where the sync asks for it, up to `max_attempts`.

Every failure is logged; the same failure of a record again bumps its one entry (a count and
a last-seen time), so the log holds one entry per problem however often it recurs.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from leadbridge.connectors.errors import ConnectorError, PermanentError, error_class_name
from leadbridge.hub.store import log_error
from leadbridge.hub.tables import RecordLink, utcnow

HoldAction = Literal["skip", "wait"]


def payload_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class RetryRules:
    max_attempts: int = 8
    backoff: bool = True  # wait between transient retries (else: retry on the next run)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, capped at 6 hours, with ±20 % jitter so retries do not stampede."""
    minutes = min(360.0, float(2 ** max(0, attempts - 1)))
    return timedelta(minutes=minutes * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class Failed:
    """Where a failure goes in the error log."""

    job: str
    workspace_id: int
    connection_id: int | None
    label: str  # the record's remote object, as a person reads it ("Contact")


def record_failure(
    s: Session,
    where: Failed,
    run_id: int,
    link: RecordLink,
    values: dict[str, Any],
    exc: ConnectorError,
    rules: RetryRules,
) -> None:
    permanent = isinstance(exc, PermanentError)
    link.remote_job_id = None
    link.status = "error"
    link.error_class = error_class_name(exc)
    link.last_error = str(exc)
    link.attempts = (link.attempts or 0) + 1
    link.last_run_id = run_id
    if permanent:
        link.failed_hash = payload_hash(values)
        link.next_attempt_at = None
        gave_up = True
        hint = getattr(exc, "hint", None)
    else:
        link.next_attempt_at = utcnow() + retry_delay(link.attempts)
        gave_up = link.attempts >= rules.max_attempts
        hint = (
            f"retried automatically (attempt {link.attempts} of {rules.max_attempts})"
            if not gave_up
            else "gave up retrying; `leadbridge errors retry` after the cause is fixed"
        )
    log_error(
        s,
        workspace_id=where.workspace_id,
        job=where.job,
        error_class=link.error_class,
        message=_labelled(where.label, exc.message),
        run_id=run_id,
        connection_id=where.connection_id,
        hub_object=link.hub_object,
        hub_id=link.hub_id,
        remote_id=link.remote_id,
        field=getattr(exc, "field", None),
        hint=hint,
    )


def _labelled(label: str, message: str) -> str:
    """The message with the record's object in front, once ("Lead.LeadSource: …" has it)."""
    return message if message.startswith(f"{label}.") else f"{label}: {message}"


class FailedLink(Protocol):
    """What the hold rules read of a link (a RecordLink, or the lead push's LinkState)."""

    @property
    def status(self) -> str: ...
    @property
    def error_class(self) -> str | None: ...
    @property
    def failed_hash(self) -> str | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def next_attempt_at(self) -> datetime | None: ...


def hold(
    link: FailedLink | None, values: dict[str, Any], rules: RetryRules, now: datetime
) -> tuple[HoldAction, str, str] | None:
    """Whether a record that failed before is held back now: (action, reason, reason key), or
    None when it may be sent."""
    if link is None or link.status != "error":
        return None
    if link.error_class == "permanent":
        if link.failed_hash == payload_hash(values):
            return (
                "skip",
                f"failed before with the same data ({link.last_error}); fix it, or "
                "`leadbridge errors retry`",
                "failed (permanent)",
            )
        return None  # the data changed since it failed: worth one more try
    if link.attempts >= rules.max_attempts:
        return (
            "skip",
            f"gave up after {link.attempts} attempts: {link.last_error}; "
            "`leadbridge errors retry` to try again",
            "failed (gave up)",
        )
    if rules.backoff and link.next_attempt_at is not None and link.next_attempt_at > now:
        return (
            "wait",
            f"retry {link.attempts + 1} of {rules.max_attempts} after "
            f"{link.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC (last error: {link.last_error})",
            "retry backoff",
        )
    return None
