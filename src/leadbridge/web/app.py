"""A small read-only API next to the runner: liveness, hub status, recent runs, open errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from leadbridge.engine.errors import open_errors
from leadbridge.engine.status import hub_status
from leadbridge.hub.connections import Connections


def create_app(connections: Connections) -> FastAPI:
    app = FastAPI(title="leadbridge", version="0.1.0")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        st = hub_status(connections.hub)
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
                {"name": c.name, "kind": c.kind, "health": c.health, "detail": c.health_detail}
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
                "class": e.error_class,
                "message": e.message,
                "hint": e.hint,
                "at": e.created_at.isoformat(),
            }
            for e in open_errors(connections.hub)
        ]

    return app
