"""The hub's mirror of one remote scope's records, as last read (or written): the match keys
that dedup and account lookup use offline, the values the write rules compare against, and the
events (converted, merged, deleted) that took a record out of play.

Rows read with a change the hub has not taken in yet are `pending` until reconciled, so a run
killed between committing a page and reconciling it leaves the work for the next run; a row that
only came back through the cursor's overlap, or as the echo of our own write, is not pending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from leadbridge.hub.store import chunks
from leadbridge.hub.tables import CrmRecord, utcnow

_ABSENT = object()
Keys = Callable[[str, dict[str, Any]], tuple[str | None, str | None, str | None]]


@dataclass(frozen=True)
class Read:
    """One record as a connector read (or wrote) it, in the mirror's terms."""

    object: str
    id: str
    fields: dict[str, Any]
    modified_at: datetime | None = None
    deleted: bool = False
    event: str | None = None  # converted | merged | deleted
    event_into: list[list[str]] | None = None  # [[stream, id], …] it lives on as


@dataclass(frozen=True)
class MirrorStore:
    workspace_id: int
    system: str
    scope: str

    def query(self, obj: str, *columns: Any) -> Select[Any]:
        """The mirror rows (or `columns` of them) of one object."""
        return select(*(columns or (CrmRecord,))).where(
            CrmRecord.workspace_id == self.workspace_id,
            CrmRecord.remote_system == self.system,
            CrmRecord.remote_scope == self.scope,
            CrmRecord.object == obj,
        )

    def get(self, s: Session, obj: str, remote_ids: Sequence[str]) -> dict[str, CrmRecord]:
        out: dict[str, CrmRecord] = {}
        for chunk in chunks(list(remote_ids)):
            for row in s.scalars(self.query(obj).where(CrmRecord.remote_id.in_(chunk))):
                out[row.remote_id] = row
        return out

    def by_key(
        self, s: Session, obj: str, key: str, values: Iterable[str | None]
    ) -> dict[str, list[CrmRecord]]:
        """Live rows (not deleted, converted or merged away) by a match key, oldest first."""
        column = getattr(CrmRecord, key)
        wanted = sorted({v for v in values if v})
        out: dict[str, list[CrmRecord]] = {}
        for chunk in chunks(wanted):
            rows = s.scalars(
                self.query(obj)
                .where(
                    CrmRecord.deleted.is_(False),
                    CrmRecord.event.is_(None),
                    column.in_(chunk),
                )
                .order_by(CrmRecord.remote_id)
            )
            for row in rows:
                out.setdefault(getattr(row, key), []).append(row)
        return out

    def pending(self, s: Session, obj: str) -> list[str]:
        """Rows read with a change the hub has not taken in: records that left (deleted,
        merged away) first, so that a merge's survivor finds its link moved; then in the
        order they were read."""
        query = self.query(obj, CrmRecord.remote_id).where(CrmRecord.pending.is_(True))
        return list(s.scalars(query.order_by(CrmRecord.deleted.desc(), CrmRecord.id)))

    def store(
        self,
        s: Session,
        records: Sequence[Read],
        run_id: int | None,
        *,
        keys: Keys,
        stamps: Callable[[str], frozenset[str]],
        read: bool = True,
    ) -> list[CrmRecord]:
        """Upsert the rows of records read (or, `read=False`, just written). A read row that is
        new or differs (modification stamps aside) is marked pending for reconcile."""
        by_object: dict[str, list[Read]] = {}
        for r in records:
            by_object.setdefault(r.object, []).append(r)
        out: list[CrmRecord] = []
        for obj, group in by_object.items():
            existing = self.get(s, obj, [r.id for r in group])
            ignore = stamps(obj)
            for r in group:
                row = existing.get(r.id)
                if row is None:
                    row = CrmRecord(
                        workspace_id=self.workspace_id,
                        remote_system=self.system,
                        remote_scope=self.scope,
                        object=obj,
                        remote_id=r.id,
                        fields={},
                    )
                    s.add(row)
                    existing[r.id] = row
                values = {k: v for k, v in r.fields.items() if k != "attributes"}
                if read and (
                    not row.fields
                    or r.deleted != row.deleted
                    or r.event != row.event
                    or any(
                        row.fields.get(k, _ABSENT) != v
                        for k, v in values.items()
                        if k not in ignore
                    )
                ):
                    row.pending = True
                    row.changed_at = utcnow()
                row.fields = {**row.fields, **values}
                row.email_key, row.domain_key, row.name_key = keys(obj, row.fields)
                row.modified_at = r.modified_at or row.modified_at
                if read:
                    row.deleted, row.event, row.event_into = r.deleted, r.event, r.event_into
                row.seen_run_id = run_id
                out.append(row)
        return out
