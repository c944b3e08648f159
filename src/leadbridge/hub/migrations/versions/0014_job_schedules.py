"""job schedules: when each scheduled job (a CRM sync, a connection's lead push) is next due,
its last run and its back-off, so the schedule survives restarts and is shared by workers

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-03 22:10:00
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = leadbridge.hub.tables.UtcDateTime(timezone=True)
    op.create_table(
        "job_schedules",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("next_due_at", when, nullable=True),
        sa.Column("last_run_at", when, nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", when, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_job_schedules_workspace_id_workspaces"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_job_schedules_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_schedules")),
    )
    with op.batch_alter_table("job_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_schedules_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("job_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_schedules_workspace_id"))
    op.drop_table("job_schedules")
