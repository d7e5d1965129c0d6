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
