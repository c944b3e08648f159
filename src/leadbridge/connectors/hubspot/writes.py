"""HubSpot's batch endpoints, one batch of ≤ 100 inputs at a time, each input's outcome set on
its `Item` (matching.py tells the answers apart).

Every input carries its own `objectWriteTraceId`, so a bad one comes back as a 207 error for
that input alone instead of failing its whole batch (reference A3). Should HubSpot still refuse
a whole batch (a 400), it is sent again in halves until the inputs that cause it stand alone.

- `create`: sent once, never resent after an answer that may have followed a landed write
  (companies and contacts without an e-mail have no unique key: the engine's intent repairs).
- `create_keyed` (contacts with an e-mail): resent freely; an e-mail HubSpot already holds
  (409, "Existing ID: N") hands that contact back — created by our own lost attempt when the
  resend says so and its create date is after our first send (`created`), else adopted: its
  values before ours are read (the before-image undo restores), then it is updated.
- `update`, `upsert` (by e-mail or a unique property), `archive`: idempotent, resent freely. An
  update of a merged-away id lands on the merged record: its id is the result's `remote_id`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import (
    AccessDeniedError,
    AuthError,
    BudgetExhaustedError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from leadbridge.connectors.http import Delivery
from leadbridge.connectors.hubspot import associations
from leadbridge.connectors.hubspot.catalog import COMPANY_FIELD, MERGED
from leadbridge.connectors.hubspot.client import HubSpotClient, error_for, existing_id
from leadbridge.connectors.hubspot.matching import UNSET, Item, match_by_values
from leadbridge.policy.schema import ObjectSchema

# Errors about the connection, not a record: the write stops and the engine defers the run.
CONNECTION_LEVEL = (AuthError, AccessDeniedError, BudgetExhaustedError, RateLimitedError)
Send = Callable[[list[Item]], Awaitable[None]]
Check = Callable[[Item], PermanentError | None]


def item_error(raw: dict[str, Any]) -> ConnectorError:
    message = str(raw.get("message", ""))
    if associations.INVALID.match(message):
        return associations.invalid(message)
    return error_for(raw.get("category"), message)


def _ok(item: Item, remote_id: str, created: bool, record: dict[str, Any] | None) -> None:
    item.result = WriteResult(item.ref, remote_id, created=created, record=record)


def _fail(item: Item, error: ConnectorError) -> None:
    item.result = WriteResult(item.ref, item.record_id, error=error)


def _record(result: dict[str, Any]) -> dict[str, Any]:
    return {**(result.get("properties") or {}), "id": str(result.get("id"))}


def _by_trace(items: Sequence[Item], errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sets the 207 errors that name their input's trace id; the others are returned."""
    traced = {i.trace: i for i in items}
    rest = []
    for raw in errors:
        traces = (raw.get("context") or {}).get("objectWriteTraceId") or []
        named = [traced[t] for t in traces if t in traced]
        for item in named:
            _fail(item, item_error(raw))
        if not named:
            rest.append(raw)
    return rest


