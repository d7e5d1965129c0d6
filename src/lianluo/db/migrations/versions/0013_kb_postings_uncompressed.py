"""kb: posting lists stored out of line without compression (PostgreSQL)

A posting list is read whole on every search that meets its term. TOAST's pglz made the
largest lists (a million bytes of packed records, compressed about 2.3 to 1) cost 70 ms per
ten lists to read back, against 15 ms stored plain: decompression, not disk, was the cost.
EXTERNAL keeps them out of line but uncompressed. Lists already stored stay as they are until
their next write (a publish rewrites each list it touches; a re-index rewrites all).

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-24 16:56:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE kb_term_postings ALTER COLUMN postings SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE kb_term_postings ALTER COLUMN postings SET STORAGE EXTENDED")
