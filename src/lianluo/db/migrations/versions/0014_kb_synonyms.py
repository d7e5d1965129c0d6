"""kb: a tenant's own synonym groups for search

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lianluo.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_synonyms",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", lianluo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lianluo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_synonyms_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_kb_synonyms_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_kb_synonyms")),
    )


def downgrade() -> None:
    op.drop_table("kb_synonyms")
