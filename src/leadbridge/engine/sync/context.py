"""What every CRM job shares: the connection, its policy, its connector, the run row, the
mirror of CRM records, links and the sync state (setup window, initial pull)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from leadbridge.connectors.base import RemoteRecord
from leadbridge.connectors.salesforce import SalesforceConnector
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import email_key
from leadbridge.hub.runs import finish_run, start_run
from leadbridge.hub.tables import CrmRecord, RecordLink, UserLink, utcnow
from leadbridge.normalize import company_name_key, normalize_domain
from leadbridge.policy.crm import CrmSync

SYSTEM = "salesforce"
PEOPLE = ("Contact", "Lead")  # the contact first: it wins over a lead for the same person
CHUNK = 500
_ABSENT = object()
STAMPS = {"SystemModstamp", "LastModifiedDate"}  # they change with any edit, mapped or not


class SyncRefused(Exception):
    """A run or manual action the sync state does not allow now; the message says why."""


@dataclass
class CrmContext:
    hub: Hub
    connections: Connections
    connection: ConnectionInfo
    policy: CrmSync
    connector: SalesforceConnector
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    progress: Callable[[str, int], None] | None = None
    calls_at_start: int = 0

    @property
    def workspace_id(self) -> int:
        return self.hub.workspace_id

    @property
    def scope(self) -> str:
        return self.connection.remote_scope or f"connection-{self.connection.id}"

    # --- sync state (kept in the connection's settings) -------------------------------------

    def state(self) -> dict[str, Any]:
        fresh = self.connections.get(self.connection.name)
        return dict(fresh.settings.get("crm") or {})

    def save_state(self, **changes: Any) -> None:
        fresh = self.connections.get(self.connection.name)
        settings = dict(fresh.settings)
        settings["crm"] = {**dict(settings.get("crm") or {}), **changes}
        self.connections.update_settings(self.connection.id, settings)
        self.connection = self.connections.get(self.connection.name)

    def setup_until(self) -> datetime | None:
        value = self.state().get("setup_until")
        return datetime.fromisoformat(value) if value else None

    def in_setup_window(self) -> bool:
        until = self.setup_until()
        return until is not None and self.clock() < until

    def initial_pull_done(self) -> bool:
        return self.state().get("initial_pull") == "done"

    # --- runs ---------------------------------------------------------------------------------

    def start_run(self, job: str) -> int:
        self.calls_at_start = self.connector.client.api.counter.total
        return start_run(self.hub, job, self.connection.id)

    def finish_run(
        self, run_id: int, status: str, counts: dict[str, int], message: str | None = None
    ) -> None:
        calls = self.connector.client.api.counter.total - self.calls_at_start
        finish_run(self.hub, run_id, status, counts, message=message, api_calls=calls)

    # --- links and mirror -----------------------------------------------------------------------

    def links(
        self, s: Session, hub_object: str, hub_ids: Iterable[int]
    ) -> dict[int, dict[str, RecordLink]]:
        out: dict[int, dict[str, RecordLink]] = {}
        ids = list(hub_ids)
        for start in range(0, len(ids), CHUNK):
            for link in s.scalars(
                select(RecordLink).where(
                    RecordLink.workspace_id == self.workspace_id,
                    RecordLink.remote_system == SYSTEM,
                    RecordLink.remote_scope == self.scope,
                    RecordLink.hub_object == hub_object,
                    RecordLink.hub_id.in_(ids[start : start + CHUNK]),
                )
            ):
                out.setdefault(link.hub_id, {})[link.remote_object] = link
        return out

    def links_by_remote(
        self, s: Session, remote_object: str, remote_ids: Sequence[str]
    ) -> dict[str, RecordLink]:
        out: dict[str, RecordLink] = {}
        for start in range(0, len(remote_ids), CHUNK):
            for link in s.scalars(
                select(RecordLink).where(
                    RecordLink.workspace_id == self.workspace_id,
                    RecordLink.remote_system == SYSTEM,
                    RecordLink.remote_scope == self.scope,
                    RecordLink.remote_object == remote_object,
                    RecordLink.remote_id.in_(remote_ids[start : start + CHUNK]),
                )
            ):
                assert link.remote_id is not None
                out[link.remote_id] = link
        return out

    def add_link(
        self,
        s: Session,
        hub_object: str,
        hub_id: int,
        remote_object: str,
        remote_id: str | None = None,
        *,
        status: str = "adopted",
        pushed: dict[str, Any] | None = None,
        run_id: int | None = None,
    ) -> RecordLink:
        """A new link of this org; `remote_id=None` with status pending is a create intent."""
        link = RecordLink(
            workspace_id=self.workspace_id,
            remote_system=SYSTEM,
            remote_scope=self.scope,
            remote_object=remote_object,
            hub_object=hub_object,
            hub_id=hub_id,
            remote_id=remote_id,
            status=status,
            attempts=0,
            pushed=pushed,
            last_run_id=run_id,
            last_synced_at=utcnow() if remote_id else None,
        )
        s.add(link)
        return link

    def mirror_of(self, sobject: str, *columns: Any) -> Select[Any]:
        """The mirror rows (or `columns` of them) of one object of this org."""
        return select(*(columns or (CrmRecord,))).where(
            CrmRecord.workspace_id == self.workspace_id,
            CrmRecord.remote_system == SYSTEM,
            CrmRecord.remote_scope == self.scope,
            CrmRecord.object == sobject,
        )

    def mirror(self, s: Session, sobject: str, remote_ids: Sequence[str]) -> dict[str, CrmRecord]:
        out: dict[str, CrmRecord] = {}
        for start in range(0, len(remote_ids), CHUNK):
            for row in s.scalars(
                self.mirror_of(sobject).where(
                    CrmRecord.remote_id.in_(remote_ids[start : start + CHUNK])
                )
            ):
                out[row.remote_id] = row
        return out

    def mirror_by(
        self, s: Session, sobject: str, key: str, values: Iterable[str]
    ) -> dict[str, list[CrmRecord]]:
        """Live (not deleted) mirror rows by a match key, oldest first."""
        column = getattr(CrmRecord, key)
        wanted = sorted({v for v in values if v})
        out: dict[str, list[CrmRecord]] = {}
        for start in range(0, len(wanted), CHUNK):
            rows = s.scalars(
                self.mirror_of(sobject)
                .where(CrmRecord.deleted.is_(False), column.in_(wanted[start : start + CHUNK]))
                .order_by(CrmRecord.remote_id)
            )
            for row in rows:
                if sobject == "Lead" and row.fields.get("IsConverted"):
                    continue
                out.setdefault(getattr(row, key), []).append(row)
        return out

    def store_mirror(
        self,
        s: Session,
        records: Sequence[RemoteRecord],
        run_id: int | None,
        *,
        read: bool = True,
    ) -> list[CrmRecord]:
        """Upsert the mirror rows of records read (or, `read=False`, just written) from the CRM.
        A read row that is new or differs from the mirror is marked pending for reconcile; one
        that only came back through the cursor's overlap, or as the echo of our own write, is
        not."""
        by_object: dict[str, list[RemoteRecord]] = {}
        for r in records:
            by_object.setdefault(r.object, []).append(r)
        out: list[CrmRecord] = []
        for sobject, group in by_object.items():
            existing = self.mirror(s, sobject, [r.id for r in group])
            for r in group:
                row = existing.get(r.id)
                if row is None:
                    row = CrmRecord(
                        workspace_id=self.workspace_id,
                        remote_system=SYSTEM,
                        remote_scope=self.scope,
                        object=sobject,
                        remote_id=r.id,
                        fields={},
                    )
                    s.add(row)
                    existing[r.id] = row
                values = {k: v for k, v in r.fields.items() if k != "attributes"}
                deleted = r.deleted or bool(values.get("IsDeleted"))
                if read and (
                    not row.fields
                    or deleted != row.deleted
                    or any(
                        row.fields.get(k, _ABSENT) != v
                        for k, v in values.items()
                        if k not in STAMPS
                    )
                ):
                    row.pending = True
                row.fields = {**row.fields, **values}
                keys = match_keys(sobject, row.fields)
                row.email_key, row.domain_key, row.name_key = keys
                row.modified_at = r.modified_at or row.modified_at
                row.deleted = r.deleted or bool(row.fields.get("IsDeleted"))
                row.seen_run_id = run_id
                out.append(row)
        return out

    def owners(self, s: Session) -> tuple[dict[int, str], dict[str, int]]:
        """hub user id -> Salesforce user id, and back (active links only)."""
        to_remote: dict[int, str] = {}
        to_hub: dict[str, int] = {}
        for link in s.scalars(
            select(UserLink).where(
                UserLink.workspace_id == self.workspace_id,
                UserLink.remote_system == SYSTEM,
                UserLink.remote_scope == self.scope,
                UserLink.hub_user_id.is_not(None),
            )
        ):
            assert link.hub_user_id is not None
            if not link.deleted:
                to_remote[link.hub_user_id] = link.remote_user_id
            to_hub[link.remote_user_id] = link.hub_user_id
        return to_remote, to_hub


def match_keys(sobject: str, fields: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(e-mail, domain, name) keys of a CRM record, for matching without API calls."""
    if sobject == "Account":
        return None, normalize_domain(fields.get("Website")), company_name_key(fields.get("Name"))
    email = email_key(fields.get("Email"))
    if sobject == "Lead":
        domain = normalize_domain(fields.get("Website"))
        return email, domain, company_name_key(fields.get("Company"))
    return email, None, None