class Writes:
    def __init__(
        self,
        client: HubSpotClient,
        object_type: str,
        schema: ObjectSchema,
        concurrency: int,
        check: Check,
    ) -> None:
        self.client = client
        self.type = object_type
        self.schema = schema
        self.concurrency = max(1, concurrency)
        self.check = check  # what fails a record before it is sent (validation)

    async def run(self, jobs: Sequence[tuple[list[Item], Send]]) -> None:
        """Each (batch, send), a few at once. A connection-level error starts no new batch
        and is raised once the batches under way are done."""
        gate = asyncio.Semaphore(self.concurrency)
        stopped: list[ConnectorError] = []

        async def one(batch: list[Item], send: Send) -> None:
            async with gate:
                if stopped:
                    return
                for item in batch:
                    problem = self.check(item)
                    if problem is not None:
                        _fail(item, problem)
                batch = [i for i in batch if i.result is None]
                try:
                    if batch:
                        await self._narrowing(batch, send)
                except CONNECTION_LEVEL as exc:
                    stopped.append(exc)

        await asyncio.gather(*(one(batch, send) for batch, send in jobs))
        if stopped:
            raise stopped[0]

    async def _narrowing(self, batch: list[Item], send: Send) -> None:
        try:
            await send(batch)
        except CONNECTION_LEVEL:
            raise
        except PermanentError as exc:
            if len(batch) == 1:
                _fail(batch[0], exc)
                return
            half = len(batch) // 2
            await self._narrowing(batch[:half], send)
            await self._narrowing(batch[half:], send)
        except TransientError as exc:
            for item in batch:
                _fail(item, exc)

    # --- create -----------------------------------------------------------------------------------

    def _inputs(self, batch: list[Item]) -> list[dict[str, Any]]:
        out = []
        for item in batch:
            one: dict[str, Any] = {"properties": item.props, "objectWriteTraceId": item.trace}
            if item.company not in (UNSET, "", None):
                one["associations"] = [associations.primary_input(item.company)]
            out.append(one)
        return out

    async def create(self, batch: list[Item]) -> None:
        try:
            body, _ = await self.client.batch(self.type, "create", self._inputs(batch))
        except TransientError as exc:
            if isinstance(exc, RateLimitedError):
                raise
            raise TransientError(
                f"{exc.message}; the records may have been created: the next run matches them "
                "by their values before creating any again",
                status=exc.status,
                code=exc.code,
            ) from exc
        _by_trace(batch, list(body.get("errors") or []))  # every input carries its trace
        waiting = [i for i in batch if i.result is None]
        pairs, unmatched = match_by_values(self.schema, waiting, list(body.get("results") or []))
        for item, result in pairs:
            _ok(item, str(result["id"]), True, _record(result))
        for item in unmatched:
            _fail(
                item,
                TransientError(
                    "HubSpot created records this connector could not tell apart by their "
                    "values; the next run matches them before creating any again"
                ),
            )

    async def create_keyed(self, batch: list[Item]) -> None:
        """Contacts with an e-mail: resent freely, a taken e-mail hands its contact back."""
        body, delivery = await self.client.batch(
            self.type, "create", self._inputs(batch), resend=True
        )
        by_email = {i.email: i for i in batch}
        for result in body.get("results") or []:
            email = str((result.get("properties") or {}).get("email") or "").lower()
            if email in by_email:
                _ok(by_email[email], str(result["id"]), True, _record(result))
        taken: dict[str, Item] = {}
        traced = {i.trace: i for i in batch}
        for raw in body.get("errors") or []:
            error = item_error(raw)
            holder = existing_id(error)
            for trace in (raw.get("context") or {}).get("objectWriteTraceId") or []:
                item = traced.get(trace)
                if item is None:
                    continue
                if holder is not None:
                    taken[holder] = item
                else:
                    _fail(item, error)
        if taken:
            await self._hand_back(taken, delivery)
        for item in batch:
            if item.result is None:
                _fail(item, TransientError("HubSpot's answer did not name this contact"))

    async def _hand_back(self, taken: dict[str, Item], delivery: Delivery) -> None:
        names = sorted({n for i in taken.values() for n in i.props} | {"createdate", COMPANY_FIELD})
        found = await self.read(list(taken), [*names, "hs_object_source"])
        landed = delivery.landed_since()
        adopt: list[Item] = []
        before: dict[int, dict[str, Any]] = {}
        for holder, item in taken.items():
            props = found.get(holder)
            if props is None:
                _fail(item, TransientError(f"contact {holder} holds this e-mail but is gone"))
            elif _ours(props.get("createdate"), props.get("hs_object_source"), landed):
                _ok(item, holder, True, props)  # made by our first attempt, company included
            else:
                item.record_id, before[item.index] = holder, props
                adopt.append(item)
        await self._narrowing(adopt, self.update)
        await self.set_companies([i for i in adopt if i.result is not None and i.result.ok])
        for item in adopt:
            if item.result is not None and item.result.ok:
                # Adopted: its values before ours are the before-image undo restores.
                _ok(item, str(item.result.remote_id), False, before[item.index])

    # --- update, upsert, archive -------------------------------------------------------------

    async def update(self, batch: list[Item]) -> None:
        bare = [i for i in batch if not i.props]
        for item in bare:  # nothing but the company changes: no property call
            _ok(item, str(item.record_id), False, None)
        batch = [i for i in batch if i.props]
        if not batch:
            return
        inputs = [
            {"id": i.record_id, "properties": i.props, "objectWriteTraceId": i.trace} for i in batch
        ]
        body, _ = await self.client.batch(self.type, "update", inputs, resend=True)
        for raw in _by_trace(batch, list(body.get("errors") or [])):
            for gone in (raw.get("context") or {}).get("ids") or []:
                for item in batch:
                    if item.record_id == str(gone) and item.result is None:
                        _fail(item, item_error(raw))
        by_id = {str(i.record_id): i for i in batch if i.result is None}
        for result in body.get("results") or []:
            updated = by_id.pop(str(result["id"]), None)
            if updated is not None:
                _ok(updated, str(result["id"]), False, _record(result))
        if by_id:  # merged away: the update landed on the merged record, under a new id
            survivors = await self.survivors(list(by_id))
            for old, item in by_id.items():
                new = survivors.get(old)
                if new is None:
                    _fail(item, TransientError("HubSpot's answer did not name this record"))
                else:
                    _ok(item, new, False, None)

    async def upsert(self, batch: list[Item], id_property: str) -> None:
        inputs = [
            {
                "id": i.props[id_property],
                "idProperty": id_property,
                "properties": i.props,
                "objectWriteTraceId": i.trace,
            }
            for i in batch
        ]
        body, delivery = await self.client.batch(self.type, "upsert", inputs, resend=True)
        landed = delivery.landed_since()
        _by_trace(batch, list(body.get("errors") or []))  # every input carries its trace
        keyed = {self._key(id_property, i.props[id_property]): i for i in batch}
        for result in body.get("results") or []:
            value = (result.get("properties") or {}).get(id_property)
            done = keyed.get(self._key(id_property, value))
            if done is not None and done.result is None:
                # A resend finds what its lost first attempt made: that is still a create.
                props = result.get("properties") or {}
                made = bool(result.get("new")) or _ours(
                    result.get("createdAt"), props.get("hs_object_source"), landed
                )
                _ok(done, str(result["id"]), made, _record(result))
        for item in batch:
            if item.result is None:
                _fail(item, TransientError("HubSpot's answer did not name this record"))

    @staticmethod
    def _key(id_property: str, value: Any) -> str:
        text = str(value or "").strip()
        return text.lower() if id_property == "email" else text

    async def archive(self, batch: list[Item]) -> None:
        inputs = [{"id": i.record_id} for i in batch]
        await self.client.batch(self.type, "archive", inputs, resend=True)
        for item in batch:  # 204: HubSpot answers nothing per input
            _ok(item, str(item.record_id), False, None)

    # --- reads the writes need ---------------------------------------------------------------

    async def read(self, ids: list[str], names: list[str]) -> dict[str, dict[str, Any]]:
        """Current properties by id (ids that resolve to a merged record answer under it)."""
        body, _ = await self.client.batch(
            self.type, "read", [{"id": i} for i in ids], resend=True, properties=names
        )
        return {str(r["id"]): _record(r) for r in body.get("results") or []}

    async def survivors(self, ids: list[str]) -> dict[str, str]:
        """Merged-away id -> the merged record's id."""
        found = await self.read(ids, [MERGED])
        out: dict[str, str] = {}
        for new, props in found.items():
            for old in str(props.get(MERGED) or "").split(";"):
                if old in ids:
                    out[old] = new
        return out

    # --- the primary company (associations.py) -----------------------------------------------

    async def set_companies(self, items: list[Item]) -> None:
        """The primary company of written contacts that were given one ("" removes it)."""
        given = [i for i in items if i.company is not UNSET]
        await associations.set_primary(self.client, [i for i in given if i.company])
        await associations.clear_primary(
            self.read, self.client, [i for i in given if not i.company]
        )


def _ours(created: Any, source: Any, landed: datetime | None) -> bool:
    """Made by the first attempt of a request that was sent again: created after that attempt
    may have landed, through the API (HubSpot stamps API creates INTEGRATION)."""
    when = _parse(created)
    return (
        landed is not None
        and when is not None
        and when >= landed
        and source in (None, "INTEGRATION")
    )


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
