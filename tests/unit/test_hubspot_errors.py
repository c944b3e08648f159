"""HubSpot's answers -> our error classes: every recorded error answer (tests/data/
hubspot-recorded), and the bodies the reference quotes (A9, A10) for what the recordings lack
(401, 409, 429)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadbridge.connectors.errors import (
    AccessDeniedError,
    AuthError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from leadbridge.connectors.hubspot.client import classify, existing_id

RECORDED = Path(__file__).parents[1] / "data" / "hubspot-recorded"


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    kind = "text/html" if isinstance(body, str) else "application/json;charset=utf-8"
    return httpx.Response(
        status, headers={"content-type": kind, **(headers or {})}, content=content
    )


def recorded_errors() -> list[dict[str, Any]]:
    out = []
    for path in sorted(RECORDED.glob("*.json")):
        if "signature" in path.name:
            continue
        out += [x for x in json.loads(path.read_text()) if x["status"] >= 400]
    return out


@pytest.mark.parametrize("exchange", recorded_errors(), ids=lambda x: f"{x['status']} {x['path']}")
def test_every_recorded_error_answer_has_its_class(exchange: dict[str, Any]) -> None:
    error = classify(response(exchange["status"], exchange["response_body"]))
    expected = {400: PermanentError, 403: AccessDeniedError, 404: PermanentError}
    assert isinstance(error, expected[exchange["status"]])
    if exchange["status"] == 404:
        assert error.code == "OBJECT_NOT_FOUND" and "deleted or merged" in (error.hint or "")


def test_validation_detail_names_the_property() -> None:
    (exchange,) = [
        x for x in recorded_errors() if "INVALID_EMAIL" in json.dumps(x["response_body"])
    ]
    error = classify(response(400, exchange["response_body"]))
    assert isinstance(error, PermanentError)
    assert (error.field, error.code) == ("email", "INVALID_EMAIL")
    assert error.message == "Email address invalid is invalid" and error.hint


def test_missing_scopes_names_them() -> None:
    body = {
        "status": "error",
        "message": "This app hasn't been granted all required scopes to make this call.",
        "category": "MISSING_SCOPES",
        "errors": [
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": ["crm.objects.companies.write"]},
            }
        ],
    }
    error = classify(response(403, body))
    assert isinstance(error, AccessDeniedError) and "crm.objects.companies.write" in str(error)


def test_conflict_auth_rate_limits_and_outages() -> None:
    conflict = classify(
        response(409, {"status": "error", "category": "CONFLICT",
                       "message": "Contact already exists. Existing ID: 37765128953"})
    )  # fmt: skip
    assert isinstance(conflict, PermanentError) and conflict.field == "email"
    assert existing_id(conflict) == "37765128953"
    expired = classify(
        response(401, {"status": "error", "category": "EXPIRED_AUTHENTICATION",
                       "message": "The OAuth token used to make this call expired 75 s ago."})
    )  # fmt: skip
    assert isinstance(expired, AuthError)
    rolling = classify(
        response(429, {"status": "error", "errorType": "RATE_LIMIT",
                       "message": "You have reached your ten_secondly_rolling limit.",
                       "policyName": "TEN_SECONDLY_ROLLING"})
    )  # fmt: skip
    assert isinstance(rolling, RateLimitedError) and rolling.retry_after == 1.0
    told = classify(response(429, {"status": "error"}, {"retry-after": "3"}))
    assert isinstance(told, RateLimitedError) and told.retry_after == 3.0
    daily = classify(
        response(429, {"status": "error", "policyName": "DAILY",
                       "message": "You have reached your daily limit."})
    )  # fmt: skip
    assert isinstance(daily, RateLimitedError) and (daily.retry_after or 0) > 0
    assert daily.code == "DAILY"
    search = classify(
        response(429, {"status": "error", "errorType": "RATE_LIMIT",
                       "message": "You have reached your secondly limit."})
    )  # fmt: skip
    assert isinstance(search, RateLimitedError) and search.retry_after == 1.0
    assert isinstance(classify(response(502, "<html>bad gateway</html>")), TransientError)
    assert classify(response(207, {"status": "COMPLETE"})) is None
