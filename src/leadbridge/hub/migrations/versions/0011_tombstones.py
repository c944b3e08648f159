"""tombstones and detached links: deleted_at and merged_into on people and companies; links
whose remote record was deleted (remote_deleted) or whose hub record left (unlinked); a values
hash per mirror row

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0011"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD = ("pending", "created", "adopted", "updated", "error", "undone")
NEW = (*OLD, "remote_deleted", "unlinked")


def _in(values: tuple[str, ...]) -> str:
    return f"status IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    for table in ("people", "companies"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "deleted_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=True
                )
            )
            batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_record_links_status"), type_="check")
        batch_op.create_check_constraint("status", _in(NEW))
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("values_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_column("values_hash")
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_record_links_status"), type_="check")
        batch_op.create_check_constraint("status", _in(OLD))
    for table in ("companies", "people"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("merged_into")
            batch_op.drop_column("deleted_at")
