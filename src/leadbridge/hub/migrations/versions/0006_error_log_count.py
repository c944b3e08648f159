"""error log: one entry per problem, with how often and when it was last seen

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-03 19:00:00

It follows 0008 (the audits), which reached main first from 0005: one head, and a hub already
at 0008 still gets this revision.
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("error_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("count", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "last_seen_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=True
            )
        )
    # An entry written before this revision was last seen when it was written.
    error_log = sa.table(
        "error_log",
        sa.column("created_at", leadbridge.hub.tables.UtcDateTime(timezone=True)),
        sa.column("last_seen_at", leadbridge.hub.tables.UtcDateTime(timezone=True)),
    )
    op.execute(error_log.update().values(last_seen_at=error_log.c.created_at))
    with op.batch_alter_table("error_log", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seen_at",
            existing_type=leadbridge.hub.tables.UtcDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("error_log", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("count")
