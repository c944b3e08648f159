"""deals and the people on them

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-03 22:10:00
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("pipeline", sa.String(length=100), nullable=True),
        sa.Column("stage", sa.String(length=100), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=True),
        sa.Column("field_changed_at", sa.JSON(), nullable=True),
        sa.Column("created_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_deals_company_id_companies")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_deals_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_deals_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deals_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_deals_ws_updated", ["workspace_id", "updated_at"], unique=False)

    op.create_table(
        "deal_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=True),
        sa.Column("created_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_people_deal_id_deals")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_deal_people_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_deal_people_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_people")),
        sa.UniqueConstraint("deal_id", "person_id", name=op.f("uq_deal_people_deal_id_person_id")),
    )
    with op.batch_alter_table("deal_people", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deal_people_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deal_people_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deal_people_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_table("deal_people")
    op.drop_table("deals")
