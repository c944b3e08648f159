"""The hub's tables (SQLAlchemy 2). Every row belongs to a workspace.

Enum-like columns are plain strings checked against the tuples below (one source of truth,
CustomerOS weakness #11): the database never decides an ordering.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ICP_FITS = ("strong", "moderate", "not_a_fit", "unknown")
QUARANTINE = ("active", "quarantined")
LINK_STATUSES = (
    "pending",
    "created",
    "adopted",
    "updated",
    "error",
    "undone",
    "remote_deleted",
    "unlinked",
)
# Links kept (so nothing matches, adopts or recreates the remote record) but no longer in play:
# the remote record was deleted, or the hub record was deleted or merged away.
DETACHED = ("remote_deleted", "unlinked")
CONNECTION_HEALTH = ("ok", "auth_failed", "access_denied", "paused", "unknown")
RUN_STATUSES = ("running", "succeeded", "partial", "failed", "deferred", "interrupted")
REMOTE_JOB_STATES = ("open", "done")
EMAIL_STATUSES = ("verified", "unverified")
JOURNAL_OPS = ("create", "update")
JOURNAL_TARGETS = ("remote", "hub")
ACTIVITY_KINDS = ("email", "call", "meeting", "note", "task", "summary")
EMAIL_DIRECTIONS = ("outgoing", "incoming")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[list[str]]: JSON,
    }


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person on the team (a rep who owns leads)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Company(Base):
    """A company; `is_lead` marks the workspace's company leads."""

    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("workspace_id", "domain"),
        CheckConstraint(_in("icp_fit", ICP_FITS), name="icp_fit"),
        CheckConstraint(_in("quarantine", QUARANTINE), name="quarantine"),
        Index("ix_companies_ws_updated", "workspace_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(2048))
    industry: Mapped[str | None] = mapped_column(String(255))
    employee_count: Mapped[int | None] = mapped_column(Integer)
    icp_fit: Mapped[str] = mapped_column(String(20), default="unknown")
    stage: Mapped[str | None] = mapped_column(String(40))
    is_lead: Mapped[bool] = mapped_column(Boolean, default=True)
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    quarantine: Mapped[str] = mapped_column(String(20), default="active")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The CRM-side sales stage of the account (stage-based account push selects on it).
    account_stage: Mapped[str | None] = mapped_column(String(60))
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When each field last changed, and by whom: two-way fields take the latest change.
    field_changed_at: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    potential_duplicate: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # A tombstone: deleted (in the hub, or mirroring a CRM deletion or merge), kept so that
    # `undo` can restore it and nothing recreates it; `merged_into` is the record it lives on as.
    deleted_at: Mapped[datetime | None] = mapped_column()
    merged_into: Mapped[int | None] = mapped_column(Integer)


class Person(Base):
    """A person (a CRM contact or lead). `email_key` is the lower-cased match key."""

    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(_in("email_status", EMAIL_STATUSES), name="email_status"),
        Index("ix_people_ws_email", "workspace_id", "email_key"),
        Index("ix_people_ws_updated", "workspace_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))
    email_status: Mapped[str] = mapped_column(String(20), default="unverified")
    title: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(60))
    mobile_phone: Mapped[str | None] = mapped_column(String(60))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    stage: Mapped[str | None] = mapped_column(String(60))
    lead_status: Mapped[str | None] = mapped_column(String(60))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str | None] = mapped_column(String(100))
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    field_changed_at: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    potential_duplicate: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # A tombstone: deleted (in the hub, or mirroring a CRM deletion or merge), kept so that
    # `undo` can restore it and nothing recreates it; `merged_into` is the record it lives on as.
    deleted_at: Mapped[datetime | None] = mapped_column()
    merged_into: Mapped[int | None] = mapped_column(Integer)


