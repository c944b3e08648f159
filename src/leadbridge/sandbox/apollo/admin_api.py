"""The Apollo sandbox's own surface under /__admin__/ (never part of the emulated API): what a
test or a demo does to a team in Apollo's UI, over HTTP, so a sandbox served by
`leadbridge sandbox apollo` can be driven from any process.

    GET    /__admin__/team            team id, admin user, stages, custom fields
    GET    /__admin__/users           POST adds one {email, first_name, last_name, title, deleted}
    PATCH  /__admin__/users/{id}      {"deleted": bool}; DELETE deactivates (deleted: true)
    GET    /__admin__/accounts        POST adds one account, or {"accounts": [...]}
    POST   /__admin__/seed            {"users": N, "accounts": M, "seed": S}
    POST   /__admin__/custom_fields   {"modality": "account", "name": ..., "type": "string"}
    POST   /__admin__/api_keys        {"master": true} or {"master": false, "scopes": [...]}
    POST   /__admin__/oauth_apps      {"redirect_uris": [...], "scopes": [...] | null}
    GET    /__admin__/calls           API calls received, by route
    GET    /__admin__/knobs           POST sets plain knobs (and "limits": {minute, hour, day})
    POST   /__admin__/faults          {"burst_429": {"count", "retry_after"},
                                       "fail_next": {"count", "status", "body"},
                                       "garbage_next": {"count"}}; DELETE clears them
    POST   /__admin__/clock           {"advance": seconds}: the team's clock moves on

Bad input is a 400 `{"error": ...}` naming the problem; nothing is half-applied.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from leadbridge.sandbox import jsonbody
from leadbridge.sandbox.apollo.errors import Reply, error
from leadbridge.sandbox.apollo.fields import account_input
from leadbridge.sandbox.apollo.knobs import WINDOWS, ApolloKnobs

if TYPE_CHECKING:
    from leadbridge.sandbox.apollo import ApolloSandbox

MAX_SEEDED = 100_000
# knob -> (type, lowest value); per_page_max 0 would leave searches no page to show.
NUMBER_KNOBS: dict[str, tuple[type, float]] = {
    "latency": (float, 0),
    "latency_after_commit": (float, 0),
    "error_rate_5xx": (float, 0),
    "access_token_ttl": (float, 0),
    "code_ttl": (float, 0),
    "expire_tokens_every": (int, 0),
    "per_page_max": (int, 1),
    "display_cap": (int, 0),
}


class ShiftedClock:
    """The team's clock moved on by `offset` seconds (from POST /__admin__/clock)."""

    def __init__(self, base: Callable[[], float], offset: float = 0.0) -> None:
        self.base, self.offset = base, offset

    def __call__(self) -> float:
        return self.base() + self.offset


def bad(message: str) -> Reply:
    return error(400, message)


