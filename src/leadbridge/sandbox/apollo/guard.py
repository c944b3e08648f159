"""What every API call goes through before its handler runs, in Apollo's order.

count it -> latency knob -> authenticate (401 text/plain for keys; 401 INVALID_ACCESS_TOKEN for
bearer tokens) -> authorise (403 API_INACCESSIBLE) -> injected faults -> rate windows (429 +
retry-after) -> the 5xx knob. Rate headers are attached only once authentication passed, so
401/403 answers carry none (reference B8).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from leadbridge.sandbox.apollo import errors
from leadbridge.sandbox.apollo.endpoints import Endpoint
from leadbridge.sandbox.apollo.errors import Reply
from leadbridge.sandbox.apollo.knobs import InjectedFailure
from leadbridge.sandbox.apollo.state import ApolloState


@dataclass(frozen=True)
class Caller:
    user_id: str


def route_name(request: Request) -> str:
    """The call's route template, under /api/v1 even when the client used the old /v1 prefix."""
    route = request.scope.get("route")
    path = str(getattr(route, "path", None) or request.url.path)
    for prefix in ("/api/v1/", "/v1/"):
        path = path.removeprefix(prefix[:-1])
    return f"{request.method} /api/v1{path}"


class Guard:
    def __init__(self, state: ApolloState) -> None:
        self.state = state
        self.knobs = state.knobs
        self._bearer_calls = 0

    async def __call__(self, request: Request, endpoint: Endpoint) -> Caller:
        state, knobs = self.state, self.knobs
        with state.lock:
            state.calls[route_name(request)] += 1
        if knobs.latency:
            await asyncio.sleep(knobs.latency)
        with state.lock:
            caller = self.authenticate(request, endpoint)
            injected = knobs.take_failure(route_name(request))
            if injected is not None:
                raise Reply(injected_response(injected, request))
            burst = knobs.take_burst()
            if burst is not None:
                raise errors.rate_limited(
                    endpoint.label, knobs.limits.get("minute"), "minute", burst
                )
            decision = state.windows.take(endpoint.route, knobs.limits, state.clock())
            if decision.exceeded is not None:
                reply = errors.rate_limited(
                    endpoint.label,
                    knobs.limits[decision.exceeded],
                    decision.exceeded,
                    decision.retry_after,
                )
                reply.response.headers.update(decision.headers)
                raise reply
            failing = bool(knobs.error_rate_5xx) and state.rng.random() < knobs.error_rate_5xx
        if failing and not knobs.fail_after_commit:
            raise Reply(JSONResponse({"error": endpoint.failure}, 500, headers=decision.headers))
        # The middleware adds the headers, and turns the answer into a 500 after the fact.
        request.state.rate_headers = decision.headers
        request.state.fail_after_commit = endpoint.failure if failing else None
        return caller

    def authenticate(self, request: Request, endpoint: Endpoint) -> Caller:
        key = request.headers.get("x-api-key", "").strip()
        authorization = request.headers.get("authorization", "")
        if key:
            record = self.state.credentials.api_keys.get(key)
            if record is None:
                raise errors.invalid_key()
            scoped_out = endpoint.master_only or endpoint.route not in record.routes
            if not (record.master or endpoint.any_key) and scoped_out:
                raise errors.not_authorized_key(endpoint.route)
            return Caller(record.user_id)
        scheme, _, token_text = authorization.partition(" ")
        if scheme.lower() == "bearer" and token_text.strip():
            token, why = self.state.credentials.bearer(token_text.strip())
            if token is not None and self.knobs.expire_tokens_every:
                self._bearer_calls += 1
                if self._bearer_calls % self.knobs.expire_tokens_every == 0:
                    token.expires_at = self.state.clock()  # the server's clock says it is over
                    token, why = None, "The access token expired"
            if token is None:
                raise errors.invalid_access_token(why)
            if endpoint.scope and endpoint.scope not in token.scopes:
                raise errors.missing_oauth_scope(endpoint.route, endpoint.scope)
            return Caller(token.user_id)
        raise errors.invalid_key()


def injected_response(failure: InjectedFailure, request: Request) -> Response:
    body = failure.body if failure.body is not None else {"error": "Injected failure."}
    if failure.echo_headers:
        # As Rails prints the Rack env: {"HTTP_X_API_KEY"=>"…", …}.
        echoed = ", ".join(
            f'"HTTP_{k.upper().replace("-", "_")}"=>"{v}"' for k, v in request.headers.items()
        )
        text = f" (request headers: {{{echoed}}})"
        if isinstance(body, dict):
            body = {**body, "error": f"{body.get('error', 'Injected failure.')}{text}"}
        else:
            body = f"{body}{text}"
    if isinstance(body, str):
        return PlainTextResponse(body, failure.status)
    return JSONResponse(body, failure.status)
