"""crm mirror: rows read but not yet reconciled into the hub

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_crm_records_pending",
            ["workspace_id", "remote_scope", "object", "pending"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_records_pending")
        batch_op.drop_column("pending")
