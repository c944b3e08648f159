"""What every API call goes through before its handler runs, in HubSpot's order.

count it -> latency knob -> authenticate (401 INVALID_AUTHENTICATION / EXPIRED_AUTHENTICATION)
-> scopes (403 MISSING_SCOPES, no rate headers, as recorded) -> injected 5xx -> rate limits
(429 with `policyName`) -> the 5xx knob. The rate headers are attached by the app's middleware
to whatever the handler answers, errors included (recorded on 400, 404, 409 and 207 answers).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import Request

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.credentials import Caller, Credentials
from leadbridge.sandbox.hubspot.knobs import HubSpotKnobs
from leadbridge.sandbox.hubspot.objects import object_type
from leadbridge.sandbox.hubspot.portal import Portal
from leadbridge.sandbox.hubspot.rate_limits import RateLimits
from leadbridge.sandbox.hubspot.values import iso_ms

WRITES = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class Context:
    """Everything the API's routes share."""

    portal: Portal
    knobs: HubSpotKnobs
    credentials: Credentials = field(default_factory=Credentials)
    limits: RateLimits = field(default_factory=RateLimits)
    calls: Counter[str] = field(default_factory=Counter)
    base_url: str = "https://api.hubapi.com"
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    oauth_calls: int = 0


def route_name(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', None) or request.url.path}"


class Guard:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def __call__(
        self,
        request: Request,
        scopes: Iterable[str],
        *,
        search: bool = False,
        objects_gate: bool = False,
        schema_type: str | None = None,
    ) -> Caller:
        """`scopes`: any one of them lets the call through. `objects_gate`: a token with no
        object scope at all gets the recorded generic 403. `schema_type`: the properties API's
        own recorded 403 (it counts against the limits and carries their headers)."""
        ctx, knobs = self.ctx, self.ctx.knobs
        portal = ctx.portal
        with portal.lock:
            ctx.calls[route_name(request)] += 1
        if knobs.latency:
            await asyncio.sleep(knobs.latency)
        wanted = tuple(scopes)
        with portal.lock:
            now = portal.clock()
            caller = self.authenticate(request, now)
            allowed = not wanted or bool(caller.scopes & set(wanted))
            if not allowed and schema_type is None:
                gate = caller.scopes & set(errors.OBJECTS_GATE_GRANULAR)
                raise errors.missing_scopes(None if objects_gate and not gate else [wanted[0]])
            failure = knobs.take_failure()
            if failure is not None:
                raise errors.server_error(failure)
            group = (
                f"publicapi:{'oauth' if caller.oauth else 'private_app'}-api-calls-ten-secondly:"
                f"{caller.app_id}:{portal.portal_id}"
            )
            headers = ctx.limits.take(knobs, caller.rate_key, now, caller.oauth, search, group)
            if not allowed:
                legacy = object_type(schema_type or "").legacy
                reply = errors.schema_forbidden(legacy, portal.portal_id, f"{schema_type}-read")
                reply.headers.update(headers)
                raise reply
            failing = bool(knobs.error_rate_5xx) and ctx.rng.random() < knobs.error_rate_5xx
            after = (
                request.method in WRITES
                and bool(knobs.error_after_commit_rate)
                and ctx.rng.random() < knobs.error_after_commit_rate
            )
        if failing:
            reply = errors.server_error()
            reply.headers.update(headers)
            raise reply
        request.state.rate_headers = headers
        request.state.fail_after_commit = after
        request.state.caller = caller
        return caller

    def authenticate(self, request: Request, now: float) -> Caller:
        ctx = self.ctx
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise errors.unauthenticated()
        found = ctx.credentials.caller(token, now)
        if isinstance(found, Caller) and found.oauth and ctx.knobs.expire_tokens_every:
            ctx.oauth_calls += 1
            if ctx.oauth_calls % ctx.knobs.expire_tokens_every == 0:
                ctx.credentials.access[token].expires_at = now
                found = now
        if isinstance(found, Caller):
            return found
        return_ms = int(found * 1000)
        raise errors.expired(max(0.0, now - found), iso_ms(return_ms))