class PersonTag(Base):
    """A tag on a person (a list it is on: "webinar-2026", "mql-ready"), what a sync's scope
    selects people by. Kept in lower case: tags compare without case."""

    __tablename__ = "person_tags"
    __table_args__ = (
        UniqueConstraint("person_id", "tag"),
        Index("ix_person_tags_ws_tag", "workspace_id", "tag"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    tag: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignMember(Base):
    """A person the push added to a CRM campaign (a Salesforce CampaignMember, a HubSpot static
    list's member), kept so that each joins once, not once per run."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id",
            "remote_system",
            "remote_scope",
            "campaign",
            "person_id",
            name="uq_campaign_members_once",  # the convention's name is over PostgreSQL's 63
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    remote_system: Mapped[str] = mapped_column(String(40))
    remote_scope: Mapped[str] = mapped_column(String(200))
    campaign: Mapped[str] = mapped_column(String(255))  # its name, as the policy gives it
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    remote_id: Mapped[str | None] = mapped_column(String(100))  # the membership's, if it has one
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deal(Base):
    """A deal (a Salesforce opportunity, a HubSpot deal). `stage` and `pipeline` are the CRM's
    labels (the hub pipeline mirrors the CRM's stages); `hidden` marks a deal pulled by a sync
    whose deals are hidden (kept, synced from the CRM, not listed)."""

    __tablename__ = "deals"
    __table_args__ = (Index("ix_deals_ws_updated", "workspace_id", "updated_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    close_date: Mapped[date | None] = mapped_column(Date)
    pipeline: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    field_changed_at: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DealPerson(Base):
    """A person on a deal (a Salesforce contact role, a HubSpot deal-contact association)."""

    __tablename__ = "deal_people"
    __table_args__ = (UniqueConstraint("deal_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(Base):
    """Something that happened with a person or company: an e-mail, a call, a meeting, a note,
    a task, a conversation summary. Pushed hub → CRM only, never pulled. Idempotent by its
    source's id: a second import or read of the same (source, source_id) updates, never adds.
    `deal_id` names a hub deal."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "source_id"),
        CheckConstraint(_in("kind", ACTIVITY_KINDS), name="kind"),
        Index("ix_activities_ws_occurred", "workspace_id", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(40))  # import, apollo, hub, …
    source_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column()
    subject: Mapped[str | None] = mapped_column(String(255))
    body_preview: Mapped[str | None] = mapped_column(Text)
    # email
    direction: Mapped[str | None] = mapped_column(String(10))  # outgoing | incoming
    from_email: Mapped[str | None] = mapped_column(String(320))
    to_emails: Mapped[list[str] | None] = mapped_column(JSON)
    cc_emails: Mapped[list[str] | None] = mapped_column(JSON)
    sent_from_sequence: Mapped[bool] = mapped_column(Boolean, default=False)
    # sent from the hub or Apollo (not from a mailbox leadbridge does not drive)
    sent_from_hub: Mapped[bool] = mapped_column(Boolean, default=False)
    thread_id: Mapped[str | None] = mapped_column(String(200))
    # call
    call_outcome: Mapped[str | None] = mapped_column(String(60))
    call_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    recording_url: Mapped[str | None] = mapped_column(String(2048))
    # meeting
    meeting_start: Mapped[datetime | None] = mapped_column()
    meeting_end: Mapped[datetime | None] = mapped_column()
    location: Mapped[str | None] = mapped_column(String(255))
    attendees: Mapped[list[str] | None] = mapped_column(JSON)
    # task
    due_at: Mapped[datetime | None] = mapped_column()
    task_status: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrmRecord(Base):
    """The hub's mirror of a CRM record as last read (or written): the match keys dedup and
    account lookup use offline, and the current values the write rules compare against."""

    __tablename__ = "crm_records"
    __table_args__ = (
        UniqueConstraint("workspace_id", "remote_system", "remote_scope", "object", "remote_id"),
        Index("ix_crm_records_email", "workspace_id", "remote_scope", "object", "email_key"),
        Index("ix_crm_records_domain", "workspace_id", "remote_scope", "object", "domain_key"),
        Index("ix_crm_records_name", "workspace_id", "remote_scope", "object", "name_key"),
        Index("ix_crm_records_pending", "workspace_id", "remote_scope", "object", "pending"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    remote_system: Mapped[str] = mapped_column(String(40))
    remote_scope: Mapped[str] = mapped_column(String(100))
    object: Mapped[str] = mapped_column(String(60))
    remote_id: Mapped[str] = mapped_column(String(100))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email_key: Mapped[str | None] = mapped_column(String(320))
    domain_key: Mapped[str | None] = mapped_column(String(255))
    name_key: Mapped[str | None] = mapped_column(String(255))
    modified_at: Mapped[datetime | None] = mapped_column()
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # What took the record out of play, as its connector reported it (converted, merged,
    # deleted), and the records it lives on as: [[stream, id], …].
    event: Mapped[str | None] = mapped_column(String(20))
    event_into: Mapped[list[list[str]] | None] = mapped_column(JSON)
    seen_run_id: Mapped[int | None] = mapped_column(Integer)  # the run that last saw it
    # SHA-256 of the values (modification stamps aside) as last stored: a read that hashes
    # the same is no change.
    values_hash: Mapped[str | None] = mapped_column(String(64))
    # When a read last found its values changed (hub clock): later than its link's
    # last_synced_at, the record is planned by the next full push.
    changed_at: Mapped[datetime | None] = mapped_column()
    # Read with a change the hub has not taken in yet; cleared by reconcile, so a run killed
    # between committing a page and reconciling it leaves the work for the next run.
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SyncCursor(Base):
    """Where the last pull of one object stopped; saved in the transaction of its page."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("workspace_id", "remote_system", "remote_scope", "object"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    remote_system: Mapped[str] = mapped_column(String(40))
    remote_scope: Mapped[str] = mapped_column(String(100))
    object: Mapped[str] = mapped_column(String(60))
    modified_at: Mapped[datetime | None] = mapped_column()
    last_id: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxItem(Base):
    """A hub change waiting to be pushed. The field set is kept, not the values: the push
    reads the record when it sends, so many quick edits coalesce into one write. Each consumer
    (a sync) keeps its own position (OutboxPosition), so two CRMs each get every change; items
    every consumer has passed are pruned."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    hub_object: Mapped[str] = mapped_column(String(60))
    hub_id: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxPosition(Base):
    """How far one consumer (a sync of a connection) has read the outbox."""

    __tablename__ = "outbox_positions"
    __table_args__ = (UniqueConstraint("workspace_id", "consumer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    consumer: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JournalEntry(Base):
    """One write of a run with the values it replaced, so `undo` can restore them."""

    __tablename__ = "journal"
    __table_args__ = (
        CheckConstraint(_in("op", JOURNAL_OPS), name="op"),
        CheckConstraint(_in("target", JOURNAL_TARGETS), name="target"),
        Index("ix_journal_run", "run_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))
    target: Mapped[str] = mapped_column(String(10))
    remote_system: Mapped[str | None] = mapped_column(String(40))
    remote_scope: Mapped[str | None] = mapped_column(String(100))
    object: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str] = mapped_column(String(100))
    op: Mapped[str] = mapped_column(String(10))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column()


class Connection(Base):
    """One authorised link to an outside system. Credentials are sealed (secrets.SecretBox)."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        CheckConstraint(_in("health", CONNECTION_HEALTH), name="health"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(String(2048))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credentials: Mapped[str | None] = mapped_column(Text)
    # Bumped on every credential write: token rotation is a compare-and-swap on this.
    credentials_version: Mapped[int] = mapped_column(Integer, default=0)
    remote_scope: Mapped[str | None] = mapped_column(String(100))
    health: Mapped[str] = mapped_column(String(20), default="unknown")
    health_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserLink(Base):
    """A remote user (an Apollo user, a Salesforce user) and the hub user it maps to."""

    __tablename__ = "user_links"
    __table_args__ = (
        UniqueConstraint("workspace_id", "remote_system", "remote_scope", "remote_user_id"),
        UniqueConstraint("workspace_id", "remote_system", "remote_scope", "hub_user_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    remote_system: Mapped[str] = mapped_column(String(40))
    remote_scope: Mapped[str] = mapped_column(String(100))
    remote_user_id: Mapped[str] = mapped_column(String(100))
    remote_email: Mapped[str | None] = mapped_column(String(320))
    remote_name: Mapped[str | None] = mapped_column(String(400))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    hub_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mapped_by: Mapped[str | None] = mapped_column(String(20))  # auto | manual
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordLink(Base):
    """The durable pairing of a hub record with a remote record, unique on both sides.

    Keyed by the remote *scope* (the Apollo team, the Salesforce org), not by our connection
    row, so disconnecting and reconnecting the same team never re-creates its records.
    A `pending` row with no remote_id is a create intent written before the API call.
    """

    __tablename__ = "record_links"
    __table_args__ = (
        Index("ix_record_links_remote_job", "workspace_id", "remote_job_id"),
        UniqueConstraint(
            "workspace_id", "remote_system", "remote_scope", "remote_object", "hub_object", "hub_id"
        ),
        UniqueConstraint(
            "workspace_id", "remote_system", "remote_scope", "remote_object", "remote_id"
        ),
        CheckConstraint(_in("status", LINK_STATUSES), name="status"),
        Index("ix_record_links_retry", "workspace_id", "status", "next_attempt_at"),
        Index(
            "ix_record_links_hub",
            "workspace_id",
            "remote_system",
            "remote_scope",
            "hub_object",
            "hub_id",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    remote_system: Mapped[str] = mapped_column(String(40))
    remote_scope: Mapped[str] = mapped_column(String(100))
    remote_object: Mapped[str] = mapped_column(String(60))
    hub_object: Mapped[str] = mapped_column(String(60))
    hub_id: Mapped[int] = mapped_column(Integer)
    remote_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(30))
    # Hash of the payload that failed permanently: unchanged data is not resent blindly.
    failed_hash: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    pushed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    stale_reason: Mapped[str | None] = mapped_column(Text)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    last_synced_at: Mapped[datetime | None] = mapped_column()
    # A create intent sent in a remote batch job (Bulk 2.0) that may still be writing it: no
    # run creates this record again until that job's results are read (RemoteJob).
    remote_job_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RemoteJob(Base):
    """A server-side batch job (a Salesforce Bulk 2.0 ingest) recorded before its upload is
    closed, so a run that dies (or gives up waiting) leaves it for the next run to finish: wait
    for it, read its results into the links of the intents it carries, or abort it while open."""

    __tablename__ = "remote_jobs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "remote_system", "remote_scope", "remote_job_id"),
        CheckConstraint(_in("state", REMOTE_JOB_STATES), name="state"),
        Index("ix_remote_jobs_open", "workspace_id", "remote_system", "remote_scope", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    remote_system: Mapped[str] = mapped_column(String(40))
    remote_scope: Mapped[str] = mapped_column(String(100))
    remote_job_id: Mapped[str] = mapped_column(String(100))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    object: Mapped[str] = mapped_column(String(60))
    operation: Mapped[str] = mapped_column(String(20))
    # What the connector needs to read the results back (e.g. the CSV columns uploaded).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="open")
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (CheckConstraint(_in("status", RUN_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    job: Mapped[str] = mapped_column(String(60))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # The lease holder (host:pid:nonce) of a running run: a run whose holder is gone was
    # interrupted (killed), not still running.
    holder: Mapped[str | None] = mapped_column(String(100))


class ErrorLogEntry(Base):
    """A failure, with what a person needs to fix it. One problem is one entry: the same
    failure of the same record seen again bumps `count`, `last_seen_at` and `run_id`."""

    __tablename__ = "error_log"
    __table_args__ = (Index("ix_error_log_open", "workspace_id", "resolved_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    job: Mapped[str] = mapped_column(String(60))
    hub_object: Mapped[str | None] = mapped_column(String(60))
    hub_id: Mapped[int | None] = mapped_column(Integer)
    remote_id: Mapped[str | None] = mapped_column(String(100))
    field: Mapped[str | None] = mapped_column(String(120))
    error_class: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # first seen
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()


class JobLease(Base):
    """One lease per (job, connection): runs of one connection never overlap."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()


class JobSchedule(Base):
    """When a scheduled job is next due, per sync (CRM) or per connection (lead push): the
    schedule lives in the hub, so a restarted runner (or another worker) goes on where the last
    one stopped instead of running everything at once."""

    __tablename__ = "job_schedules"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    job: Mapped[str] = mapped_column(String(60))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    next_due_at: Mapped[datetime | None] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[str | None] = mapped_column(String(20))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column()


class Audit(Base):
    """One run of the duplicate audit (`leadbridge audit`), for one CRM connection or the hub
    alone (no connection): when it ran and what it found, so that `status` and a connection's
    first pull can warn when no audit ran or when it found duplicates."""

    __tablename__ = "audits"
    __table_args__ = (Index("ix_audits_connection", "workspace_id", "connection_id", "ran_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
    records: Mapped[int] = mapped_column(Integer, default=0)  # records looked at
    clusters: Mapped[int] = mapped_column(Integer, default=0)  # duplicate clusters, all sections
    # Per section (crm_people, crm_companies, hub_people, hub_companies, across) the clusters
    # and records in them; per hygiene check the records it flagged.
    findings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


TOKEN_SCOPES = ("read", "write")


class WebUser(Base):
    """An account of the web app and the REST API (`leadbridge admin create-user`). The
    password is kept as an argon2id hash only."""

    __tablename__ = "web_users"
    __table_args__ = (UniqueConstraint("workspace_id", "username"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    username: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class WebSession(Base):
    """A signed-in browser: the cookie carries a random token, the hub keeps its SHA-256 only
    (a copied database opens no session), with the CSRF token of its forms."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class ApiToken(Base):
    """A token of the REST API, kept as its SHA-256 (the token is 256 random bits, so a fast
    hash is safe); `prefix` is shown to tell tokens apart."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("scope", TOKEN_SCOPES), name="scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
