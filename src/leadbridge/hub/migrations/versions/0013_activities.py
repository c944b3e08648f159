"""activities: e-mails, calls, meetings, notes, tasks and summaries, idempotent by their
source's id, pushed to the CRMs only

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-03 22:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = leadbridge.hub.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), sa.ForeignKey("deals.id"), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", UTC(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("body_preview", sa.Text(), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=True),
        sa.Column("from_email", sa.String(length=320), nullable=True),
        sa.Column("to_emails", sa.JSON(), nullable=True),
        sa.Column("cc_emails", sa.JSON(), nullable=True),
        sa.Column("sent_from_sequence", sa.Boolean(), nullable=False),
        sa.Column("sent_from_hub", sa.Boolean(), nullable=False),
        sa.Column("thread_id", sa.String(length=200), nullable=True),
        sa.Column("call_outcome", sa.String(length=60), nullable=True),
        sa.Column("call_duration_seconds", sa.Integer(), nullable=True),
        sa.Column("recording_url", sa.String(length=2048), nullable=True),
        sa.Column("meeting_start", UTC(timezone=True), nullable=True),
        sa.Column("meeting_end", UTC(timezone=True), nullable=True),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=True),
        sa.Column("due_at", UTC(timezone=True), nullable=True),
        sa.Column("task_status", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('email', 'call', 'meeting', 'note', 'task', 'summary')",
            name=op.f("ck_activities_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_activities_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_activities_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_activities_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_activities_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint(
            "workspace_id",
            "source",
            "source_id",
            name=op.f("uq_activities_workspace_id_source_source_id"),
        ),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activities_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(
            "ix_activities_ws_occurred", ["workspace_id", "occurred_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_ws_occurred")
        batch_op.drop_index(batch_op.f("ix_activities_deal_id"))
        batch_op.drop_index(batch_op.f("ix_activities_company_id"))
        batch_op.drop_index(batch_op.f("ix_activities_person_id"))
        batch_op.drop_index(batch_op.f("ix_activities_workspace_id"))
    op.drop_table("activities")
