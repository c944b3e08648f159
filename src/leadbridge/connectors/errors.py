"""The connector exception tree: every remote failure is one of these, typed by what to do.

    ConnectorError
    ├── TransientError        retry with backoff and jitter (5xx, timeouts, lock contention)
    │   └── RateLimitedError  wait for the server's own signal (retry_after), then retry
    ├── AuthError             refresh once; if that fails, pause the connection, ask to reconnect
    ├── AccessDeniedError     the credentials lack a scope/plan: connection-level, not retried
    ├── BudgetExhaustedError  our own API-budget ceiling: stop new work, resume next window
    └── PermanentError        this record is wrong (validation, picklist, bad id): error log,
                              never retried blindly; carries the field and a fix hint
    ProtocolError             the server answered something we cannot parse (garbage):
                              treated as transient, since a retry may get a sane answer
    NotProcessedError         (a TransientError) the remote never applied this record (an
                              aborted or failed batch job): nothing was written, send it again

The engine decides by type alone, never by parsing messages.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        prefix = f"HTTP {self.status}: " if self.status else ""
        code = f" [{self.code}]" if self.code else ""
        return f"{prefix}{self.message}{code}"


class TransientError(ConnectorError):
    retryable = True


class RateLimitedError(TransientError):
    """The server said slow down; `retry_after` (seconds) is how long it asked us to wait."""


class ProtocolError(TransientError):
    """A body we cannot parse where JSON was promised."""


class NotProcessedError(TransientError):
    """A record a batch job never applied (the job was aborted, or failed before its row)."""


class AuthError(ConnectorError):
    """Credentials rejected (expired, revoked). Refresh once, then pause the connection."""


class AccessDeniedError(ConnectorError):
    """Authenticated, but not allowed (missing scope, plan, permission)."""


class BudgetExhaustedError(ConnectorError):
    """Our configured share of the API budget is spent; no new work until it frees up."""


class PermanentError(ConnectorError):
    """This request (or record) will fail the same way every time until someone fixes it."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.field = field
        self.hint = hint


def error_class_name(exc: BaseException) -> str:
    """The short class label stored in the error log: transient, rate_limited, auth, ..."""
    for cls, label in (
        (RateLimitedError, "rate_limited"),
        (ProtocolError, "protocol"),
        (NotProcessedError, "not_processed"),
        (TransientError, "transient"),
        (AuthError, "auth"),
        (AccessDeniedError, "access_denied"),
        (BudgetExhaustedError, "budget"),
        (PermanentError, "permanent"),
    ):
        if isinstance(exc, cls):
            return label
    return "internal"
