"""What people do in HubSpot's own UI, which the API cannot show: the sandbox's admin surface
under `/__admin__/` (never part of the emulated API), and `Console`, the same actions in process.

A console action is taken as a HubSpot user (an owner's user id; the first active owner when
none is named): records it writes are stamped `CRM_UI` with that user, not `INTEGRATION`.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request

from leadbridge.sandbox.hubspot import errors, merging, writes
from leadbridge.sandbox.hubspot.errors import JSON
from leadbridge.sandbox.hubspot.guard import Context
from leadbridge.sandbox.hubspot.objects import object_type
from leadbridge.sandbox.hubspot.portal import Record, Writer
from leadbridge.sandbox.hubspot.render import record_json
from leadbridge.sandbox.hubspot.webhooks import Webhooks


class Console:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.portal = ctx.portal

    def user(self, user_id: str | None = None) -> Writer:
        """A HubSpot user by user id (or owner id); the first active owner by default."""
        with self.portal.lock:
            owners = list(self.portal.owners.values())
            if not owners:
                owners = [self.portal.add_owner("admin@portal.example", "Portal", "Admin")]
            chosen = next(
                (o for o in owners if user_id in (o["id"], str(o["userIdIncludingInactive"]))),
                None,
            )
            if chosen is None:
                if user_id:
                    raise errors.validation(f"no HubSpot user {user_id}")
                chosen = next(o for o in owners if not o["archived"])
            uid = str(chosen["userIdIncludingInactive"])
            return Writer("CRM_UI", uid, uid)

    def record(self, type_name: str, record_id: str) -> Record:
        kind = object_type(type_name)
        found = self.portal.get(kind.name, record_id) or self.portal.get(
            kind.name, record_id, archived=True
        )
        if found is None:
            raise errors.not_found_html()
        return found

    def view(self, type_name: str, record_id: str) -> dict[str, Any]:
        """One record with every property set, its history and its associations."""
        with self.portal.lock:
            found = self.record(type_name, record_id)
            out = record_json(self.portal, found, None, sorted(found.history))
            out["associations"] = {
                target: [
                    {"id": i, "types": t}
                    for i, t in self.portal.associations.targets(found.type, found.id, target)
                ]
                for target in ("contacts", "companies", "deals")
            }
            return copy.deepcopy(out)

    def create(self, type_name: str, values: dict[str, Any], user: str | None = None) -> Record:
        kind = object_type(type_name)
        writer = self.user(user)
        with self.portal.lock:
            return writes.create(self.portal, kind, self.portal.clean(kind, values), writer)

    def update(
        self, type_name: str, record_id: str, values: dict[str, Any], user: str | None = None
    ) -> Record:
        kind = object_type(type_name)
        writer = self.user(user)
        with self.portal.lock:
            found = self.portal.get(kind.name, record_id)
            if found is None:
                raise errors.not_found_html()
            writes.update(self.portal, kind, found, self.portal.clean(kind, values, found), writer)
            return found

    def archive(self, type_name: str, record_id: str, user: str | None = None) -> None:
        kind = object_type(type_name)
        writer = self.user(user)
        with self.portal.lock:
            found = self.portal.get(kind.name, record_id)
            if found is None:
                raise errors.not_found_html()
            writes.archive(self.portal, kind, found, writer)

    def restore(self, type_name: str, record_id: str, user: str | None = None) -> Record:
        kind = object_type(type_name)
        writer = self.user(user)
        with self.portal.lock:
            return writes.restore(self.portal, kind, record_id, writer)

    def merge(self, type_name: str, primary: str, other: str, user: str | None = None) -> Record:
        kind = object_type(type_name)
        writer = self.user(user)
        with self.portal.lock:
            return merging.merge(self.portal, kind, primary, other, writer)

    def gdpr_delete(self, type_name: str, record_id: str, user: str | None = None) -> None:
        kind = object_type(type_name)
        writer = self.user(user)
        with self.portal.lock:
            merging.gdpr_delete(self.portal, kind, self.record(type_name, record_id), writer)

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int | None = None
    ) -> None:
        source, target = object_type(from_type), object_type(to_type)
        with self.portal.lock:
            for kind, object_id in ((source, from_id), (target, to_id)):
                if self.portal.get(kind.name, object_id) is None:
                    raise errors.validation(f"{kind.legacy}={object_id} is not valid")
            from leadbridge.sandbox.hubspot.associations import DEFAULTS

            chosen = type_id or DEFAULTS[(source.name, target.name)]
            why = self.portal.associations.check(source.name, target.name, chosen, None)
            if why:
                raise errors.validation(why)
            self.portal.associations.add(source.name, from_id, target.name, to_id, chosen)
            for kind, object_id in ((source, from_id), (target, to_id)):
                linked = self.portal.get(kind.name, object_id)
                if linked is not None:
                    writes.sync_primary_company(self.portal, linked)


def admin_router(ctx: Context, console: Console, webhooks: Webhooks) -> APIRouter:
    admin = APIRouter(prefix="/__admin__")
    portal, knobs = ctx.portal, ctx.knobs

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            body = await request.json() if raw else {}
        except ValueError:
            raise errors.validation("the body must be JSON") from None
        if not isinstance(body, dict):
            raise errors.validation("the body must be a JSON object")
        return body

    @admin.get("/portal")
    async def summary() -> Any:
        with portal.lock:
            counts = {name: portal.count(name) for name in portal.records}
            return {"portalId": portal.portal_id, "counts": counts, "knobs": knobs.view()}

    @admin.get("/objects/{type_name}")
    async def list_records(type_name: str, archived: bool = False) -> Any:
        kind = object_type(type_name)
        with portal.lock:
            pool = [r for r in portal.records[kind.name].values() if r.archived == archived]
            return {"results": [record_json(portal, r, None) for r in pool]}

    @admin.get("/objects/{type_name}/{record_id}")
    async def read(type_name: str, record_id: str) -> Any:
        return console.view(type_name, record_id)

    @admin.post("/objects/{type_name}")
    async def create(type_name: str, request: Request) -> Any:
        body = await body_of(request)
        made = console.create(type_name, body.get("properties") or {}, body.get("user"))
        return JSON(console.view(type_name, made.id), 201)

    @admin.patch("/objects/{type_name}/{record_id}")
    async def edit(type_name: str, record_id: str, request: Request) -> Any:
        body = await body_of(request)
        console.update(type_name, record_id, body.get("properties") or {}, body.get("user"))
        return console.view(type_name, record_id)

    @admin.delete("/objects/{type_name}/{record_id}")
    async def delete(type_name: str, record_id: str, user: str | None = None) -> Any:
        console.archive(type_name, record_id, user)
        return {"archived": record_id}

    @admin.post("/objects/{type_name}/{record_id}/restore")
    async def restore(type_name: str, record_id: str, user: str | None = None) -> Any:
        return console.view(type_name, console.restore(type_name, record_id, user).id)

    @admin.post("/merge/{type_name}")
    async def merge(type_name: str, request: Request) -> Any:
        body = await body_of(request)
        merged = console.merge(
            type_name, str(body.get("primary")), str(body.get("secondary")), body.get("user")
        )
        return console.view(type_name, merged.id)

    @admin.post("/gdpr-delete/{type_name}/{record_id}")
    async def gdpr(type_name: str, record_id: str) -> Any:
        console.gdpr_delete(type_name, record_id)
        return {"deleted": record_id}

    @admin.post("/associations")
    async def associate(request: Request) -> Any:
        body = await body_of(request)
        console.associate(
            str(body["from_type"]), str(body["from_id"]), str(body["to_type"]),
            str(body["to_id"]), body.get("type_id"),
        )  # fmt: skip
        return {"associated": True}

    @admin.post("/owners")
    async def add_owner(request: Request) -> Any:
        body = await body_of(request)
        with portal.lock:
            return portal.add_owner(
                str(body.get("email") or ""),
                str(body.get("firstName") or ""),
                str(body.get("lastName") or ""),
                bool(body.get("archived", False)),
            )

    @admin.post("/owners/{owner_id}/archive")
    async def archive_owner(owner_id: str) -> Any:
        with portal.lock:
            if owner_id not in portal.owners:
                raise errors.not_found_html()
            return portal.archive_owner(owner_id)

    @admin.post("/seed")
    async def seed(request: Request) -> Any:
        from leadbridge.sandbox.hubspot.seed import seed_portal

        body = await body_of(request)
        report = seed_portal(
            console,
            companies=int(body.get("companies", 100)),
            contacts_per_company=int(body.get("contacts_per_company", 3)),
            deals=int(body.get("deals", 20)),
            duplicate_rate=float(body.get("duplicate_rate", 0.03)),
            seed=int(body.get("seed", 1)),
        )
        return vars(report)

    @admin.get("/knobs")
    async def get_knobs() -> Any:
        return knobs.view()

    @admin.post("/knobs")
    async def set_knobs(request: Request) -> Any:
        body = await body_of(request)
        try:
            if "tier" in body:
                knobs.set_tier(str(body.pop("tier")))
            if "burst_429" in body:
                knobs.burst_429(int(body.pop("burst_429")))
            if "fail_next" in body:
                knobs.fail_next(int(body.pop("fail_next")), int(body.pop("fail_status", 502)))
            if "garbage_next" in body:
                knobs.garbage_next(int(body.pop("garbage_next")))
            knobs.update(body)
        except (ValueError, TypeError) as exc:
            raise errors.validation(str(exc)) from None
        return knobs.view()

    @admin.post("/expire-tokens")
    async def expire_tokens() -> Any:
        with portal.lock:
            return {"expired": ctx.credentials.expire_all(portal.clock())}

    @admin.get("/calls")
    async def calls() -> Any:
        with portal.lock:
            return dict(ctx.calls)

    @admin.put("/webhooks")
    async def webhook_settings(request: Request) -> Any:
        body = await body_of(request)
        app_id = str(body.get("appId") or "")
        with portal.lock:
            secret = ctx.credentials.secret_of(app_id)
        if secret is None:
            raise errors.validation(f"no app {app_id}: register an app or issue a token first")
        try:
            webhooks.configure(str(body.get("targetUrl") or ""), app_id, secret)
        except ValueError as exc:
            raise errors.validation(str(exc)) from None
        return {"targetUrl": webhooks.target_url, "appId": app_id}

    @admin.post("/webhooks/subscriptions")
    async def subscribe(request: Request) -> Any:
        body = await body_of(request)
        try:
            made = webhooks.subscribe(
                str(body.get("eventType") or ""), body.get("propertyName"), portal.now_ms()
            )
        except ValueError as exc:
            raise errors.validation(str(exc)) from None
        return JSON(made, 201)

    @admin.get("/webhooks/subscriptions")
    async def subscriptions() -> Any:
        return {"results": list(webhooks.subscriptions.values())}

    @admin.delete("/webhooks/subscriptions/{sub_id}")
    async def unsubscribe(sub_id: int) -> Any:
        return {"deleted": webhooks.unsubscribe(sub_id)}

    @admin.get("/webhooks/deliveries")
    async def deliveries() -> Any:
        return {"results": list(webhooks.deliveries)}

    return admin
