"""Account endpoints: create, update, view, search, bulk create/update, update owners.

Choices where the reference is silent (the stricter reading, each noted where it is made):
- An owner must be an active user of the team: an unknown *or deleted* user is a 422.
- bulk_create checks every item before writing any: one bad owner, stage or nameless item fails
  the whole request with 422 and nothing is written (a client must isolate the bad item).
- Under run_dedupe, a later item of the same request matches an account an earlier item just
  created (it comes back in existing_accounts); CRM ids do so in both modes.
- bulk_update and update_owners leave unknown (well-formed) ids out of their answer; a malformed
  id is a 422. A client must compare the answer with what it sent.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox import jsonbody
from leadbridge.sandbox.apollo import endpoints as ep
from leadbridge.sandbox.apollo.errors import bad_id, error
from leadbridge.sandbox.apollo.fields import (
    BULK_UPDATE_FIELDS,
    SHARED_UPDATE_FIELDS,
    account_input,
    as_bool,
    as_list,
    as_text,
    is_object_id,
    paging,
)
from leadbridge.sandbox.apollo.guard import Guard
from leadbridge.sandbox.apollo.state import ApolloState

SORTS = {
    "account_last_activity_date": "last_activity_date",
    "account_created_at": "created_at",
    "account_updated_at": "updated_at",
}
BULK_CREATE_MAX = 100
BULK_UPDATE_MAX = 1000
MAX_PAGES = 500
SEARCH_EXTRAS: dict[str, Any] = {
    "contact_emailer_campaign_ids": [],
    "contact_campaign_status_tally": {},
}


def snapshot(account: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(account)


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = jsonbody.parse(raw)
    except jsonbody.TooDeep as exc:  # Rails' JSON::NestingError is a 400 Bad Request
        raise error(400, f"Could not parse the request body as JSON: {exc}") from None
    except jsonbody.BadJson:
        raise error(422, "Could not parse the request body as JSON.") from None
    if not isinstance(data, dict):
        raise error(422, "The request body must be a JSON object.")
    return data


def query_params(request: Request) -> dict[str, Any]:
    """Query parameters, with `x[]=a&x[]=b` read as the array x."""
    out: dict[str, Any] = {}
    for key in request.query_params:
        if key.endswith("[]"):
            out[key[:-2]] = request.query_params.getlist(key)
        else:
            out[key] = request.query_params[key]
    return out


async def all_params(request: Request) -> dict[str, Any]:
    return {**query_params(request), **await json_body(request)}


def breadcrumbs(query: str, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The filters echoed back, as Apollo's search example shows them."""
    crumbs = []
    if query:
        crumbs.append(
            {
                "label": "Company Name",
                "signal_field_name": "q_organization_name",
                "value": query,
                "display_name": query,
            }
        )
    for stage in stages:
        crumbs.append(
            {
                "label": "Account Stage",
                "signal_field_name": "account_stage_ids",
                "value": stage["id"],
                "display_name": stage["display_name"],
            }
        )
    return crumbs


