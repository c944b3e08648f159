"""The Apollo REST API as the reference documents it (paths, bodies, errors, limits, OAuth).

Every API call goes through `guard`: count it, wait (latency knob), authenticate (401 text/plain
for keys, JSON INVALID_ACCESS_TOKEN for OAuth), check scope (403 API_INACCESSIBLE), inject
faults, and take a slot in the endpoint's minute/hour/day windows (429 + retry-after). Rate
headers are added only after authentication passed, as Apollo does.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

from leadbridge.sandbox.apollo.state import WINDOW_WORDS, ApolloState
from leadbridge.sandbox.consent import consent_page, refusal_page

INVALID_KEY = (
    "Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate."
)
BAD_ID = "Parameters misconfigured. {} is not a valid ID"
SORTS = ("account_last_activity_date", "account_created_at", "account_updated_at")


class Reply(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(JSONResponse({"error": message, **extra}, status_code=status))


@dataclass
class Caller:
    user_id: str


def domain_of(raw: Any) -> str | None:
    if not raw:
        return None
    text = str(raw).strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.removeprefix("www.").split("/")[0]
    return text or None


def build_app(state: ApolloState) -> FastAPI:
    app = FastAPI(title="Apollo sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    knobs = state.knobs

    @app.exception_handler(Reply)
    async def _reply(_: Request, exc: Reply) -> Response:
        return exc.response

    @app.middleware("http")
    async def _after(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        headers = getattr(request.state, "rate_headers", None)
        if headers is None:
            return response
        if knobs.latency_after_commit:
            await asyncio.sleep(knobs.latency_after_commit)
        if getattr(request.state, "fail_after_commit", False) and response.status_code < 300:
            response = JSONResponse({"error": "An error occurred. Please try again."}, 500)
        elif knobs._garbage and response.status_code < 300:
            knobs._garbage -= 1
            response = HTMLResponse("<html><body>502 Bad Gateway</body></html>", 200)
        for name, value in headers.items():
            response.headers[name] = value
        return response

    async def guard(
        request: Request, route: str, scope: str | None, master_only: bool = False
    ) -> Caller:
        path = request.url.path
        state.calls[f"{request.method} {'/api' + path if path.startswith('/v1/') else path}"] += 1
        if knobs.latency:
            await asyncio.sleep(knobs.latency)
        with state.lock:
            caller = _authenticate(request, route, scope, master_only)
            if knobs._fail:
                status, body = knobs._fail.pop(0)
                raise Reply(
                    JSONResponse(body or {"error": "Injected failure. Please try again."}, status)
                )
            if knobs._burst:
                wait = knobs._burst.pop(0)
                raise Reply(
                    JSONResponse(
                        {
                            "message": f"The maximum number of api calls allowed for {route} is "
                            f"{knobs.limits.get('minute') or 200} times per minute. Please upgrade "
                            "your plan from https://app.apollo.io/#/settings/plans/upgrade."
                        },
                        429,
                        headers={"retry-after": str(int(wait))},
                    )
                )
            exceeded, retry_after, headers = state.take(route, knobs.limits)
            if exceeded:
                raise Reply(
                    JSONResponse(
                        {
                            "message": f"The maximum number of api calls allowed for {route} is "
                            f"{knobs.limits[exceeded]} times {WINDOW_WORDS[exceeded]}. Please "
                            "upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
                        },
                        429,
                        headers={**headers, "retry-after": str(int(retry_after + 0.999))},
                    )
                )
            failing = knobs.error_rate_5xx and state.rng.random() < knobs.error_rate_5xx
        if failing and not knobs.fail_after_commit:
            raise Reply(
                JSONResponse(
                    {"error": "An error occurred. Please try again."}, 500, headers=headers
                )
            )
        request.state.rate_headers = headers
        request.state.fail_after_commit = bool(failing)
        return caller

    def _authenticate(request: Request, route: str, scope: str | None, master_only: bool) -> Caller:
        key = request.headers.get("x-api-key") or request.query_params.get("api_key")
        bearer = request.headers.get("authorization", "")
        if key:
            record = state.api_keys.get(key)
            if record is None:
                raise Reply(PlainTextResponse(INVALID_KEY, 401))
            if not record["master"] and (master_only or route not in record["scopes"]):
                raise error(
                    403,
                    f"This API key is not authorized to access {route}. Request an API "
                    "key from your administrator that includes this endpoint in its "
                    "configured scope.",
                    error_code="API_INACCESSIBLE",
                )
            return Caller(record["user_id"])
        if bearer.lower().startswith("bearer "):
            token = state.access_tokens.get(bearer[7:].strip())
            if token and knobs.expire_tokens_every:
                state.bearer_calls += 1
                if state.bearer_calls % knobs.expire_tokens_every == 0:
                    token["expires_at"] = 0.0  # the server's clock says it is over
            if token is None or token["revoked"] or token["expires_at"] <= state.clock():
                raise error(401, "Invalid access token", error_code="INVALID_ACCESS_TOKEN")
            if scope and scope not in token["scopes"]:
                raise error(
                    403,
                    f"This access token is not authorized to access {route}. It needs "
                    f"the {scope} scope.",
                    error_code="API_INACCESSIBLE",
                )
            return Caller(token["user_id"])
        raise Reply(PlainTextResponse(INVALID_KEY, 401))

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = await request.json()
        except ValueError as exc:
            raise error(422, "Could not parse the request body as JSON.") from exc
        if not isinstance(data, dict):
            raise error(422, "The request body must be a JSON object.")
        return data

    def check_owner(owner_id: Any) -> None:
        if owner_id is not None and not state.active_user(owner_id):
            raise error(422, BAD_ID.format("owner_id"))

    def check_stage(stage_id: Any) -> None:
        if stage_id is not None and stage_id not in {s["id"] for s in state.stages}:
            raise error(422, BAD_ID.format("account_stage_id"))

    def apply_fields(account: dict[str, Any], fields: dict[str, Any]) -> None:
        for key in (
            "name",
            "owner_id",
            "account_stage_id",
            "phone",
            "raw_address",
            "linkedin_url",
            "facebook_url",
            "twitter_url",
            "salesforce_id",
            "hubspot_id",
            "organization_id",
            "parent_account_id",
            "merged_crm_ids",
        ):
            if key in fields:
                account[key] = fields[key]
        if "domain" in fields:
            account["domain"] = domain_of(fields["domain"])
        if fields.get("phone"):
            digits = "".join(ch for ch in str(fields["phone"]) if ch.isdigit())
            account["sanitized_phone"] = f"+{digits}" if digits else None
        custom = fields.get("typed_custom_fields") or {}
        known = {f["id"] for f in state.custom_fields if f["modality"] == "account"}
        for field_id, value in custom.items():
            if field_id in known:
                account["typed_custom_fields"][field_id] = value
            else:
                account["custom_field_errors"][field_id] = "Custom field not found"
        account["updated_at"] = state.now_iso()
        state.reindex(account)

    def account_or_422(account_id: str, name: str = "account_id") -> dict[str, Any]:
        account = state.accounts.get(account_id)
        if account is None:
            raise error(422, BAD_ID.format(name))
        return account

    api = APIRouter()

    @api.get("/auth/health")
    async def health(request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/auth/health", None)
        return {"healthy": True, "is_logged_in": True}

    @api.get("/users/api_profile")
    async def api_profile(request: Request) -> dict[str, Any]:
        caller = await guard(request, "api/v1/users/api_profile", "read_user_profile")
        user = state.users[caller.user_id]
        return {k: user[k] for k in ("id", "team_id", "first_name", "last_name", "title", "email")}

    @api.get("/users/search")
    async def users_search(request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/users/search", "users_list", master_only=True)
        page, per_page = paging(request.query_params)
        with state.lock:
            users = sorted(state.users.values(), key=lambda u: u["created_at"] + u["id"])
        return {
            "pagination": {
                "page": str(page),
                "per_page": str(per_page),
                "total_entries": len(users),
                "total_pages": max(1, -(-len(users) // per_page)),
            },
            "users": [dict(u) for u in users[(page - 1) * per_page : page * per_page]],
        }

    def paging(params: Any) -> tuple[int, int]:
        try:
            page = max(1, int(params.get("page") or 1))
            per_page = min(knobs.per_page_max, max(1, int(params.get("per_page") or 25)))
        except (TypeError, ValueError) as exc:
            raise error(422, "page and per_page must be numbers") from exc
        return page, per_page

    @api.get("/account_stages")
    async def account_stages(request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/account_stages", "account_stages_list")
        return {"account_stages": [dict(s) for s in state.stages]}

    @api.get("/typed_custom_fields")
    async def typed_custom_fields(request: Request) -> dict[str, Any]:
        # The reference names no OAuth scope for this endpoint: none is required here.
        await guard(request, "api/v1/typed_custom_fields", None)
        return {"typed_custom_fields": [dict(f) for f in state.custom_fields]}

    @api.post("/accounts")
    async def create_account(request: Request) -> dict[str, Any]:
        caller = await guard(request, "api/v1/accounts/create", "account_write")
        fields = {**dict(request.query_params), **await body_of(request)}
        if not fields.get("name") and not fields.get("domain"):
            raise error(422, "Please specify at least a name or domain.")
        with state.lock:
            check_owner(fields.get("owner_id"))
            check_stage(fields.get("account_stage_id"))
            account = state.new_account({}, caller.user_id)  # never dedupes
            apply_fields(account, fields)
            return {"account": dict(account)}

    @api.patch("/accounts/{account_id}")
    async def update_account(account_id: str, request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/accounts/update", "account_update")
        fields = {**dict(request.query_params), **await body_of(request)}
        with state.lock:
            account = account_or_422(account_id)
            check_owner(fields.get("owner_id"))
            check_stage(fields.get("account_stage_id"))
            apply_fields(account, fields)
            return {"account": dict(account)}

    @api.get("/accounts/{account_id}")
    async def view_account(account_id: str, request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/accounts/show", "account_read")
        with state.lock:
            return {"account": dict(account_or_422(account_id, "id"))}

    @api.post("/accounts/bulk_create")
    async def bulk_create(request: Request) -> dict[str, Any]:
        caller = await guard(request, "api/v1/accounts/bulk_create", "account_bulk_create")
        body = await body_of(request)
        items = body.get("accounts")
        if not isinstance(items, list) or not items:
            raise error(
                422, 'Please provide an array of account attributes in the "accounts" parameter.'
            )
        if len(items) > 100:
            raise error(422, "Please limit your array to 100 accounts or fewer.")
        dedupe = bool(body.get("run_dedupe", False))
        with state.lock:
            # One bad owner or stage fails the whole request before anything is written (the
            # stricter reading: the reference documents only whole-request 422s here).
            for item in items:
                if not isinstance(item, dict) or not (item.get("name") or item.get("domain")):
                    raise error(422, "Please specify at least a name or domain.")
                check_owner(item.get("owner_id"))
                check_stage(item.get("account_stage_id"))
            created, existing = [], []
            for item in items:
                match = find_match(item, dedupe)
                if match is not None:
                    existing.append(dict(match))  # returned unmodified
                    continue
                account = state.new_account({}, caller.user_id)
                apply_fields(account, item)
                created.append(dict(account))
        return {"created_accounts": created, "existing_accounts": existing}

    def find_match(item: dict[str, Any], dedupe: bool) -> dict[str, Any] | None:
        """Apollo's bulk_create dedupe: CRM ids always; with run_dedupe also domain,
        organization_id, then name. Two items of one request with the same domain: the second
        matches the first (it is in the index by then)."""
        crm_ids = [
            str(v)
            for v in (
                item.get("salesforce_id"),
                item.get("hubspot_id"),
                *(item.get("merged_crm_ids") or []),
            )
            if v
        ]
        keys: list[tuple[str, Any]] = [("crm", v) for v in crm_ids]
        if dedupe:
            keys += [
                ("domain", domain_of(item.get("domain"))),
                ("org", item.get("organization_id")),
                ("name", str(item.get("name") or "").strip().lower()),
            ]
        for key in keys:
            if key[1]:
                found = state.index.get((key[0], str(key[1])))
                if found:
                    return state.accounts[next(iter(found))]
        return None

    @api.post("/accounts/bulk_update")
    async def bulk_update(request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/accounts/bulk_update", "account_stages_update")
        body = await body_of(request)
        ids, attributes = body.get("account_ids"), body.get("account_attributes")
        if body.get("async") and not ids:
            raise error(422, "Async processing is not permitted.")
        if ids:
            shared = {k: body[k] for k in ("name", "owner_id", "account_stage_id") if k in body}
            attributes = [{"id": i, **shared} for i in ids]
        if not isinstance(attributes, list) or not attributes:
            raise error(422, "Please provide account_ids or account_attributes.")
        if len(attributes) >= 1000 + 1:
            raise error(422, "Please limit your array to fewer than 1000.")
        with state.lock:
            for attrs in attributes:
                account_or_422(str(attrs.get("id")), "id")
                check_owner(attrs.get("owner_id"))
                check_stage(attrs.get("account_stage_id"))
            out = []
            for attrs in attributes:
                account = state.accounts[str(attrs["id"])]
                # bulk_update's documented attributes: no domain among them.
                apply_fields(
                    account,
                    {
                        k: v
                        for k, v in attrs.items()
                        if k in ("name", "owner_id", "account_stage_id", "typed_custom_fields")
                    },
                )
                out.append(dict(account))
        return {"accounts": out}

    @api.post("/accounts/update_owners")
    async def update_owners(request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/accounts/update_owners", "account_owners_update")
        ids = request.query_params.getlist("account_ids[]") or request.query_params.getlist(
            "account_ids"
        )
        owner = request.query_params.get("owner_id")
        if not ids:
            raise error(422, "Required parameter 'account_ids' missing")
        with state.lock:
            check_owner(owner)
            accounts = [account_or_422(i, "account_ids") for i in ids]
            for account in accounts:
                account["owner_id"] = owner
                account["updated_at"] = state.now_iso()
            return {
                "accounts": [
                    {"id": a["id"], "owner_id": a["owner_id"], "crm_owner_id": a["crm_owner_id"]}
                    for a in accounts
                ]
            }

    @api.post("/accounts/search")
    async def search_accounts(request: Request) -> dict[str, Any]:
        await guard(request, "api/v1/accounts/search", "accounts_search")
        body = {**dict(request.query_params), **await body_of(request)}
        sort = body.get("sort_by_field")
        if sort is not None and sort not in SORTS:
            raise error(422, "Invalid sort criteria", skip_alert_dialog=True)
        page, per_page = paging(body)
        query = str(body.get("q_organization_name") or "").lower()
        stage_ids = set(body.get("account_stage_ids") or [])
        with state.lock:
            found = [
                a
                for a in state.accounts.values()
                if (not query or query in str(a.get("name") or "").lower())
                and (not stage_ids or a.get("account_stage_id") in stage_ids)
            ]
            key = {
                "account_created_at": "created_at",
                "account_updated_at": "updated_at",
                "account_last_activity_date": "updated_at",
            }.get(sort or "", "created_at")
            ascending = bool(body.get("sort_ascending")) if sort else False
            found.sort(key=lambda a: (a[key], a["id"]), reverse=not ascending)
            found = found[:50_000]  # the display cap: 500 pages of 100
            page_rows = [dict(a) for a in found[(page - 1) * per_page : page * per_page]]
        return {
            "breadcrumbs": [],
            "partial_results_only": False,
            "has_join": False,
            "disable_eu_prospecting": False,
            "partial_results_limit": 10000,
            "pagination": {
                "page": page,
                "per_page": per_page,
                "total_entries": len(found),
                "total_pages": -(-len(found) // per_page),
            },
            "accounts": page_rows,
            "num_fetch_result": None,
        }

    @api.post("/usage_stats/api_usage_stats")
    async def usage_stats(request: Request) -> dict[str, Any]:
        await guard(
            request, "api/v1/usage_stats/api_usage_stats", "api_usage_stats_read", master_only=True
        )
        out: dict[str, Any] = {}
        with state.lock:
            for (route, window), (_, count) in state.windows.items():
                parts = route.rsplit("/", 1)
                limit = knobs.limits.get(window)
                entry = out.setdefault(f'["{parts[0]}", "{parts[1]}"]', {})
                entry[window] = {
                    "limit": limit,
                    "consumed": count,
                    "left_over": None if limit is None else max(0, limit - count),
                }
        return out

    @api.post("/oauth/token")
    async def token(request: Request) -> Response:
        form = dict(await request.form())
        with state.lock:
            app_ = state.oauth_apps.get(str(form.get("client_id")))
            if app_ is None or app_["secret"] != form.get("client_secret"):
                return JSONResponse(
                    {
                        "error": "invalid_client",
                        "error_description": "Client authentication failed.",
                    },
                    401,
                )
            grant = form.get("grant_type")
            if grant == "authorization_code":
                code = state.codes.pop(str(form.get("code")), None)
                if (
                    code is None
                    or code["client_id"] != form.get("client_id")
                    or code["expires_at"] < state.clock()
                    or ("redirect_uri" in form and form["redirect_uri"] != code["redirect_uri"])
                ):
                    return JSONResponse(
                        {
                            "error": "invalid_grant",
                            "error_description": "The provided authorization grant is invalid, "
                            "expired, revoked, or was issued to another client.",
                        },
                        400,
                    )
                return JSONResponse(
                    state.issue_tokens(code["client_id"], code["user_id"], code["scopes"])
                )
            if grant == "refresh_token":
                old = state.refresh_tokens.get(str(form.get("refresh_token")))
                if old is None or old["revoked"] or old["client_id"] != form.get("client_id"):
                    return JSONResponse(
                        {
                            "error": "invalid_grant",
                            "error_description": "The refresh token is invalid or was revoked.",
                        },
                        400,
                    )
                # Rotation: the old pair dies now.
                old["revoked"] = True
                if old["access"] in state.access_tokens:
                    state.access_tokens[old["access"]]["revoked"] = True
                scopes = old["scopes"]
                if form.get("scope"):
                    scopes = scopes & set(str(form["scope"]).split())
                return JSONResponse(state.issue_tokens(old["client_id"], old["user_id"], scopes))
            return JSONResponse({"error": "unsupported_grant_type"}, 400)

    app.include_router(api, prefix="/api/v1")
    app.include_router(api, prefix="/v1")

    @app.get("/oauth/authorize", response_class=HTMLResponse)
    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        problem = _authorize_problem(params)
        if problem:
            return refusal_page("Cannot authorize", problem)
        return consent_page(
            "Apollo sandbox", "An app asks to access your Apollo team.", params, "approve", "deny"
        )

    @app.post("/oauth/authorize")
    async def authorize_decision(request: Request) -> Response:
        params = {k: str(v) for k, v in (await request.form()).items()}
        problem = _authorize_problem(params)
        if problem:
            return refusal_page("Cannot authorize", problem)
        back: dict[str, str] = {"state": params.get("state", "")}
        if params.get("decision") == "deny":
            back.update(status_code="403", error_message="The user denied access")
        else:
            code = secrets.token_urlsafe(18)
            with state.lock:
                app_ = state.oauth_apps[params["client_id"]]
                always = {"read_user_profile", "app_scopes"}
                wanted = set(params.get("scope", "").split()) or set(app_["scopes"])
                if app_["scopes"] - always:  # registered scopes cap what a user can grant
                    wanted &= app_["scopes"]
                state.codes[code] = {
                    "client_id": params["client_id"],
                    "redirect_uri": params["redirect_uri"],
                    "user_id": state.admin["id"],
                    "scopes": wanted | always,
                    "expires_at": state.clock() + 600,
                }
            back["code"] = code
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", status_code=302)

    def _authorize_problem(params: dict[str, str]) -> str | None:
        app_ = state.oauth_apps.get(params.get("client_id", ""))
        if app_ is None:
            return "Unknown client_id."
        if params.get("redirect_uri") not in app_["redirect_uris"]:
            return "The redirect_uri is not registered for this app."
        if params.get("response_type", "code") != "code":
            return "response_type must be code."
        return None

    return app
