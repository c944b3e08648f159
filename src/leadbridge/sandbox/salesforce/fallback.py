"""Answers for requests no route takes, in Salesforce's shape instead of FastAPI's `{"detail"}`:
an unknown resource is 404 NOT_FOUND, a known one with the wrong method 405 METHOD_NOT_ALLOWED
naming the allowed methods. Under /services/data/vXX.X/ such a request is still a data call: it
needs a session, counts against the limit and carries Sforce-Limit-Info."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from leadbridge.sandbox.salesforce.gate import Gate
from leadbridge.sandbox.salesforce.replies import NOT_FOUND, Reply
from leadbridge.sandbox.salesforce.resources import METHOD_ORDER, method_not_allowed

DATA_PATH = re.compile(r"^/services/data/v[^/]+(/|$)")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods some route takes at this path (asked through each route's own matching)."""
    allowed = []
    for method in METHOD_ORDER:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in app.routes):
            allowed.append(method)
    return allowed


def add_fallbacks(app: FastAPI, gate: Gate) -> None:
    @app.exception_handler(HTTPException)
    async def not_routed(request: Request, exc: HTTPException) -> Response:
        if DATA_PATH.match(request.url.path):
            try:
                await gate(request)
            except Reply as reply:
                return JSONResponse(reply.body, reply.status, headers=reply.headers)
        if exc.status_code == 405:
            allowed = allowed_methods(app, request)
            body = method_not_allowed(request.method, allowed)
            return JSONResponse(body, 405, headers={"Allow": ", ".join(allowed)})
        if exc.status_code == 404:
            return JSONResponse(NOT_FOUND, 404)
        return JSONResponse(
            [{"errorCode": "UNKNOWN_EXCEPTION", "message": str(exc.detail)}], exc.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        # Only the admin surface declares typed parameters (?daily=, ?kind=...).
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        )
        return JSONResponse({"error": f"bad parameters: {problems}"}, 400)
