"""Apollo for the engine (the connector protocol of connectors.base): account writes through
the bulk endpoints (accounts.py), and the team's users read as one complete list.

Apollo has no incremental read of accounts the lead push needs (it is push-only) and no batch
jobs; an account read is the whole team's (`plan --remote` uses it to tell adopt from create).
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
from leadbridge.policy.schema import FieldSchema, ObjectSchema

ACCOUNT_FIELDS = ("name", "domain", "owner_id", "website")


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
        if op == "create":
            return await self.accounts.create(
                [CreateItem(ref, dict(values)) for ref, values in records], self.batch_size
            )
        items = [
            UpdateItem(ref, str(values["Id"]), {k: v for k, v in values.items() if k != "Id"})
            for ref, values in records
        ]
        return await self.accounts.update(items)

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

    async def read_ids(
        self, stream: str, fields: Sequence[str], ids: Sequence[str]
    ) -> list[RemoteRecord]:
        out = []
        for account_id in dict.fromkeys(ids):
            account = await self.client.get_account(account_id)
            out.append(RemoteRecord("account", account_id, account))
        return out

    async def schema(self, stream: str) -> ObjectSchema:
        names = ACCOUNT_FIELDS if stream == "account" else ("email", "first_name", "last_name")
        return ObjectSchema(stream, {n: FieldSchema(n) for n in names})

    async def job_outcome(
        self, job: RemoteJob, records: Sequence[tuple[Any, dict[str, Any]]], *, wait: float
    ) -> JobOutcome:
        """Apollo has no batch jobs: nothing is ever recorded, so nothing is outstanding."""
        error = NotProcessedError("Apollo runs no batch jobs")
        return JobOutcome("None", True, [WriteResult(ref, error=error) for ref, _ in records])
