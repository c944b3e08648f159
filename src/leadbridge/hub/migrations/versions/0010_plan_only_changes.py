"""planning only what changed: the links' lookup index by hub record, and when a mirror row's
values last changed (as read), to compare with when its link was last in sync

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_links_hub",
            ["workspace_id", "remote_system", "remote_scope", "hub_object", "hub_id"],
            unique=False,
        )
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index("ix_people_ws_updated", ["workspace_id", "updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_ws_updated")
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_column("changed_at")
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_index("ix_record_links_hub")
