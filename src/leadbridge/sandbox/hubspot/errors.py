"""HubSpot's error answers, as recorded (shared/data/hubspot-recorded) or quoted in the reference
(A9, A10), and the `Reply` exception handlers raise to end a request with one of them.

Every JSON error carries `status: "error"`, `message` and the request's `correlationId`; most a
`category`. A missing numeric object id is not JSON at all: HubSpot answers an HTML page with
`X-HubSpot-NotFound: true` (recorded for objects, idProperty=email reads and engagements).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse, Response

JSON_TYPE = "application/json;charset=utf-8"
NOT_FOUND_HTML = (
    "<html>\n<head>\n"
    '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
    "<title>Error 404 Not Found</title>\n</head>\n"
    "<body><h2>HTTP ERROR 404</h2>\n<p>Resource not found</p>\n</body>\n</html>\n"
)
SCOPES_LINK = "https://developers.hubspot.com/scopes"
MISSING_SCOPES_MESSAGE = (
    "This app hasn't been granted all required scopes to make this call. Read more about "
    "required scopes here: https://developers.hubspot.com/scopes."
)
# The scopes the generic /crm/v3/objects gate lists, verbatim from the recorded 403s: a token
# with none of them is refused before the object type is even looked at.
OBJECTS_GATE_SCOPES = [
    "e-commerce",
    "tickets",
    "crm.objects.goals.read",
    "media_bridge.read",
    "crm.objects.custom.read",
    "crm.objects.custom.write",
]
OBJECTS_GATE_GRANULAR = [
    "crm.objects.commercepayments.read",
    "crm.objects.invoices.read",
    "crm.objects.carts.write",
    "crm.objects.contacts.write",
    "crm.objects.carts.read",
    "crm.objects.subscriptions.read",
    "crm.objects.appointments.read",
    "crm.objects.line_items.read",
    "crm.objects.appointments.write",
    "crm.objects.line_items.write",
    "crm.objects.listings.read",
    "crm.objects.listings.write",
    "crm.objects.quotes.write",
    "crm.objects.services.read",
    "crm.objects.quotes.read",
    "crm.objects.services.write",
    "crm.objects.leads.read",
    "crm.objects.contacts.read",
    "crm.objects.companies.read",
    "crm.objects.leads.write",
    "crm.objects.partner-clients.read",
    "crm.objects.deals.read",
    "crm.objects.courses.read",
    "crm.objects.partner-clients.write",
    "crm.objects.courses.write",
    "crm.objects.deals.write",
    "crm.objects.users.read",
    "crm.objects.users.write",
    "crm.objects.orders.write",
    "crm.objects.orders.read",
    "crm.objects.companies.write",
]
AUTH_MISSING = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class JSON(JSONResponse):
    """HubSpot's JSON content type, as recorded."""

    media_type = JSON_TYPE


class Reply(Exception):
    """Ends a request with this answer. `body` None means no body (204); a str is HTML."""

    def __init__(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})
        self.rate_headers = True  # False: the answer goes out without X-HubSpot-RateLimit-*

    def response(self, correlation_id: str) -> Response:
        headers = {"x-hubspot-correlation-id": correlation_id, **self.headers}
        if self.body is None:
            return Response(status_code=self.status, headers=headers)
        if isinstance(self.body, str):
            return Response(
                self.body, self.status, headers, media_type="text/html;charset=iso-8859-1"
            )
        body = dict(self.body) if isinstance(self.body, dict) else self.body
        if isinstance(body, dict) and body.get("correlationId") == "":
            body["correlationId"] = correlation_id
        return JSON(body, self.status, headers)


def error(status: int, message: str, category: str | None = None, **extra: Any) -> Reply:
    """The standard error body; the correlation id is filled in when the answer is sent."""
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": ""}
    body.update(extra)
    if category:
        body["category"] = category
    return Reply(status, body)


def not_found_html() -> Reply:
    return Reply(404, NOT_FOUND_HTML, {"x-hubspot-notfound": "true"})


def object_not_found(object_id: str) -> Reply:
    """A non-numeric id (without idProperty): JSON, unlike the numeric one."""
    return error(
        404,
        "Object not found.  objectId are usually numeric.",
        "OBJECT_NOT_FOUND",
        context={"id": [object_id]},
    )


def validation(message: str, **extra: Any) -> Reply:
    return error(400, message, "VALIDATION_ERROR", **extra)


def invalid_properties(problems: list[dict[str, Any]]) -> Reply:
    """Per-property detail travels as JSON inside `message`, as recorded."""
    return validation(f"Property values were not valid: {compact(problems)}")


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def conflict(existing_id: str) -> Reply:
    return error(409, f"Contact already exists. Existing ID: {existing_id}", "CONFLICT")


def bad_json(detail: str) -> Reply:
    return validation(f"Invalid input JSON: {detail}")


def missing_scopes(granular: list[str] | None = None) -> Reply:
    """403 MISSING_SCOPES; without `granular` it is the generic objects gate, verbatim. These
    answers carry no rate-limit headers (recorded)."""
    context: dict[str, list[str]]
    if granular is None:
        context = {
            "requiredScopes": OBJECTS_GATE_SCOPES,
            "requiredGranularScopes": OBJECTS_GATE_GRANULAR,
        }
    else:
        context = {"requiredGranularScopes": granular}
    reply = error(
        403,
        MISSING_SCOPES_MESSAGE,
        "MISSING_SCOPES",
        errors=[
            {"message": "One or more of the following scopes are required.", "context": context}
        ],
        links={"scopes": SCOPES_LINK},
    )
    reply.rate_headers = False
    return reply


def schema_forbidden(legacy_type: str, portal_id: int, scope_hint: str) -> Reply:
    """The properties API without the scope: recorded without a category, with rate headers."""
    return error(
        403,
        f"You do not have permissions to view object type ObjectTypeId{{legacyObjectType="
        f"{legacy_type}}} in portal {portal_id} (requires one of [{scope_hint}])",
    )


def unauthenticated() -> Reply:
    reply = error(401, AUTH_MISSING, "INVALID_AUTHENTICATION")
    reply.rate_headers = False
    return reply


def expired(seconds_ago: float, expired_at_iso: str) -> Reply:
    """EXPIRED_AUTHENTICATION; a garbage token reads as one that expired in 1970 (captured)."""
    if seconds_ago >= 86400:
        ago = f"{int(seconds_ago // 86400)} day(s)"
    else:
        ago = f"{int(seconds_ago)} second(s)"
    reply = error(
        401,
        f"The OAuth token used to make this call expired {ago} ago.",
        "EXPIRED_AUTHENTICATION",
        context={"expire time": [expired_at_iso]},
    )
    reply.rate_headers = False
    return reply


def rate_limited(policy: str, group: str | None = None) -> Reply:
    """429 with `policyName` and `errorType`, and no `category` (reference A10)."""
    words = {
        "TEN_SECONDLY_ROLLING": "ten_secondly_rolling",
        "SECONDLY": "secondly",
        "DAILY": "daily",
    }
    body: dict[str, Any] = {
        "status": "error",
        "message": f"You have reached your {words[policy]} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "",
        "policyName": policy,
    }
    if group:
        body["groupName"] = group
    return Reply(429, body)


def search_rate_limited() -> Reply:
    """The search endpoints' own per-second limit answers the bare body (reference A4)."""
    return Reply(
        429,
        {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
        },
    )


def server_error(status: int = 502) -> Reply:
    return error(status, "internal error", "INTERNAL_ERROR")
