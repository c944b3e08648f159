"""A Salesforce sandbox over HTTPS on a real socket, a hub connected to it through the OAuth
web-server flow (PKCE), and helpers to look at what the org holds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from leadbridge.connectors.http import RetryPolicy
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.pull import PullReport
from leadbridge.engine.sync.push import PushReport
from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import edit
from leadbridge.hub.tables import Company, ErrorLogEntry, Person, RecordLink
from leadbridge.jobs.tasks import pull_task, push_task
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox.salesforce import SalesforceSandbox

from ..salesforce_oauth import oauth_token_body

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, max_rate_limit_wait=1)


@dataclass
class CrmWorld:
    sandbox: SalesforceSandbox
    url: str
    hub: Hub
    connections: Connections
    policy: CrmSync
    system: str = "salesforce"  # the links' remote_system

    @property
    def org(self) -> Any:
        return self.sandbox.org

    def ctx(self, policy: CrmSync | None = None) -> SyncContext:
        return sync_context(self.hub, self.connections, policy or self.policy, retry=FAST)

    def pull(self, policy: CrmSync | None = None, **kw: Any) -> PullReport:
        return asyncio.run(_closing(self.ctx(policy), pull_task, **kw))

    def push(self, policy: CrmSync | None = None, **kw: Any) -> PushReport:
        return asyncio.run(_closing(self.ctx(policy), push_task, **kw))

    def activate(self) -> None:
        self.ctx().save_state(setup_until=None)

    def rows(self, sobject: str) -> list[dict[str, Any]]:
        return [r for r in self.org.rows(sobject) if not r.get("IsDeleted")]

    def person(self, **fields: Any) -> int:
        with self.hub.session() as s:
            p = Person(workspace_id=self.hub.workspace_id, email_status="verified")
            company = fields.pop("company", None)
            if company is not None:
                p.company_id = self.company(**company) if isinstance(company, dict) else company
            s.add(p)
            s.flush()
            edit(s, p, fields, origin="user")
            return p.id

    def company(self, **fields: Any) -> int:
        with self.hub.session() as s:
            existing = (
                s.scalar(select(Company).where(Company.domain == fields.get("domain")))
                if fields.get("domain")
                else None
            )
            if existing is not None:
                return existing.id
            c = Company(workspace_id=self.hub.workspace_id, is_lead=False, **fields)
            s.add(c)
            s.flush()
            return c.id

    def edit_person(self, person_id: int, **changes: Any) -> None:
        with self.hub.session() as s:
            p = s.get(Person, person_id)
            assert p is not None
            edit(s, p, changes, origin="user")

    def get_person(self, person_id: int) -> Person:
        with self.hub.session() as s:
            p = s.get(Person, person_id)
            assert p is not None
            s.expunge(p)
            return p

    def link(self, hub_object: str, hub_id: int) -> dict[str, str]:
        with self.hub.session() as s:
            return {
                link.remote_object: str(link.remote_id)
                for link in s.scalars(
                    select(RecordLink).where(
                        RecordLink.hub_object == hub_object,
                        RecordLink.hub_id == hub_id,
                        RecordLink.remote_system == self.system,
                        RecordLink.remote_id.is_not(None),
                    )
                )
            }

    def errors(self) -> list[ErrorLogEntry]:
        with self.hub.session() as s:
            rows = list(s.scalars(select(ErrorLogEntry).where(ErrorLogEntry.resolved_at.is_(None))))
            s.expunge_all()
            return rows


def connect(
    world_parts: tuple[SalesforceSandbox, str, str], hub: Hub, connections: Connections
) -> None:
    sandbox, url, ca = world_parts
    body, client_id, secret = oauth_token_body(sandbox, url, ca)
    connect_salesforce(
        hub,
        connections,
        name="salesforce",
        login_url=url,
        token_body=body,
        client_id=client_id,
        client_secret=secret,
        ca_file=ca,
    )


async def _closing(ctx: SyncContext, task: Any, **kw: Any) -> Any:
    """A task as a command runs it: under the lease, its HTTP client closed afterwards."""
    try:
        return await task(ctx, **kw)
    finally:
        await ctx.connector.aclose()
