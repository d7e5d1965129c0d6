"""knowledge-base search index: one packed posting list per term instead of one row per posting

Revision ID: 0010
Revises: 0012

kb_postings (a row per article and term, single characters included) gives way to
kb_term_postings (a row per tenant, term and language holding the packed list) and
kb_index_heads (document numbers, and the lock index writers take). The index is derived data:
it is rebuilt here from the published versions of the articles.
"""

import secrets
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kb_postings", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_postings_tenant_term")
    op.drop_table("kb_postings")
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_documents_tenant_language")
    op.drop_table("kb_documents")
    op.execute("DELETE FROM kb_index_stats")

    op.create_table(
        "kb_documents",
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("doc_no", sa.Integer(), nullable=False),
        sa.Column("title_length", sa.Integer(), nullable=False),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_documents_article_id_kb_articles")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_documents_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_kb_documents")),
        sa.UniqueConstraint("tenant_id", "doc_no", name=op.f("uq_kb_documents_tenant_id_doc_no")),
    )
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kb_documents_tenant_language", ["tenant_id", "language"], unique=False
        )
    op.create_table(
        "kb_term_postings",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("postings", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_term_postings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "term", "language", name=op.f("pk_kb_term_postings")),
    )
    op.create_table(
        "kb_index_heads",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("next_doc_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_index_heads_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_kb_index_heads")),
    )
    _reindex()


def _reindex() -> None:
    """Index the published version of every live article, tenant by tenant."""
    from lianluo.domain.kb import postings
    from lianluo.domain.kb.bm25 import weighted_length
    from lianluo.domain.kb.tokenize import Analyzed, analyze

    articles = sa.table(
        "kb_articles",
        sa.column("id"),
        sa.column("tenant_id"),
        sa.column("status"),
        sa.column("published_version"),
    )
    versions = sa.table(
        "kb_article_versions",
        sa.column("article_id"),
        sa.column("version"),
        sa.column("language"),
        sa.column("title"),
        sa.column("body"),
        sa.column("category"),
        sa.column("tags", sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            articles.c.tenant_id,
            articles.c.id,
            versions.c.language,
            versions.c.title,
            versions.c.body,
            versions.c.category,
            versions.c.tags,
        )
        .join(
            versions,
            sa.and_(
                versions.c.article_id == articles.c.id,
                versions.c.version == articles.c.published_version,
            ),
        )
        .where(articles.c.status != "archived")
        .order_by(articles.c.tenant_id, articles.c.id)
    ).all()
    by_tenant: dict[str, list[tuple[str, str, Analyzed]]] = {}
    for tenant_id, article_id, language, title, body, category, tags in rows:
        doc = analyze(title, body, category or "", tuple(tags or ()))
        by_tenant.setdefault(tenant_id, []).append((article_id, language, doc))
    for tenant_id, docs in by_tenant.items():
        lists: dict[tuple[str, str], list[tuple[int, int, int, int, int]]] = {}
        stats: Counter[str] = Counter()
        lengths: dict[str, float] = {}
        for doc_no, (article_id, language, doc) in enumerate(docs, start=1):
            terms = sorted(doc.terms())
            bind.execute(
                sa.text(
                    "INSERT INTO kb_documents (article_id, tenant_id, language, doc_no, "
                    "title_length, body_length, terms) VALUES (:a, :t, :l, :n, :tl, :bl, :terms)"
                ),
                {
                    "a": article_id,
                    "t": tenant_id,
                    "l": language,
                    "n": doc_no,
                    "tl": doc.title_length,
                    "bl": doc.body_length,
                    "terms": "\n".join(terms),
                },
            )
            stats[language] += 1
            lengths[language] = lengths.get(language, 0.0) + weighted_length(
                doc.title_length, doc.body_length
            )
            for term in terms:
                lists.setdefault((language, term), []).append(
                    (
                        doc_no,
                        doc.body_tf.get(term, 0),
                        doc.title_tf.get(term, 0),
                        doc.title_length,
                        doc.body_length,
                    )
                )
        for (language, term), entries in lists.items():
            bind.execute(
                sa.text(
                    "INSERT INTO kb_term_postings "
                    "(tenant_id, term, language, documents, revision, postings) "
                    "VALUES (:t, :term, :l, :n, :r, :p)"
                ).bindparams(sa.bindparam("p", type_=sa.LargeBinary())),
                {
                    "t": tenant_id,
                    "term": term,
                    "l": language,
                    "n": len(entries),
                    "r": secrets.randbits(62),
                    "p": postings.encode(postings.records(entries)),
                },
            )
        for language, n in stats.items():
            bind.execute(
                sa.text(
                    "INSERT INTO kb_index_stats (tenant_id, language, documents, total_length) "
                    "VALUES (:t, :l, :n, :len)"
                ),
                {"t": tenant_id, "l": language, "n": n, "len": lengths[language]},
            )
        bind.execute(
            sa.text("INSERT INTO kb_index_heads (tenant_id, next_doc_no) VALUES (:t, :n)"),
            {"t": tenant_id, "n": len(docs) + 1},
        )


def downgrade() -> None:
    op.drop_table("kb_index_heads")
    op.drop_table("kb_term_postings")
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_documents_tenant_language")
    op.drop_table("kb_documents")
    op.execute("DELETE FROM kb_index_stats")
    op.create_table(
        "kb_documents",
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title_length", sa.Integer(), nullable=False),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_documents_article_id_kb_articles")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_documents_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_kb_documents")),
    )
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kb_documents_tenant_language", ["tenant_id", "language"], unique=False
        )
    op.create_table(
        "kb_postings",
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("body_tf", sa.Integer(), nullable=False),
        sa.Column("title_tf", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_postings_article_id_kb_articles")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_postings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("article_id", "term", name=op.f("pk_kb_postings")),
    )
    with op.batch_alter_table("kb_postings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kb_postings_tenant_term", ["tenant_id", "term", "article_id"], unique=False
        )
    # the old index is left empty: publishing an article again fills it
