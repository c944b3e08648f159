"""What every data call (under /services/data/vXX.X/) goes through, and the request helpers the
API modules share.

A call needs a live session (401 INVALID_SESSION_ID otherwise), counts against the org's daily
limit (403 REQUEST_LIMIT_EXCEEDED past it) and carries `Sforce-Limit-Info: api-usage=N/M`; the
fault knobs (latency, 5xx, concurrency burst, session expiry, API disabled, 503 after commit,
HTML instead of JSON) act here.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from leadbridge.sandbox.salesforce.knobs import SalesforceKnobs
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.salesforce.replies import INVALID_SESSION, NOT_FOUND, Reply

API_DISABLED = [
    {
        "message": "The REST API is not enabled for this Organization.",
        "errorCode": "API_DISABLED_FOR_ORG",
    }
]
GARBAGE = "<html><head><title>Service unavailable</title></head><body>Maintenance</body></html>"


@dataclass
class Session:
    user_id: str
    issued_at: float
    calls: int = 0
    revoked: bool = False


class Gate:
    def __init__(self, org: Org, knobs: SalesforceKnobs, sessions: dict[str, Session]) -> None:
        self.org, self.knobs, self.sessions = org, knobs, sessions
        self.rng = random.Random(knobs.seed)  # fault injection is reproducible run to run

    def limit_header(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.org.api_usage}/{self.org.daily_limit}"}

    async def __call__(self, request: Request) -> Session:
        org, knobs = self.org, self.knobs
        if knobs.latency:
            await asyncio.sleep(knobs.latency)
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with org.lock:
            s = self.sessions.get(token)
            if (
                s is not None
                and knobs.session_expiry_calls
                and s.calls >= knobs.session_expiry_calls
            ):
                s.revoked = True
            if s is None or s.revoked or org.clock() - s.issued_at > knobs.session_ttl:
                raise Reply(401, INVALID_SESSION)
            if knobs.api_disabled:
                raise Reply(403, API_DISABLED)
            if knobs.concurrency_burst > 0:
                knobs.concurrency_burst -= 1
                raise Reply(
                    403,
                    [
                        {
                            "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                            "errorCode": "REQUEST_LIMIT_EXCEEDED",
                        }
                    ],
                    self.limit_header(),
                )
            if org.api_usage >= org.daily_limit:
                raise Reply(403, self.limit_exceeded(), self.limit_header())
            org.api_usage += 1
            s.calls += 1
            if knobs.error_rate_5xx and self.rng.random() < knobs.error_rate_5xx:
                raise Reply(
                    503,
                    [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
                    self.limit_header(),
                )
        request.state.limit = True
        return s

    def limit_exceeded(self) -> list[dict[str, str]]:
        return [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]

    def charge(self) -> bool:
        """One more API call inside a request that already passed (a batch subrequest);
        False when the daily limit is spent."""
        with self.org.lock:
            if self.org.api_usage >= self.org.daily_limit:
                return False
            self.org.api_usage += 1
            return True

    def take_garbage(self) -> bool:
        """Whether this answer becomes an HTML page (the `garbage_next` knob, used up once)."""
        with self.org.lock:
            if self.knobs.garbage_next <= 0:
                return False
            self.knobs.garbage_next -= 1
            return True

    def lock_row(self) -> bool:
        rate = self.knobs.lock_row_rate
        return bool(rate) and secrets.randbelow(10_000) < rate * 10_000

    def obj_or_404(self, name: str) -> str:
        canonical = self.org.canonical(name)
        if canonical is None:
            raise Reply(404, NOT_FOUND)
        return canonical


def allow_save(headers: Mapping[str, str]) -> bool:
    """Sforce-Duplicate-Rule-Header: allowSave=true saves past an alert duplicate rule."""
    header = headers.get("sforce-duplicate-rule-header", "")
    return any(p.strip().lower() == "allowsave=true" for p in header.split(";"))


def add_limit_info(app: FastAPI, gate: Gate) -> None:
    """The middleware: Sforce-Limit-Info on every data call that passed the gate, and the
    503-after-commit knob on writes that landed."""
    knobs = gate.knobs

    @app.middleware("http")
    async def _limit_info(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if not getattr(request.state, "limit", False):
            return response
        if (
            knobs.error_after_commit_rate
            and request.method in ("POST", "PATCH", "PUT", "DELETE")
            and response.status_code < 300
            and gate.rng.random() < knobs.error_after_commit_rate
        ):
            body = [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
            return JSONResponse(body, status_code=503, headers=gate.limit_header())
        if response.status_code < 300 and gate.take_garbage():
            return HTMLResponse(GARBAGE, status_code=200, headers=gate.limit_header())
        response.headers.update(gate.limit_header())
        return response
