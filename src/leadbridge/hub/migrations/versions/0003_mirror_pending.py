"""crm mirror: rows read but not yet reconciled; outbox positions per connection; undone links

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:10:00
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

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

    # The outbox is read from a position per CRM connection (kept in its sync state).
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_open")
        batch_op.drop_column("done_at")

    # A link whose run was undone: its values (or its create) are held back.
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_record_links_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_record_links_status"),
            "status IN ('pending', 'created', 'adopted', 'updated', 'error', 'undone')",
        )


def downgrade() -> None:
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_record_links_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_record_links_status"),
            "status IN ('pending', 'created', 'adopted', 'updated', 'error')",
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("done_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_outbox_open", ["workspace_id", "done_at"], unique=False)
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_records_pending")
        batch_op.drop_column("pending")
