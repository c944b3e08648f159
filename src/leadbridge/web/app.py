"""The web app: dashboard pages, the REST API under /api/v1 (OpenAPI at /api/v1/openapi.json),
`/metrics` and `/healthz`, served by `leadbridge serve` beside the scheduler.

Every JSON answer goes through `redact` on its way out (RedactedJSONResponse) and every page
value through the templates' masking: stored messages may quote what an API echoed, and nothing
this process holds as a secret may leave it. Bad input is a 4xx with a one-line reason, never a
500; an unexpected failure is logged (masked) and answered with a generic 500 body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadbridge.connectors.errors import ConnectorError
from leadbridge.engine.sync.context import SyncRefused
from leadbridge.engine.sync.undo import UndoRefused
from leadbridge.hub.connections import ConnectionNotFound
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.secrets import redact, redact_text
from leadbridge.web import (
    api_records,
    api_sync,
    pages_connect,
    pages_main,
    pages_policy,
    pages_records,
)
from leadbridge.web.api_records import ApiProblem
from leadbridge.web.logs import RequestLog
from leadbridge.web.metrics import registry_for
from leadbridge.web.operations import OperationRefused
from leadbridge.web.render import STATIC, page
from leadbridge.web.security import (
    ApiAuthError,
    CsrfRefused,
    HostCheck,
    LoginRequired,
    allowed_hosts,
    api_grant,
)
from leadbridge.web.state import WebState
from leadbridge.web.status import health_json

log = logging.getLogger("leadbridge.web")

# Failures a user can act on, answered 409 (a conflict with the hub's state) or 422.
CONFLICTS: tuple[type[Exception], ...] = (LeaseHeld, SyncRefused, UndoRefused)
REFUSALS: tuple[type[Exception], ...] = (OperationRefused, ConnectionNotFound, ConnectorError)


class RedactedJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return super().render(redact(content))


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/metrics", "/healthz", "/health")


def _problem(request: Request, status: int, message: str) -> Response:
    message = redact_text(message)
    if _wants_json(request):
        return RedactedJSONResponse({"error": message}, status_code=status)
    return page(request, "problem.html", status_code=status, message=message)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiAuthError)
    async def auth_failed(request: Request, exc: ApiAuthError) -> Response:
        response = _problem(request, exc.status, exc.message)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(LoginRequired)
    async def login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, exc: CsrfRefused) -> Response:
        return _problem(request, 403, "the form is stale or not ours (CSRF check): reload it")

    @app.exception_handler(ApiProblem)
    async def problem(request: Request, exc: ApiProblem) -> Response:
        return _problem(request, exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {
                "where": ".".join(str(p) for p in e.get("loc", ())),
                "problem": str(e.get("msg", ""))[:300],
            }
            for e in exc.errors()[:20]
        ]
        first = details[0] if details else {"where": "request", "problem": "invalid"}
        message = f"{first['where']}: {first['problem']}"
        if _wants_json(request):
            return RedactedJSONResponse({"error": message, "details": details}, status_code=422)
        return page(request, "problem.html", status_code=422, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _problem(request, exc.status_code, str(exc.detail))

    @app.exception_handler(OperationalError)
    async def hub_down(request: Request, exc: OperationalError) -> Response:
        log.error("the hub database is not usable: %s", redact_text(str(exc.orig)))
        return _problem(request, 503, "the hub database is not reachable; try again shortly")

    for kind in CONFLICTS:
        app.add_exception_handler(kind, _status_handler(409))
    for kind in REFUSALS:
        app.add_exception_handler(kind, _status_handler(422))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.error(
            "request %s %s failed: %s",
            request.method,
            request.url.path,
            redact_text(f"{type(exc).__name__}: {exc}"),
            exc_info=exc,
        )
        return _problem(request, 500, "an internal error; it has been logged")


def _status_handler(status: int) -> Any:
    async def handler(request: Request, exc: Exception) -> Response:
        return _problem(request, status, str(exc) or type(exc).__name__)

    return handler


def create_app(
    state: WebState, *, bind_host: str = "127.0.0.1", extra_hosts: list[str] | None = None
) -> FastAPI:
    app = FastAPI(
        title="leadbridge",
        version="0.1.0",
        default_response_class=RedactedJSONResponse,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.web = state
    state.connections.credential_problems()  # opens every credential: masked from now on
    _install_errors(app)
    for router in (
        api_records.router,
        api_sync.router,
        pages_main.router,
        pages_records.router,
        pages_connect.router,
        pages_policy.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    registry = registry_for(state)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Response:
        """200 when the hub answers, every connection is usable and the scheduler ticks;
        503 with what is wrong otherwise (no secrets, no personal data)."""
        ok, body = health_json(state)
        return RedactedJSONResponse(body, status_code=200 if ok else 503)

    @app.get("/health", include_in_schema=False)
    def health() -> Response:  # the earlier name, kept for scripts that poll it
        return healthz()

    @app.get("/metrics", tags=["operations"])
    def metrics(request: Request) -> Response:
        """Prometheus metrics (a read token: `Authorization: Bearer …`)."""
        api_grant(request)
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestLog)
    app.add_middleware(HostCheck, hosts=allowed_hosts(bind_host, extra_hosts or []))
    return app
