"""A small read-only API next to the runner: liveness, hub status, recent runs, open errors.

Every answer goes through `redact` on its way out (RedactedJSONResponse): stored messages may
quote what an API echoed, and nothing this process holds as a secret may leave it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from leadbridge.engine.errors import open_errors
from leadbridge.engine.status import hub_status
from leadbridge.hub.connections import Connections
from leadbridge.secrets import redact


class RedactedJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return super().render(redact(content))


def create_app(connections: Connections) -> FastAPI:
    app = FastAPI(title="leadbridge", version="0.1.0", default_response_class=RedactedJSONResponse)
    connections.credential_problems()  # opens every credential: their values are masked from now

    @app.get("/health")
    def health() -> dict[str, Any]:
        """The process is up; `ok` is false while a connection's credentials cannot be opened
        (a missing or wrong key), with the reason per connection."""
        problems = connections.credential_problems()
        if not problems:
            return {"ok": True}
        names = {c.id: c.name for c in connections.all()}
        return {
            "ok": False,
            "credentials": {names.get(i, str(i)): why for i, why in problems.items()},
        }

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        st = hub_status(connections.hub)
        unreadable = connections.credential_problems()
        return {
            "companies": st.companies,
            "people": st.people,
            "users": st.users,
            "links": dict(st.links),
            "stale_links": st.stale_links,
            "open_errors": st.open_errors,
            "potential_duplicates": dict(st.potential_duplicates),
            "crm": [crm.as_dict() for crm in st.crm],
            "connections": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "health": "credentials_unreadable" if c.id in unreadable else c.health,
                    "detail": unreadable.get(c.id, c.health_detail),
                }
                for c in connections.all()
            ],
            "runs": [
                {
                    "id": r.id,
                    "job": r.job,
                    "status": r.status,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "counts": r.counts,
                    "api_calls": r.api_calls,
                    "message": r.message,
                }
                for r in st.runs
            ],
        }

    @app.get("/api/errors")
    def errors() -> list[dict[str, Any]]:
        return [
            {
                "id": e.id,
                "record": e.record,
                "field": e.field,
                "class": e.error_class,
                "message": e.message,
                "hint": e.hint,
                "at": e.created_at.isoformat(),
                "count": e.count,
                "last_seen_at": e.last_seen_at.isoformat(),
            }
            for e in open_errors(connections.hub)
        ]

    return app
