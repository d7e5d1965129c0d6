"""kb: a sentence embedding per indexed article, for semantic search beside BM25

The articles already in the index are embedded here, from their published version (a few
milliseconds each: minutes for 100,000).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("kb_documents") as batch:
        batch.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))
    _embed()


def _embed() -> None:
    documents = sa.table("kb_documents", sa.column("article_id"), sa.column("embedding"))
    articles = sa.table("kb_articles", sa.column("id"), sa.column("published_version"))
    versions = sa.table(
        "kb_article_versions",
        sa.column("article_id"),
        sa.column("version"),
        sa.column("title"),
        sa.column("body"),
        sa.column("category"),
        sa.column("tags", sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            documents.c.article_id,
            versions.c.title,
            versions.c.body,
            versions.c.category,
            versions.c.tags,
        )
        .join(articles, articles.c.id == documents.c.article_id)
        .join(
            versions,
            sa.and_(
                versions.c.article_id == articles.c.id,
                versions.c.version == articles.c.published_version,
            ),
        )
        .order_by(documents.c.article_id)
    ).all()
    if not rows:
        return
    from lianluo.ai.embedding import article_text, embedder
    from lianluo.domain.kb.vectors import to_bytes

    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        vectors = embedder.embed(
            [article_text(t, b, c or "", tuple(g or ())) for _a, t, b, c, g in chunk]
        )
        bind.execute(
            sa.update(documents)
            .where(documents.c.article_id == sa.bindparam("b_id"))
            .values(embedding=sa.bindparam("b_embedding")),
            [
                {"b_id": row[0], "b_embedding": to_bytes(vector)}
                for row, vector in zip(chunk, vectors, strict=True)
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("kb_documents") as batch:
        batch.drop_column("embedding")
