"""Account values -> Apollo accounts, through the bulk endpoints, one result per input.

Creates go through bulk_create with run_dedupe, so an account Apollo already has is adopted,
never duplicated; a resend after a lost answer adopts what the first attempt made. Apollo's
dedupe also matches by *name* (in an order Apollo does not document), which can pair two
different companies: an existing account is adopted only when its domain is ours (or it has
none). Items that met a same-name account of another domain are sent again, in one more
bulk_create, under a name unique to their domain ("Acme (acme.com)"), so that dedupe can only
match them by domain; what that creates is renamed by the same bulk_update that aligns adopted
accounts. At most two extra calls per batch, and safe whatever Apollo's match order.

A 422 for a batch is bisected down to the record(s) that cause it, so one bad record fails
alone (ARCHITECTURE principle 8). Connection-level errors (auth, access, budget) propagate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leadbridge.connectors.apollo.client import BULK_UPDATE_MAX, ApolloClient, chunked
from leadbridge.connectors.base import WriteResult
from leadbridge.connectors.errors import (
    ConnectorError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from leadbridge.normalize import normalize_domain


def to_apollo(values: dict[str, Any], website_field_id: str | None) -> dict[str, Any]:
    """An account's values (name, domain, owner_id, website) as Apollo takes them: the website
    has no account field of its own, it goes into the custom field `website_field_id`."""
    body = {k: v for k, v in values.items() if k != "website"}
    if website_field_id and values.get("website"):
        body["typed_custom_fields"] = {website_field_id: values["website"]}
    return body


@dataclass(frozen=True)
class CreateItem:
    ref: Any
    values: dict[str, Any]  # name, domain, owner_id, website

    @property
    def domain(self) -> str | None:
        return domain_key(self.values.get("domain"))


@dataclass(frozen=True)
class UpdateItem:
    ref: Any
    remote_id: str
    values: dict[str, Any]  # the fields to change (a domain among them goes by PATCH)


class ApolloAccounts:
    def __init__(self, client: ApolloClient, *, website_field_id: str | None = None) -> None:
        self.client = client
        self.website_field_id = website_field_id

    # --- creates --------------------------------------------------------------------------------

    async def create(self, items: Sequence[CreateItem], batch_size: int) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        for chunk in chunked(list(enumerate(items)), max(1, min(batch_size, 100))):
            for index, result in await self._create_chunk(chunk):
                results[index] = result
        return [results[i] for i in range(len(items))]

    async def _create_chunk(
        self, chunk: list[tuple[int, CreateItem]], *, probe: bool = False
    ) -> list[tuple[int, WriteResult]]:
        """One bulk_create. With `probe`, each account is sent under a name unique to its
        domain, so Apollo's dedupe can match it only by domain (see the module docstring)."""
        body = []
        for _, item in chunk:
            account = to_apollo(item.values, self.website_field_id)
            if probe:
                account["name"] = probe_name(item.values)
            body.append(account)
        try:
            answer = await self.client.bulk_create_accounts(body, run_dedupe=True)
            created, existing = answer.created, answer.existing
        except RateLimitedError:
            raise  # the window is spent: the run defers, later batches would fail the same way
        except PermanentError as exc:
            if len(chunk) == 1:
                index, item = chunk[0]
                return [
                    (
                        index,
                        WriteResult(
                            ref=item.ref, error=_with_hint(exc, item.values.get("owner_id"))
                        ),
                    )
                ]
            middle = len(chunk) // 2
            first = await self._create_chunk(chunk[:middle], probe=probe)
            return first + await self._create_chunk(chunk[middle:], probe=probe)
        except TransientError as exc:
            return [(i, WriteResult(ref=item.ref, error=exc)) for i, item in chunk]

        out: list[tuple[int, WriteResult]] = []
        adopted: list[tuple[int, CreateItem, dict[str, Any], bool]] = []
        collided: list[tuple[int, CreateItem]] = []
        by_domain = {key: a for a in created if (key := domain_key(a.get("domain")))}
        existing_by_domain = {key: a for a in existing if (key := domain_key(a.get("domain")))}
        existing_by_name = {name_key(a.get("name")): a for a in existing}
        # An item without a domain can only be told by its name among what was created.
        nameless = {name_key(a.get("name")): a for a in created if not domain_key(a.get("domain"))}
        for index, item in chunk:
            sent_name = probe_name(item.values) if probe else str(item.values.get("name") or "")
            if item.domain:
                mine = by_domain.get(item.domain)
            else:
                mine = nameless.pop(name_key(sent_name), None)
            if mine is not None:
                if probe:  # ours, under the probe name: the alignment below renames it
                    adopted.append((index, item, mine, True))
                else:
                    result = WriteResult(item.ref, mine["id"], created=True, record=mine)
                    out.append((index, result))
                continue
            match = existing_by_domain.get(item.domain) if item.domain else None
            if match is None:
                match = existing_by_name.get(name_key(sent_name))
            if match is None:
                error = TransientError("Apollo answered without this account; retried next run")
                out.append((index, WriteResult(item.ref, error=error)))
            elif domain_key(match.get("domain")) in (item.domain, None):
                # Made by an earlier attempt of this very call (its answer was lost and the
                # HTTP layer resent it): created by us, not adopted.
                adopted.append((index, item, match, answer.made_by_resend(match)))
            elif not probe:
                collided.append((index, item))  # same name, another company's domain
            else:
                error = TransientError(
                    f"Apollo matched {sent_name!r} to account {match.get('id')} of another "
                    f"domain ({match.get('domain')}); retried next run"
                )
                out.append((index, WriteResult(item.ref, error=error)))
        if collided:
            out.extend(await self._create_chunk(collided, probe=True))
        out.extend(await self._align_adopted(adopted))
        return out

    async def _align_adopted(
        self, adopted: list[tuple[int, CreateItem, dict[str, Any], bool]]
    ) -> list[tuple[int, WriteResult]]:
        """Adopted accounts come back unmodified (and probe-created ones under the probe
        name): one bulk_update brings owner, name and website to our payload."""
        stale = [
            UpdateItem(
                ref=(index, item.ref),
                remote_id=str(account["id"]),
                # What differs; an account adopted by name may have no domain: PATCH gives it ours.
                values=self._differs(account, item.values),
            )
            for index, item, account, _ in adopted
            if self._differs(account, item.values)
        ]
        updated = {r.ref[0]: r for r in await self.update(stale)} if stale else {}
        out = []
        for index, item, account, made_by_us in adopted:
            result = updated.get(index)
            out.append(
                (
                    index,
                    WriteResult(
                        item.ref,
                        str(account["id"]),
                        created=made_by_us,
                        error=result.error if result else None,
                        record=account,
                    ),
                )
            )
        return out

    def _differs(self, account: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """The values the account does not hold yet."""
        held = {
            "name": account.get("name"),
            "domain": domain_key(account.get("domain")),
            "owner_id": account.get("owner_id"),
        }
        if self.website_field_id:
            held["website"] = (account.get("typed_custom_fields") or {}).get(self.website_field_id)
        out = {}
        for key, value in values.items():
            if key == "website" and not self.website_field_id:
                continue
            mine = domain_key(value) if key == "domain" else value
            if key in held and held[key] != mine:
                out[key] = value
        return out

    # --- updates --------------------------------------------------------------------------------

    async def update(self, items: Sequence[UpdateItem]) -> list[WriteResult]:
        """bulk_update (≤1000) for name/owner/website; bulk_update has no domain attribute,
        so a changed domain goes through PATCH /accounts/{id}, one call per account."""
        results: dict[int, WriteResult] = {}
        bulk: list[tuple[int, UpdateItem]] = []
        for index, item in enumerate(items):
            if "domain" in item.values:  # bulk_update has no domain attribute
                results[index] = await self._patch(item)
            else:
                bulk.append((index, item))
        for chunk in chunked(bulk, BULK_UPDATE_MAX):
            for index, result in await self._update_chunk(chunk):
                results[index] = result
        return [results[i] for i in range(len(items))]

    async def _patch(self, item: UpdateItem) -> WriteResult:
        try:
            account = await self.client.update_account(
                item.remote_id, to_apollo(item.values, self.website_field_id)
            )
        except (PermanentError, TransientError) as exc:
            return WriteResult(
                item.ref, item.remote_id, error=_with_hint(exc, item.values.get("owner_id"))
            )
        return WriteResult(item.ref, item.remote_id, record=account)

    async def _update_chunk(
        self, chunk: list[tuple[int, UpdateItem]]
    ) -> list[tuple[int, WriteResult]]:
        attributes = []
        for _, item in chunk:
            body = to_apollo(item.values, self.website_field_id)
            attributes.append({"id": item.remote_id, **body})
        try:
            accounts = await self.client.bulk_update_accounts(attributes)
        except PermanentError as exc:
            if len(chunk) == 1:
                index, item = chunk[0]
                return [
                    (
                        index,
                        WriteResult(
                            item.ref,
                            item.remote_id,
                            error=_with_hint(exc, item.values.get("owner_id")),
                        ),
                    )
                ]
            middle = len(chunk) // 2
            return await self._update_chunk(chunk[:middle]) + await self._update_chunk(
                chunk[middle:]
            )
        except RateLimitedError:
            raise
        except TransientError as exc:
            return [(i, WriteResult(item.ref, item.remote_id, error=exc)) for i, item in chunk]
        answered = {str(a.get("id")): a for a in accounts}
        out = []
        for index, item in chunk:
            record = answered.get(item.remote_id)
            error: ConnectorError | None = None
            if record is None:
                error = TransientError("Apollo's bulk_update answer left this account out")
            out.append((index, WriteResult(item.ref, item.remote_id, error=error, record=record)))
        return out


def domain_key(raw: Any) -> str | None:
    """How a domain Apollo holds is compared with one we sent: by its registrable domain, or,
    for a host that has none (a suffix the public list does not know, like `.internal`), by
    the bare host as Apollo keeps it. Never None for a domain that was given: answers are
    matched to inputs by this key, and two inputs must not share a key of None."""
    if raw is None or not str(raw).strip():
        return None
    registrable = normalize_domain(str(raw))
    if registrable:
        return registrable
    text = str(raw).strip().lower()
    for prefix in ("https://", "http://", "//"):
        text = text.removeprefix(prefix)
    host = re.split(r"[/?#:]", text, maxsplit=1)[0].rstrip(".").removeprefix("www.")
    return host or None


def name_key(name: Any) -> str:
    return str(name or "").strip().lower()


def probe_name(values: dict[str, Any]) -> str:
    return f"{values.get('name')} ({values.get('domain')})"


def _with_hint(exc: ConnectorError, owner_id: str | None = None) -> ConnectorError:
    """Attach a fix hint to the Apollo 422s a person can act on. Apollo names a bad owner
    only by its id ("<id> is not a valid ID"), so the id we sent tells an owner apart."""
    if not isinstance(exc, PermanentError) or exc.hint:
        return exc
    text = exc.message.lower()
    hint = None
    if "owner" in text or (owner_id and owner_id.lower() in text):
        exc.field = exc.field or "owner_id"  # Apollo's 422 names the id, not the field
        hint = (
            "the owner is not an active user of this Apollo team: run `leadbridge users sync`, "
            "then map the lead's owner with `leadbridge users map`"
        )
    elif "not a valid id" in text:
        hint = "the linked Apollo account no longer exists; `leadbridge errors retry` relinks it"
    elif "name or domain" in text:
        hint = "give the company a name and a valid domain in the hub"
    if hint:
        exc.hint = hint
    return exc
