"""outbox positions of their own; mirror rows carry the event that took them out of play

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 17:20:39.559297
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("consumer", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_outbox_positions_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_positions")),
        sa.UniqueConstraint(
            "workspace_id", "consumer", name=op.f("uq_outbox_positions_workspace_id_consumer")
        ),
    )
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("event_into", sa.JSON(), nullable=True))

    # Positions kept in the connections' sync state move to their table; converted leads read
    # before this revision carry the event their fields say.
    bind = op.get_bind()
    connections = sa.table(
        "connections",
        sa.column("id", sa.Integer),
        sa.column("workspace_id", sa.Integer),
        sa.column("settings", sa.JSON),
    )
    positions = sa.table(
        "outbox_positions",
        sa.column("workspace_id", sa.Integer),
        sa.column("consumer", sa.String),
        sa.column("position", sa.Integer),
        sa.column("updated_at", leadbridge.hub.tables.UtcDateTime(timezone=True)),
    )
    for row in bind.execute(sa.select(connections)).mappings():
        after = ((row["settings"] or {}).get("crm") or {}).get("outbox_after")
        if after is not None:
            bind.execute(
                positions.insert().values(
                    workspace_id=row["workspace_id"],
                    consumer=f"connection:{row['id']}:push",
                    position=int(after),
                    updated_at=leadbridge.hub.tables.utcnow(),
                )
            )
    records = sa.table(
        "crm_records",
        sa.column("id", sa.Integer),
        sa.column("object", sa.String),
        sa.column("fields", sa.JSON),
        sa.column("event", sa.String),
        sa.column("event_into", sa.JSON),
    )
    for row in bind.execute(
        sa.select(records.c.id, records.c.fields).where(records.c.object == "Lead")
    ).mappings():
        fields = row["fields"] or {}
        if fields.get("IsConverted"):
            into = [
                [target, fields[key]]
                for target, key in (
                    ("Contact", "ConvertedContactId"),
                    ("Account", "ConvertedAccountId"),
                )
                if fields.get(key)
            ]
            bind.execute(
                records.update()
                .where(records.c.id == row["id"])
                .values(event="converted", event_into=into)
            )


def downgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_column("event_into")
        batch_op.drop_column("event")

    op.drop_table("outbox_positions")
