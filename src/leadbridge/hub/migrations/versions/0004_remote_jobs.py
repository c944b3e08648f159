"""remote batch jobs recorded with their create intents; runs interrupted by a killed holder

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 16:54:33.501843
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("remote_system", sa.String(length=40), nullable=False),
        sa.Column("remote_scope", sa.String(length=100), nullable=False),
        sa.Column("remote_job_id", sa.String(length=100), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("object", sa.String(length=60), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('open', 'done')", name=op.f("ck_remote_jobs_state")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_remote_jobs_run_id_sync_runs")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_remote_jobs_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_jobs")),
        sa.UniqueConstraint(
            "workspace_id",
            "remote_system",
            "remote_scope",
            "remote_job_id",
            name=op.f("uq_remote_jobs_workspace_id_remote_system_remote_scope_remote_job_id"),
        ),
    )
    with op.batch_alter_table("remote_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_remote_jobs_open",
            ["workspace_id", "remote_system", "remote_scope", "state"],
            unique=False,
        )

    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remote_job_id", sa.String(length=100), nullable=True))
        batch_op.create_index(
            "ix_record_links_remote_job", ["workspace_id", "remote_job_id"], unique=False
        )

    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=100), nullable=True))
        batch_op.drop_constraint(op.f("ck_sync_runs_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_sync_runs_status"),
            "status IN ('running', 'succeeded', 'partial', 'failed', 'deferred', 'interrupted')",
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_runs_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_sync_runs_status"),
            "status IN ('running', 'succeeded', 'partial', 'failed', 'deferred')",
        )
        batch_op.drop_column("holder")

    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_index("ix_record_links_remote_job")
        batch_op.drop_column("remote_job_id")

    with op.batch_alter_table("remote_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_remote_jobs_open")

    op.drop_table("remote_jobs")
