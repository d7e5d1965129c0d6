"""voice: desk controls of a connected call (hold, consultation)

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-23 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lianluo.db.base

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_controls",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("hold", sa.Boolean(), nullable=False),
        sa.Column("held_since", lianluo.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consult_agent_id", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", lianluo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lianluo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consult_agent_id"],
            ["agents.id"],
            name=op.f("fk_voice_controls_consult_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_voice_controls_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_voice_controls_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_controls")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_voice_controls_contact_id")),
    )
    with op.batch_alter_table("voice_controls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_controls_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_controls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_controls_tenant_id"))
    op.drop_table("voice_controls")