async def object_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = jsonbody.parse(raw) if raw.strip() else {}
    except jsonbody.BadJson as exc:
        raise bad(f"The body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad("The body must be a JSON object.")
    return body


def number(value: Any, name: str, kind: type = float, low: float = 0) -> Any:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or not math.isfinite(value) or not value >= low:
        raise bad(f"{name} must be a finite number >= {low}, not {value!r}")
    if kind is int and not float(value).is_integer():
        raise bad(f"{name} must be a whole number, not {value!r}")
    return kind(value)


def text(value: Any, name: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad(f"{name} must be a {'non-empty ' if required else ''}string")
    return value


def knob_changes(body: dict[str, Any]) -> dict[str, Any]:
    """Checked knob values: all of them or none (a 400 names the first bad one)."""
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key in NUMBER_KNOBS:
            kind, low = NUMBER_KNOBS[key]
            changes[key] = number(value, key, kind, low)
        elif key == "fail_after_commit":
            if not isinstance(value, bool):
                raise bad("fail_after_commit must be true or false")
            changes[key] = value
        elif key == "limits":
            if not isinstance(value, dict) or set(value) - set(WINDOWS):
                raise bad(f"limits is an object of {', '.join(WINDOWS)} (a number or null)")
            changes[key] = {
                w: None if value.get(w) is None else number(value[w], f"limits.{w}", int, 1)
                for w in WINDOWS
            }
        else:
            known = ", ".join(sorted([*NUMBER_KNOBS, "fail_after_commit", "limits"]))
            raise bad(f"unknown knob {key}; knobs: {known}")
    return changes


def knob_view(knobs: ApolloKnobs) -> dict[str, Any]:
    return {
        f.name: copy.deepcopy(getattr(knobs, f.name))
        for f in dataclasses.fields(knobs)
        if not f.name.startswith("_")
    }


def admin_router(sandbox: ApolloSandbox) -> APIRouter:
    admin = APIRouter(prefix="/__admin__")
    state, knobs = sandbox.state, sandbox.knobs

    def user_of(user_id: str) -> dict[str, Any]:
        user = state.users.get(user_id)
        if user is None:
            raise error(404, f"No user {user_id} in this team.")
        return user

    def new_user(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad("A user is an object with at least an email.")
        deleted = body.get("deleted", False)
        if not isinstance(deleted, bool):
            raise bad("deleted must be true or false")
        return sandbox.add_user(
            email=text(body.get("email"), "email", required=True),
            first_name=text(body.get("first_name"), "first_name"),
            last_name=text(body.get("last_name"), "last_name"),
            title=text(body.get("title"), "title") or None,
            deleted=deleted,
        )

    @admin.get("/team")
    async def team() -> dict[str, Any]:
        with state.lock:
            return {
                "team_id": state.team_id,
                "admin": dict(state.admin),
                "stages": copy.deepcopy(state.stages),
                "custom_fields": copy.deepcopy(state.custom_fields),
            }

    @admin.get("/users")
    async def users() -> list[dict[str, Any]]:
        return sandbox.users()

    @admin.post("/users", status_code=201)
    async def add_user(request: Request) -> dict[str, Any]:
        return new_user(await object_body(request))

    @admin.patch("/users/{user_id}")
    async def change_user(user_id: str, request: Request) -> dict[str, Any]:
        body = await object_body(request)
        if set(body) != {"deleted"} or not isinstance(body["deleted"], bool):
            raise bad('Send {"deleted": true} or {"deleted": false}.')
        with state.lock:
            user = user_of(user_id)
            user["deleted"] = body["deleted"]
            return dict(user)

    @admin.delete("/users/{user_id}")
    async def delete_user(user_id: str) -> dict[str, Any]:
        with state.lock:
            user_of(user_id)
            sandbox.delete_user(user_id)
            return dict(state.users[user_id])

    @admin.get("/accounts")
    async def accounts() -> list[dict[str, Any]]:
        return sandbox.accounts()

    @admin.post("/accounts", status_code=201)
    async def add_accounts(request: Request) -> dict[str, Any]:
        body = await object_body(request)
        many = "accounts" in body
        items = body["accounts"] if many else [body]
        if not isinstance(items, list) or not items:
            raise bad("accounts must be a non-empty list of account objects")
        try:  # all checked before any is made
            parsed = [account_input(item) for item in items]
        except Reply as exc:
            raise bad(bytes(exc.response.body).decode()) from None
        made = [sandbox.add_account(**fields) for fields in parsed]
        return {"accounts": made} if many else {"account": made[0]}

    @admin.post("/seed", status_code=201)
    async def seed(request: Request) -> dict[str, Any]:
        from leadbridge.sandbox.apollo.seed import seed_team

        body = await object_body(request)
        users_n = number(body.get("users", 5), "users", int)
        accounts_n = number(body.get("accounts", 0), "accounts", int)
        if users_n + accounts_n > MAX_SEEDED:
            raise bad(f"seed at most {MAX_SEEDED} users and accounts in one call")
        team_ = seed_team(sandbox, users_n, accounts_n, number(body.get("seed", 1), "seed", int))
        return {"users": team_.users, "accounts": team_.accounts}

    @admin.post("/custom_fields", status_code=201)
    async def add_custom_field(request: Request) -> dict[str, Any]:
        body = await object_body(request)
        modality = text(body.get("modality", "account"), "modality", required=True)
        if modality not in ("account", "contact", "opportunity"):
            raise bad("modality is account, contact or opportunity")
        name = text(body.get("name"), "name", required=True)
        return sandbox.add_custom_field(modality, name, text(body.get("type"), "type") or "string")

    @admin.post("/api_keys", status_code=201)
    async def issue_api_key(request: Request) -> dict[str, Any]:
        body = await object_body(request)
        master, scopes = body.get("master", True), body.get("scopes")
        if not isinstance(master, bool):
            raise bad("master must be true or false")
        if scopes is not None and not (
            isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)
        ):
            raise bad("scopes must be a list of routes such as api/v1/accounts/create")
        return {"api_key": sandbox.issue_api_key(master=master, scopes=scopes)}

    @admin.post("/oauth_apps", status_code=201)
    async def register_oauth_app(request: Request) -> dict[str, Any]:
        body = await object_body(request)
        uris, scopes = body.get("redirect_uris"), body.get("scopes")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            raise bad("redirect_uris must be a non-empty list of URLs")
        if scopes is not None and not (
            isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)
        ):
            raise bad("scopes must be a list of scope names, or null for any")
        client_id, secret = sandbox.register_oauth_app(uris, scopes)
        return {"client_id": client_id, "client_secret": secret}

    @admin.get("/calls")
    async def calls() -> dict[str, int]:
        with state.lock:
            return dict(sandbox.calls)

    @admin.get("/knobs")
    async def get_knobs() -> dict[str, Any]:
        return knob_view(knobs)

    @admin.post("/knobs")
    async def set_knobs(request: Request) -> dict[str, Any]:
        for key, value in knob_changes(await object_body(request)).items():
            setattr(knobs, key, value)
        return knob_view(knobs)

    @admin.post("/faults")
    async def add_faults(request: Request) -> dict[str, Any]:
        body = await object_body(request)
        unknown = set(body) - {"burst_429", "fail_next", "garbage_next"}
        if unknown or not body:
            raise bad("faults: burst_429, fail_next, garbage_next (each an object with count)")
        queued: list[tuple[str, int, dict[str, Any]]] = []
        for kind, spec in body.items():
            if not isinstance(spec, dict):
                raise bad(f"{kind} must be an object with count")
            count = number(spec.get("count", 1), f"{kind}.count", int, 1)
            if kind == "burst_429":
                number(spec.get("retry_after", 1.0), "retry_after")
            elif kind == "fail_next":
                status = number(spec.get("status", 500), "status", int, 100)
                if status > 599:
                    raise bad("status must be an HTTP status (100-599)")
            queued.append((kind, count, spec))
        for kind, count, spec in queued:  # every spec checked before any fault is queued
            if kind == "burst_429":
                knobs.burst_429(count, float(spec.get("retry_after", 1.0)))
            elif kind == "fail_next":
                knobs.fail_next(count, int(spec.get("status", 500)), spec.get("body"))
            else:
                knobs.garbage_next(count)
        return {"queued": {k: v.get("count", 1) for k, v in body.items()}}

    @admin.delete("/faults")
    async def clear_faults() -> dict[str, bool]:
        knobs.clear_faults()
        return {"cleared": True}

    @admin.post("/clock")
    async def move_clock(request: Request) -> dict[str, float]:
        body = await object_body(request)
        if set(body) != {"advance"}:
            raise bad('Send {"advance": seconds}.')
        seconds = number(body["advance"], "advance", float, 0)
        with state.lock:
            current = state.clock
            if isinstance(current, ShiftedClock):
                current.offset += seconds
            else:
                state.clock = ShiftedClock(current, seconds)
            return {"now": state.clock()}

    return admin
