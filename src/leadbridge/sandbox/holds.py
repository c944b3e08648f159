"""Held requests: a sandbox can stop a matching request at a chosen point until a test lets it go.

Chaos tests need a client to die at an exact step of a protocol (a Bulk job created but not yet
uploaded, closed but not yet answered, ...). A hold is set through the admin surface:

    POST /__admin__/holds    {"method": "PATCH", "path": "/jobs/ingest/[^/]+/$", "when": "after"}
    GET  /__admin__/held     the requests waiting now: [{"id", "method", "path", "when"}]
    POST /__admin__/release  {"id": 3 | null (all), "drop": false}

`when: "before"` stops the request before the API sees it: released with `drop`, it never
happens (the client was killed before it landed); released plainly, it goes on. `when: "after"`
lets the API apply it and holds the answer: the write has landed and the client that is killed
meanwhile never hears of it. A hold lets the first `skip` matching requests through, then
holds `count` of them (1 by default), then is spent.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from leadbridge.sandbox import jsonbody

When = Literal["before", "after"]


@dataclass
class Hold:
    method: str
    path: re.Pattern[str]
    when: When
    count: int = 1
    skip: int = 0


@dataclass
class Held:
    id: int
    method: str
    path: str
    when: When
    loop: asyncio.AbstractEventLoop
    released: asyncio.Event
    drop: bool = False

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "method": self.method, "path": self.path, "when": self.when}


@dataclass
class Holds:
    rules: list[Hold] = field(default_factory=list)
    waiting: dict[int, Held] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(
        self, method: str, path: str, when: When = "before", count: int = 1, skip: int = 0
    ) -> None:
        self.rules.append(Hold(method.upper(), re.compile(path), when, max(1, count), skip))

    def take(self, method: str, path: str, when: When) -> bool:
        """Whether a request is held at this point (and the matching hold used up once)."""
        for rule in self.rules:
            if rule.when == when and rule.method in (method, "*") and rule.path.search(path):
                if rule.skip > 0:
                    rule.skip -= 1
                    return False
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                return True
        return False

    async def wait(self, method: str, path: str, when: When) -> bool:
        """Park the request until released; True when it is to be dropped."""
        held = Held(
            next(self._ids), method, path, when, asyncio.get_running_loop(), asyncio.Event()
        )
        self.waiting[held.id] = held
        try:
            await held.released.wait()
        finally:
            self.waiting.pop(held.id, None)
        return held.drop

    def release(self, hold_id: int | None = None, *, drop: bool = False) -> int:
        """Release one parked request (or all of them); may be called from any thread."""
        chosen = [h for h in list(self.waiting.values()) if hold_id in (None, h.id)]
        for held in chosen:
            held.drop = drop
            held.loop.call_soon_threadsafe(held.released.set)
        return len(chosen)


Dropped = Callable[[], Response]


def add_holds(app: FastAPI, holds: Holds, dropped: Dropped) -> None:
    """The middleware and the admin routes; `dropped` is the answer a dropped request gets
    (nobody reads it: its client is gone)."""

    @app.middleware("http")
    async def _held(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        method, path = request.method, request.url.path
        if path.startswith("/__admin__/") or not (holds.rules or holds.waiting):
            return await call_next(request)
        if holds.take(method, path, "before") and await holds.wait(method, path, "before"):
            return dropped()
        response = await call_next(request)
        if holds.take(method, path, "after"):
            await holds.wait(method, path, "after")
        return response

    admin = APIRouter(prefix="/__admin__")

    async def object_body(request: Request) -> dict[str, Any] | JSONResponse:
        raw = await request.body()
        try:
            body = jsonbody.parse(raw) if raw.strip() else {}
        except jsonbody.BadJson as exc:
            return JSONResponse({"error": f"the body is not JSON: {exc}"}, 400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, 400)
        return body

    @admin.post("/holds")
    async def add_hold(request: Request) -> Any:
        body = await object_body(request)
        if isinstance(body, JSONResponse):
            return body
        when = body.get("when", "before")
        if when not in ("before", "after"):
            return JSONResponse(
                {"error": f"bad hold: when is 'before' or 'after', not {when!r}"}, 400
            )
        try:
            holds.add(
                str(body["method"]),
                str(body["path"]),
                when,
                int(body.get("count", 1)),
                int(body.get("skip", 0)),
            )
        except (KeyError, TypeError, ValueError, OverflowError, re.error) as exc:
            return JSONResponse({"error": f"bad hold: {exc}"}, 400)
        return {"holds": len(holds.rules)}

    @admin.get("/held")
    async def held() -> Any:
        return [h.view() for h in holds.waiting.values()]

    @admin.post("/release")
    async def release(request: Request) -> Any:
        body = await object_body(request)
        if isinstance(body, JSONResponse):
            return body
        hold_id = body.get("id")
        if hold_id is not None and (isinstance(hold_id, bool) or not isinstance(hold_id, int)):
            return JSONResponse({"error": "id is the number of a held request, or null"}, 400)
        return {"released": holds.release(hold_id, drop=bool(body.get("drop")))}

    @admin.delete("/holds")
    async def clear() -> Any:
        holds.rules.clear()
        return {"released": holds.release()}

    app.include_router(admin)
