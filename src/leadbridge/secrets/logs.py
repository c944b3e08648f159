"""Log records of leadbridge never carry a secret.

A filter on the `leadbridge` logger sees only records logged on that logger itself, not those
of its children (`leadbridge.runner`, …) propagating up: that is how the logging module works.
So the masking runs where every record is made: a wrapper of the log-record factory rewrites
each record of a `leadbridge*` logger once (message, arguments and traceback) before any
handler or filter sees it. `RedactingFilter` does the same for a handler that also receives
other loggers' records (the one `leadbridge serve` installs).
"""

from __future__ import annotations

import logging
from typing import Any

from leadbridge.secrets.values import redact_text

_formatter = logging.Formatter()
_installed = False


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_leadbridge_scrubbed", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it for logging's own error report
        return record
    record.msg, record.args = redact_text(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    setattr(record, "_leadbridge_scrubbed", True)  # noqa: B010 — LogRecord has no such field
    return record


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


def _ours(name: str | None) -> bool:
    # logging.makeLogRecord (structlog's formatter uses it) makes a record with no name first.
    return isinstance(name, str) and (name == "leadbridge" or name.startswith("leadbridge."))


def install_log_redaction() -> None:
    """Idempotent; called when the leadbridge package is imported."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        return scrub(record) if _ours(record.name) else record

    logging.setLogRecordFactory(factory)
    logging.getLogger("leadbridge").addFilter(RedactingFilter())
    _installed = True
