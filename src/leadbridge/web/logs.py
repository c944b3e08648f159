"""Structured logs (structlog) for `leadbridge serve`: one line per request and every `leadbridge`
log record (the scheduler's progress too), as text or as JSON (`--log-json`), with every stored
secret masked by value (secrets.redact) in the message and in every field."""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbridge.secrets import redact, redact_text

access = logging.getLogger("leadbridge.web.access")


def _mask(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    fields = {k: v for k, v in event.items() if not str(k).startswith("_leadbridge")}
    masked: MutableMapping[str, Any] = redact(fields)
    return masked


class MaskedHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """A handler whose own failure prints one masked line, not logging's default dump of the
    record's raw message and arguments (which may hold what the masking would have hidden)."""

    def handleError(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(
                redact_text(f"logging failed for a {record.levelname} record of {record.name}\n")
            )
        except Exception:  # nothing more can be done for this line
            pass


def configure_logging(*, json: bool, level: int = logging.INFO) -> logging.Handler:
    """Route structlog and the stdlib `leadbridge` loggers through one masked renderer on
    stderr; returns the handler (to remove when serve ends)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        structlog.processors.format_exc_info,
        _mask,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = MaskedHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    logger = logging.getLogger("leadbridge")
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


class RequestLog:
    """One log line per request: method, path (never the query: it may carry an OAuth code),
    status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            access.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
