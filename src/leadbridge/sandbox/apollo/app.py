"""The Apollo sandbox's FastAPI app: the API under /api/v1 and the old /v1, plus OAuth pages.

After a handler ran, the middleware adds the rate headers, applies the after-commit knobs
(`latency_after_commit`, a 500 after the change landed, a garbage body) and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from leadbridge.sandbox.apollo.accounts_api import accounts_router
from leadbridge.sandbox.apollo.errors import Reply
from leadbridge.sandbox.apollo.guard import Guard
from leadbridge.sandbox.apollo.oauth_api import add_authorize_pages, oauth_router
from leadbridge.sandbox.apollo.state import ApolloState
from leadbridge.sandbox.apollo.team_api import team_router

GARBAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def build_app(state: ApolloState) -> FastAPI:
    app = FastAPI(title="Apollo sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    knobs = state.knobs
    guard = Guard(state)

    @app.exception_handler(Reply)
    async def _reply(_: Request, exc: Reply) -> Response:
        return exc.response

    @app.middleware("http")
    async def _after(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        headers = getattr(request.state, "rate_headers", None)
        if headers is None:  # not past authentication: no rate headers, no after-commit faults
            return response
        if knobs.latency_after_commit:
            await asyncio.sleep(knobs.latency_after_commit)
        failure = getattr(request.state, "fail_after_commit", None)
        if failure and response.status_code < 300:
            response = JSONResponse({"error": failure}, 500)  # the change landed anyway
        elif response.status_code < 300 and knobs.take_garbage():
            response = HTMLResponse(GARBAGE, 200)
        response.headers.update(headers)
        return response

    api = APIRouter()
    api.include_router(team_router(state, guard))
    api.include_router(accounts_router(state, guard))
    api.include_router(oauth_router(state))
    app.include_router(api, prefix="/api/v1")
    app.include_router(api, prefix="/v1")  # older clients still call api.apollo.io/v1/...
    add_authorize_pages(app, state)
    return app
