"""Apollo's error answers, as the reference quotes them (part B7), and how handlers raise them."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, PlainTextResponse, Response

INVALID_KEY = (
    "Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate."
)
UPGRADE = "Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
WINDOW_WORDS = {"minute": "per minute", "hour": "per hour", "day": "per day"}


class Reply(Exception):
    """Ends a request with this exact response (raised from anywhere in a handler)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(JSONResponse({"error": message, **extra}, status_code=status))


def bad_id(value: Any) -> Reply:
    # Apollo names the offending value, not the parameter ("23423423 is not a valid ID"); only
    # the path ids are named by parameter ("account_id is not a valid ID").
    return error(422, f"Parameters misconfigured. {value} is not a valid ID")


def invalid_key() -> Reply:
    return Reply(PlainTextResponse(INVALID_KEY, 401))


def not_authorized_key(route: str) -> Reply:
    return error(
        403,
        f"This API key is not authorized to access {route}. Request an API key from your "
        "administrator that includes this endpoint in its configured scope.",
        error_code="API_INACCESSIBLE",
    )


def invalid_access_token(why: str) -> Reply:
    # [U] the reference only says OAuth failures carry INVALID_ACCESS_TOKEN; the body and the
    # WWW-Authenticate header follow Doorkeeper, the Rails OAuth server whose token JSON Apollo's
    # matches field for field.
    return Reply(
        JSONResponse(
            {"error": f"Invalid access token: {why}", "error_code": "INVALID_ACCESS_TOKEN"},
            401,
            headers={
                "www-authenticate": f'Bearer error="invalid_token", error_description="{why}"'
            },
        )
    )


def missing_oauth_scope(route: str, scope: str) -> Reply:
    # [U] the body for a token without the endpoint's scope is not documented; this mirrors the
    # key answer (403 API_INACCESSIBLE) and names the scope so a developer can fix the grant.
    return error(
        403,
        f"This access token is not authorized to access {route}. Re-authorize the app with "
        f"the {scope} scope.",
        error_code="API_INACCESSIBLE",
    )


def rate_limited(label: str, limit: int | None, window: str, retry_after: float) -> Reply:
    seconds = max(1, int(-(-retry_after // 1)))
    return Reply(
        JSONResponse(
            {
                "message": f"The maximum number of api calls allowed for {label} is {limit} "
                f"times {WINDOW_WORDS[window]}. {UPGRADE}"
            },
            429,
            headers={"retry-after": str(seconds)},
        )
    )
