"""reports: published schedule activities, for adherence in agent scorecards

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-23 15:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lianluo.db.base

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_activities",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("start_at", lianluo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", lianluo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("created_at", lianluo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_schedule_activities_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_schedule_activities_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_activities")),
    )
    with op.batch_alter_table("schedule_activities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_schedule_activities_agent", ["tenant_id", "agent_id", "start_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("schedule_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_activities_agent")
    op.drop_table("schedule_activities")
