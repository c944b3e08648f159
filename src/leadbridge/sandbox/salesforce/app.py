"""The Salesforce REST API and OAuth endpoints over one Org (reference: salesforce-api.md),
assembled from one module per API area:

gate (sessions, limits, fault knobs, Sforce-Limit-Info) · resources (the data resources as one
table, served as routes and as composite subrequests) · rest_meta (versions, resources, limits,
describes) · replication (getUpdated/getDeleted) · rest_records (sObject rows) · rest_query
(query/queryAll) · sobject_collections · composite (/composite, /composite/batch) ·
composite_tree · bulk (Bulk API 2.0) · oauth · admin (the sandbox's own /__admin__/ surface) ·
holds (held requests for chaos tests) · fallback (404/405 in Salesforce's shape).

Single-record errors are arrays of {message, errorCode, fields}; collection results use
statusCode per record, as the real API does.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from leadbridge.sandbox.holds import Holds, add_holds
from leadbridge.sandbox.salesforce.admin import admin_router
from leadbridge.sandbox.salesforce.bulk import add_bulk_routes
from leadbridge.sandbox.salesforce.composite import add_composite_routes
from leadbridge.sandbox.salesforce.composite_tree import add_tree_routes
from leadbridge.sandbox.salesforce.fallback import add_fallbacks
from leadbridge.sandbox.salesforce.gate import Gate, Session, add_limit_info
from leadbridge.sandbox.salesforce.knobs import SalesforceKnobs
from leadbridge.sandbox.salesforce.oauth import OAuthState, add_oauth_routes
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.salesforce.replication import add_replication_routes
from leadbridge.sandbox.salesforce.replies import Reply
from leadbridge.sandbox.salesforce.resources import Resources
from leadbridge.sandbox.salesforce.rest_meta import add_meta_routes
from leadbridge.sandbox.salesforce.rest_query import add_query_routes
from leadbridge.sandbox.salesforce.rest_records import add_record_routes
from leadbridge.sandbox.salesforce.sobject_collections import add_collection_routes

__all__ = ["OAuthState", "SalesforceKnobs", "Session", "build_app"]


def build_app(
    org: Org,
    knobs: SalesforceKnobs,
    sessions: dict[str, Session],
    oauth: OAuthState,
    base: dict[str, str],
    holds: Holds | None = None,
) -> FastAPI:
    holds = holds if holds is not None else Holds()
    app = FastAPI(title="Salesforce sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    gate = Gate(org, knobs, sessions)

    @app.exception_handler(Reply)
    async def _reply(_: Request, exc: Reply) -> Response:
        if exc.status == 204:
            return Response(status_code=204, headers=exc.headers)
        return JSONResponse(exc.body, exc.status, headers=exc.headers)

    add_fallbacks(app, gate)
    add_limit_info(app, gate)

    # Registration order matters: /sobjects/X/describe and /sobjects/X/updated come before
    # /sobjects/X/{id}, /query before /query/{locator}, /composite/batch before
    # /composite/sobjects/{name}/{field}.
    api = APIRouter(prefix="/services/data/v{version}")
    resources = Resources(gate, api)
    add_meta_routes(app, resources)
    add_replication_routes(resources)
    add_record_routes(resources)
    add_query_routes(resources)
    add_composite_routes(resources)
    add_tree_routes(resources)
    add_collection_routes(resources)
    add_bulk_routes(api, org, gate, pace=lambda: knobs.bulk_rows_per_second)
    app.include_router(api)
    app.include_router(admin_router(org, knobs))
    add_holds(
        app,
        holds,
        lambda: JSONResponse(
            [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}], 503
        ),
    )
    add_oauth_routes(app, org, sessions, oauth, base)
    return app
