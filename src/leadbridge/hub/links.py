"""Links of one remote scope (an org, a portal, a team): the durable pairing of hub records with
remote records, looked up in chunks (one query per 500 ids, never one per record)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from leadbridge.hub.store import chunks
from leadbridge.hub.tables import RecordLink, utcnow

# Link statuses of a record that is in the remote system as the hub last wrote or found it
# (not pending, failed, detached or undone).
SETTLED = ("created", "adopted", "updated")


@dataclass(frozen=True)
class LinkStore:
    workspace_id: int
    system: str
    scope: str

    def where(self) -> tuple[ColumnElement[bool], ...]:
        return (
            RecordLink.workspace_id == self.workspace_id,
            RecordLink.remote_system == self.system,
            RecordLink.remote_scope == self.scope,
        )

    def of_hub(
        self, s: Session, hub_object: str, hub_ids: Iterable[int]
    ) -> dict[int, dict[str, RecordLink]]:
        """hub id -> remote object -> link."""
        out: dict[int, dict[str, RecordLink]] = {}
        for chunk in chunks(list(hub_ids)):
            for link in s.scalars(
                select(RecordLink).where(
                    *self.where(),
                    RecordLink.hub_object == hub_object,
                    RecordLink.hub_id.in_(chunk),
                )
            ):
                out.setdefault(link.hub_id, {})[link.remote_object] = link
        return out

    def of_remote(
        self, s: Session, remote_object: str, remote_ids: Sequence[str]
    ) -> dict[str, RecordLink]:
        out: dict[str, RecordLink] = {}
        for chunk in chunks(list(remote_ids)):
            for link in s.scalars(
                select(RecordLink).where(
                    *self.where(),
                    RecordLink.remote_object == remote_object,
                    RecordLink.remote_id.in_(chunk),
                )
            ):
                assert link.remote_id is not None
                out[link.remote_id] = link
        return out

    def add(
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
        """A new link; `remote_id=None` with status pending is a create intent."""
        link = RecordLink(
            workspace_id=self.workspace_id,
            remote_system=self.system,
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

    def with_status(
        self, s: Session, statuses: Sequence[str], of: Mapping[str, Iterable[int]] | None = None
    ) -> list[RecordLink]:
        """Links in one of `statuses`; of the given hub records only (by hub object) when `of`
        is given, so that a page of a plan reads its own, not every link of the scope."""
        where = (*self.where(), RecordLink.status.in_(statuses))
        return [
            link
            for cond in self._of(of)
            for link in s.scalars(select(RecordLink).where(*where, *cond))
        ]

    def waiting_for_jobs(
        self, s: Session, of: Mapping[str, Iterable[int]] | None = None
    ) -> dict[tuple[str, int], str]:
        """(hub object, hub id) -> the open remote job that may still create its record."""
        out: dict[tuple[str, int], str] = {}
        for cond in self._of(of):
            rows = s.execute(
                select(RecordLink.hub_object, RecordLink.hub_id, RecordLink.remote_job_id).where(
                    *self.where(), RecordLink.remote_job_id.is_not(None), *cond
                )
            )
            out.update({(obj, hub_id): str(job) for obj, hub_id, job in rows})
        return out

    @staticmethod
    def _of(of: Mapping[str, Iterable[int]] | None) -> list[tuple[ColumnElement[bool], ...]]:
        """Conditions that together select the links of `of` (one per chunk of ids)."""
        if of is None:
            return [()]
        return [
            (RecordLink.hub_object == obj, RecordLink.hub_id.in_(chunk))
            for obj, ids in of.items()
            for chunk in chunks(sorted(set(ids)))
        ]

    def intents(self, s: Session, remote_object: str) -> list[RecordLink]:
        """Creates sent whose answer was never recorded (a run killed in between, or a failure
        that may have landed), with what they sent."""
        return list(
            s.scalars(
                select(RecordLink).where(
                    *self.where(),
                    RecordLink.remote_object == remote_object,
                    RecordLink.remote_id.is_(None),
                    RecordLink.pushed.is_not(None),
                    or_(RecordLink.status == "pending", RecordLink.error_class == "transient"),
                )
            )
        )
