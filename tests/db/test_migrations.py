"""The same migrations go from empty to head and back on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from lianluo.db import migrate
from lianluo.db.base import Base
from tests.conftest import BACKENDS, _pg_reachable, create_pg_database, drop_pg_database


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_downgrade_roundtrip(backend: str, tmp_path: Path) -> None:
    if backend == "postgres":
        reason = _pg_reachable()
        if reason:
            pytest.skip(reason)
        url = create_pg_database("lianluo_migr")
    else:
        url = f"sqlite:///{tmp_path / 'm.db'}"
    try:
        migrate.upgrade(url)
        import lianluo.models  # noqa: F401

        assert _tables(url) == set(Base.metadata.tables)
        migrate.downgrade(url, "base")
        assert _tables(url) == set()
        assert migrate.current(url) is None
        migrate.upgrade(url)
        assert migrate.current(url) is not None
    finally:
        if backend == "postgres":
            drop_pg_database(url)


def test_models_match_migrations(tmp_path: Path) -> None:
    """Autogenerate finds nothing to do: nobody changed a model without a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import lianluo.models  # noqa: F401

    url = f"sqlite:///{tmp_path / 'c.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_kb_embeddings_are_filled_in_for_articles_indexed_before(tmp_path: Path) -> None:
    """Migration 0015 embeds the articles the index already holds, from their published
    version: after it, they are found by meaning as if published since."""
    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from lianluo.auth.principal import Principal
    from lianluo.kb.repository import vector_cache
    from lianluo.kb.schemas import ArticleIn, Language, SearchMode
    from lianluo.kb.service import article_service
    from lianluo.models import KbDocument, Tenant, User

    url = f"sqlite:///{tmp_path / 'e.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            tenant = Tenant(slug="emb", name="Embeddings")
            session.add(tenant)
            session.flush()
            user = User(
                tenant_id=tenant.id,
                username="sup",
                display_name="sup",
                password_hash="x",
                roles=["supervisor"],
            )
            session.add(user)
            session.flush()
            who = Principal(user.id, tenant.id, None, frozenset(["supervisor"]))
            article = article_service.create(
                session,
                who,
                ArticleIn(
                    title="宽带网速慢排查",
                    body="网速慢先网线直连测速，Wi-Fi慢多为路由器位置或2.4G干扰。",
                    language=Language.zh,
                ),
            )
            article_id = article.id
            article_service.submit(session, who, article_id)
            article_service.publish(session, who, article_id)
            session.commit()
            stored = session.scalars(
                select(KbDocument.embedding).where(KbDocument.article_id == article_id)
            ).one()
            assert stored
            # as an index built before 0015 has it: no embedding
            session.execute(update(KbDocument).values(embedding=None))
            session.commit()
        engine.dispose()

        migrate.downgrade(url, "0014")
        migrate.upgrade(url)

        vector_cache.clear()
        with Session(engine) as session:
            assert (
                session.scalars(
                    select(KbDocument.embedding).where(KbDocument.article_id == article_id)
                ).one()
                == stored
            )
            hits, _total, _terms = article_service.search(
                session, who, "打游戏延迟特别高老是掉线", None, 0, 5, SearchMode.hybrid
            )
            assert [h.article_id for h in hits] == [article_id]
    finally:
        engine.dispose()