def accounts_router(state: ApolloState, guard: Guard) -> APIRouter:
    api = APIRouter()
    knobs = state.knobs

    def check_refs(fields: dict[str, Any]) -> None:
        """Owner and stage must exist in this team (call under the lock)."""
        owner = fields.get("owner_id")
        if owner and not state.active_user(owner):
            raise bad_id(owner)
        stage = fields.get("account_stage_id")
        if stage and stage not in state.stage_ids():
            raise bad_id(stage)
        for key in ("owner_id", "account_stage_id"):
            if key in fields and not fields[key]:
                fields[key] = None  # an empty id clears the field

    def require_name_or_domain(fields: dict[str, Any]) -> None:
        if not fields.get("name") and not fields.get("domain"):
            raise error(422, "Please specify at least a name or domain.")

    @api.post("/accounts")
    async def create_account(request: Request) -> dict[str, Any]:
        await guard(request, ep.CREATE)
        fields = account_input(await all_params(request))
        require_name_or_domain(fields)
        with state.lock:
            check_refs(fields)
            account = state.new_account(fields)  # never dedupes
            return {"account": snapshot(account)}

    @api.patch("/accounts/{account_id}")
    async def update_account(account_id: str, request: Request) -> dict[str, Any]:
        await guard(request, ep.UPDATE)
        fields = account_input(await all_params(request))
        with state.lock:
            account = state.accounts.get(account_id)
            if account is None:
                raise error(422, "Parameters misconfigured. account_id is not a valid ID")
            check_refs(fields)
            require_name_or_domain({**account, **fields})
            state.apply(account, fields)
            return {"account": snapshot(account), "labels": []}

    @api.get("/accounts/{account_id}")
    async def view_account(account_id: str, request: Request) -> dict[str, Any]:
        await guard(request, ep.SHOW)
        with state.lock:
            account = state.accounts.get(account_id)
            if account is None:
                raise error(422, "Parameters misconfigured. id is not a valid ID")
            return {"account": snapshot(account)}

    @api.post("/accounts/bulk_create")
    async def bulk_create(request: Request) -> dict[str, Any]:
        caller = await guard(request, ep.BULK_CREATE)
        body = await json_body(request)
        items = body.get("accounts")
        if not isinstance(items, list) or not items:
            raise error(
                422, 'Please provide an array of account attributes in the "accounts" parameter.'
            )
        if len(items) > BULK_CREATE_MAX:
            raise error(422, "Please limit your array to 100 accounts or fewer.")
        run_dedupe = as_bool(body.get("run_dedupe"), "run_dedupe")
        parsed = [account_input(item) for item in items]
        created: list[dict[str, Any]] = []
        existing: list[dict[str, Any]] = []
        with state.lock:
            for fields in parsed:  # all or nothing: check every item before writing any
                require_name_or_domain(fields)
                check_refs(fields)
            for fields in parsed:
                match = state.find_match(fields, run_dedupe)
                if match is not None:
                    existing.append(snapshot(match))  # returned unmodified
                    continue
                fields.setdefault("owner_id", caller.user_id)  # documented default
                created.append(snapshot(state.new_account(fields)))
        return {"created_accounts": created, "existing_accounts": existing}

    @api.post("/accounts/bulk_update")
    async def bulk_update(request: Request) -> dict[str, Any]:
        await guard(request, ep.BULK_UPDATE)
        body = await json_body(request)
        run_async = as_bool(body.get("async"), "async")
        updates: list[tuple[str, dict[str, Any]]]
        if body.get("account_attributes") is not None:
            attributes = body["account_attributes"]
            if run_async:
                raise error(422, "Async processing is not permitted.")
            if not isinstance(attributes, list) or not attributes:
                raise error(422, "Please provide an array of account attributes.")
            updates = []
            for item in attributes:
                fields = account_input(item, ("id", *BULK_UPDATE_FIELDS))
                updates.append((str(fields.pop("id", None) or ""), fields))
        else:
            ids = as_list(body.get("account_ids"), "account_ids")
            if not ids:
                raise error(422, "Please provide account_ids or account_attributes.")
            shared = account_input(body, SHARED_UPDATE_FIELDS)
            # [U] async with account_ids is accepted and done at once (the answer is the same).
            updates = [(account_id, dict(shared)) for account_id in ids]
        if len(updates) > BULK_UPDATE_MAX:
            raise error(422, "Please limit your array to fewer than 1000.")
        with state.lock:
            for account_id, fields in updates:
                if not is_object_id(account_id):
                    raise bad_id(account_id or "id")
                check_refs(fields)
            out = []
            for account_id, fields in updates:
                account = state.accounts.get(account_id)
                if account is None:
                    continue  # left out of the answer
                state.apply(account, fields)
                out.append(snapshot(account))
        return {"accounts": out}

    @api.post("/accounts/update_owners")
    async def update_owners(request: Request) -> dict[str, Any]:
        await guard(request, ep.UPDATE_OWNERS)
        params = query_params(request)
        ids = as_list(params.get("account_ids"), "account_ids")
        if not ids:
            raise error(422, "Required parameter 'account_ids' missing")
        owner = as_text(params.get("owner_id"), "owner_id")
        if not owner:
            raise error(422, "Required parameter 'owner_id' missing")
        with state.lock:
            bad = next((i for i in ids if not is_object_id(i)), None)
            if bad is not None:
                raise bad_id(bad)
            check_refs({"owner_id": owner})
            out = []
            for account_id in ids:
                account = state.accounts.get(account_id)
                if account is None:
                    continue
                state.apply(account, {"owner_id": owner})
                out.append(
                    {"id": account_id, "owner_id": owner, "crm_owner_id": account["crm_owner_id"]}
                )
        return {"accounts": out}

    @api.post("/accounts/search")
    async def search_accounts(request: Request) -> dict[str, Any]:
        await guard(request, ep.SEARCH)
        params = await all_params(request)
        sort = as_text(params.get("sort_by_field"), "sort_by_field") or None
        if sort is not None and sort not in SORTS:
            raise error(422, "Invalid sort criteria", skip_alert_dialog=True)
        page, per_page = paging(params, knobs.per_page_max)
        query = (as_text(params.get("q_organization_name"), "q_organization_name") or "").strip()
        stage_ids = as_list(params.get("account_stage_ids"), "account_stage_ids")
        label_ids = as_list(params.get("account_label_ids"), "account_label_ids")
        # sort_ascending only counts together with sort_by_field (reference B3).
        ascending = as_bool(params.get("sort_ascending"), "sort_ascending") and sort is not None
        with state.lock:
            stages = {s["id"]: s for s in state.stages}
            if any(stage_id not in stages for stage_id in stage_ids):
                raise error(
                    422,
                    "Your search parameters are entered incorrectly. Did you try to edit the "
                    "URL directly?",
                )
            found = [
                a
                for a in state.accounts.values()
                if (not query or query.lower() in str(a.get("name") or "").lower())
                and (not stage_ids or a.get("account_stage_id") in stage_ids)
                and (not label_ids or set(label_ids) & set(a.get("label_ids") or []))
            ]
            key = SORTS[sort] if sort else "created_at"
            found.sort(key=lambda a: (a.get(key) or "", a["id"]), reverse=not ascending)
            # The display cap: past 50,000 records (500 pages) the pages come back empty, while
            # total_entries still counts everything (a client paging by total_pages loses rows).
            visible = found[: knobs.display_cap] if page <= MAX_PAGES else []
            rows = [
                {**snapshot(a), **copy.deepcopy(SEARCH_EXTRAS), "num_contacts": 0}
                for a in visible[(page - 1) * per_page : page * per_page]
            ]
            crumbs = breadcrumbs(query, [stages[i] for i in stage_ids])
        return {
            "breadcrumbs": crumbs,
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
            "accounts": rows,
            "num_fetch_result": None,
        }

    return api
