"""The HubSpot sandbox's FastAPI app: the API routers, OAuth, the admin surface and holds.

The middleware gives every answer its `X-HubSpot-Correlation-Id` (the same id as the error
body's `correlationId`), adds the rate-limit headers once the guard counted the call, and turns
a write that landed into a 502 when the after-commit fault knob says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response

from leadbridge.sandbox.holds import Holds, add_holds
from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.account_api import account_router
from leadbridge.sandbox.hubspot.admin import Console, admin_router
from leadbridge.sandbox.hubspot.associations_api import associations_router
from leadbridge.sandbox.hubspot.batch_api import batch_router
from leadbridge.sandbox.hubspot.errors import JSON
from leadbridge.sandbox.hubspot.guard import Context, Guard
from leadbridge.sandbox.hubspot.lists_api import lists_router
from leadbridge.sandbox.hubspot.oauth_api import oauth_router
from leadbridge.sandbox.hubspot.objects_api import objects_router
from leadbridge.sandbox.hubspot.owners_api import owners_router
from leadbridge.sandbox.hubspot.properties_api import properties_router
from leadbridge.sandbox.hubspot.search import search_router
from leadbridge.sandbox.hubspot.webhooks import Webhooks

GARBAGE = "<html><body><h1>502 Bad Gateway</h1><p>cloudflare</p></body></html>"


def build_app(ctx: Context, console: Console, webhooks: Webhooks, holds: Holds) -> FastAPI:
    app = FastAPI(
        title="HubSpot sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        default_response_class=errors.JSON,
    )
    guard = Guard(ctx)

    @app.exception_handler(errors.Reply)
    async def _reply(request: Request, exc: errors.Reply) -> Response:
        correlation = getattr(request.state, "correlation_id", None) or str(uuid.uuid4())
        response = exc.response(correlation)
        if not exc.rate_headers:
            request.state.rate_headers = None
        return response

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        correlation = getattr(request.state, "correlation_id", None) or str(uuid.uuid4())
        reply = errors.validation(f"Invalid request: {exc.errors()[0].get('msg', 'bad input')}")
        return reply.response(correlation)

    @app.middleware("http")
    async def _around(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation = str(uuid.uuid4())
        request.state.correlation_id = correlation
        request.state.rate_headers = None
        try:
            response = await call_next(request)
        except ValueError as exc:  # a malformed number in a query parameter or body
            response = errors.validation(str(exc)).response(correlation)
        headers = getattr(request.state, "rate_headers", None)
        landed = headers is not None and response.status_code < 300
        if landed and getattr(request.state, "fail_after_commit", False):
            response = errors.server_error().response(
                correlation
            )  # it landed; the caller hears 502
        elif landed and ctx.knobs.take_garbage():
            response = HTMLResponse(GARBAGE, 200)  # it landed; the caller cannot read the answer
        if headers:
            response.headers.update(headers)
        response.headers.setdefault("x-hubspot-correlation-id", correlation)
        return response

    app.include_router(batch_router(ctx, guard))
    app.include_router(search_router(ctx, guard))
    app.include_router(objects_router(ctx, guard))
    app.include_router(associations_router(ctx, guard))
    app.include_router(properties_router(ctx, guard))
    app.include_router(owners_router(ctx, guard))
    app.include_router(lists_router(ctx, guard))
    app.include_router(account_router(ctx, guard))
    app.include_router(oauth_router(ctx))
    app.include_router(admin_router(ctx, console, webhooks))
    add_holds(app, holds, lambda: JSON({"status": "error", "message": "dropped"}, 502))
    return app
