"""person tags (the lists a person is on, what a sync's scope selects people by) and the
campaign members a push added

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-04 01:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import leadbridge.hub.tables

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("created_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_tags_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_person_tags_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_tags")),
        sa.UniqueConstraint("person_id", "tag", name=op.f("uq_person_tags_person_id_tag")),
    )
    with op.batch_alter_table("person_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_tags_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_person_tags_ws_tag", ["workspace_id", "tag"], unique=False)
    op.create_table(
        "campaign_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("remote_system", sa.String(length=40), nullable=False),
        sa.Column("remote_scope", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", leadbridge.hub.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_campaign_members_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_members_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_members")),
        sa.UniqueConstraint(
            "workspace_id",
            "remote_system",
            "remote_scope",
            "campaign",
            "person_id",
            name="uq_campaign_members_once",
        ),
    )
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_members_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("campaign_members")
    op.drop_table("person_tags")
