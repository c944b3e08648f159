"""Apollo for the engine (the connector protocol of connectors.base): account writes through
the bulk endpoints (accounts.py), and the team's users read as one complete list.

Apollo has no incremental read of accounts the lead push needs (it is push-only) and no batch
jobs; an account read is the whole team's (`plan --remote` uses it to tell adopt from create).

Apollo has no describe API, and its Rails endpoints drop a parameter they do not know without a
word. So the account fields the connector writes are declared here (`schema`), and every record
is checked against them before sending (connectors.validate): an unknown or read-only field, or
a create with neither name nor domain (Apollo's 422 "Please specify at least a name or domain"),
fails alone and costs no call, instead of being dropped on the way or failing its batch.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from leadbridge.connectors.apollo.accounts import ApolloAccounts, CreateItem, UpdateItem
from leadbridge.connectors.apollo.catalog import CATALOG
from leadbridge.connectors.apollo.client import BULK_CREATE_MAX, ApolloClient
from leadbridge.connectors.base import (
    Cursor,
    JobLedger,
    JobOutcome,
    Op,
    Page,
    RemoteJob,
    RemoteRecord,
    WriteResult,
)
from leadbridge.connectors.errors import NotProcessedError, PermanentError
from leadbridge.connectors.http import CallCounter
from leadbridge.connectors.validate import problems
from leadbridge.policy.schema import FieldSchema, ObjectSchema

ACCOUNT_FIELDS = ("name", "domain", "owner_id", "website")
# What Apollo sets on an account itself (its answers carry them; a write cannot).
ACCOUNT_READ_ONLY = (
    "team_id",
    "creator_id",
    "source",
    "original_source",
    "created_at",
    "updated_at",
    "existence_level",
)
USER_FIELDS = ("email", "first_name", "last_name", "active")
HINTS = {
    "INVALID_FIELD": "Apollo accounts take name, domain, owner_id and website: check the field map",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "Apollo sets this field itself: it cannot be pushed",
    "REQUIRED_FIELD_MISSING": "give the company a name or a valid domain in the hub",
}


class ApolloConnector:
    catalog = CATALOG

    def __init__(
        self,
        client: ApolloClient,
        *,
        batch_size: int = BULK_CREATE_MAX,
        website_field_id: str | None = None,
    ) -> None:
        self.client = client
        self.batch_size = batch_size
        self.accounts = ApolloAccounts(client, website_field_id=website_field_id)

    @property
    def website_field_id(self) -> str | None:
        return self.accounts.website_field_id

    @website_field_id.setter
    def website_field_id(self, value: str | None) -> None:
        self.accounts.website_field_id = value

    @property
    def calls(self) -> CallCounter:
        return self.client.calls

    async def aclose(self) -> None:
        await self.client.aclose()

    async def write(
        self,
        stream: str,
        op: Op,
        records: Sequence[tuple[Any, dict[str, Any]]],
        *,
        ledger: JobLedger | None = None,
    ) -> list[WriteResult]:
        """Accounts only: creates through bulk_create with dedupe (an account Apollo already has
        for the domain is handed back, adopted), updates through bulk_update (PATCH for a new
        domain). One result per input, in input order."""
        if stream != "account" or op not in ("create", "update"):
            error = PermanentError(f"Apollo takes no {op} of {stream} records from leadbridge")
            return [WriteResult(ref, error=error) for ref, _ in records]
        schema = await self.schema(stream)
        results: dict[int, WriteResult] = {}
        sendable: list[tuple[int, Any, dict[str, Any]]] = []
        for index, (ref, values) in enumerate(records):
            fields = {k: v for k, v in values.items() if k != "Id"}
            found = problems(schema, fields, op, HINTS) + _missing_name_and_domain(fields, op)
            if found:
                results[index] = WriteResult(ref, values.get("Id"), error=found[0])
            else:
                sendable.append((index, ref, values))
        if op == "create":
            written = await self.accounts.create(
                [CreateItem(ref, dict(values)) for _, ref, values in sendable], self.batch_size
            )
        else:
            written = await self.accounts.update(
                [
                    UpdateItem(
                        ref, str(values["Id"]), {k: v for k, v in values.items() if k != "Id"}
                    )
                    for _, ref, values in sendable
                ]
            )
        results.update((index, r) for (index, _, _), r in zip(sendable, written, strict=True))
        return [results[i] for i in range(len(records))]

    async def read_changed(
        self, stream: str, fields: Sequence[str], cursor: Cursor, cap: datetime
    ) -> AsyncIterator[Page]:
        """Users as one complete list (Apollo has no changed-since filter for them); accounts,
        every one of the team (up to Apollo's display cap)."""
        if stream == "user":
            records = [
                RemoteRecord(
                    "user",
                    str(u["id"]),
                    {**u, "active": not u.get("deleted")},
                )
                for u in await self.client.users()
            ]
        else:
            records = [
                RemoteRecord("account", str(a["id"]), a) for a in await self.client.all_accounts()
            ]
        yield Page(records, cursor)

    async def read_deleted(self, stream: str, since: datetime) -> list[RemoteRecord]:
        """Apollo lists no deleted accounts: a deleted one is only missed by `read_ids`."""
        return []

    async def read_ids(
        self, stream: str, fields: Sequence[str], ids: Sequence[str]
    ) -> list[RemoteRecord]:
        """The accounts with these ids, one call each; an id Apollo does not know (it answers
        422 "id is not a valid ID", or 404) is left out."""
        out = []
        for account_id in dict.fromkeys(ids):
            try:
                account = await self.client.get_account(account_id)
            except PermanentError as exc:
                if exc.status in (404, 422):
                    continue
                raise
            out.append(RemoteRecord("account", account_id, account))
        return out

    async def schema(self, stream: str) -> ObjectSchema:
        """Declared, not read: Apollo has no describe API (see the module docstring)."""
        if stream != "account":
            return ObjectSchema(
                stream, {n: FieldSchema(n, createable=False, updateable=False) for n in USER_FIELDS}
            )
        fields = {n: FieldSchema(n) for n in ACCOUNT_FIELDS}
        fields.update(
            (n, FieldSchema(n, createable=False, updateable=False)) for n in ACCOUNT_READ_ONLY
        )
        return ObjectSchema(stream, fields)

    async def job_outcome(
        self, job: RemoteJob, records: Sequence[tuple[Any, dict[str, Any]]], *, wait: float
    ) -> JobOutcome:
        """Apollo has no batch jobs: nothing is ever recorded, so nothing is outstanding."""
        error = NotProcessedError("Apollo runs no batch jobs")
        return JobOutcome("None", True, [WriteResult(ref, error=error) for ref, _ in records])


def _missing_name_and_domain(values: dict[str, Any], op: Op) -> list[PermanentError]:
    """Apollo's own rule (422 "Please specify at least a name or domain"), before sending."""
    if op != "create" or values.get("name") or values.get("domain"):
        return []
    return [
        PermanentError(
            "an Apollo account needs at least a name or a domain to be created",
            field="name",
            code="REQUIRED_FIELD_MISSING",
            hint=HINTS["REQUIRED_FIELD_MISSING"],
        )
    ]
