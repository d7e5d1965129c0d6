"""Fixtures shared by the whole suite.

Database tests run on every backend in LIANLUO_TEST_BACKENDS (default "sqlite,postgres"). The
PostgreSQL backend creates a fresh database on the server at LIANLUO_TEST_PG_URL, migrates it with
Alembic and drops it at the end; when the server is unreachable those tests are skipped, unless
LIANLUO_TEST_REQUIRE_PG=1 (CI) turns that into a failure. Each test runs inside a transaction that
is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

PG_ADMIN_URL = os.environ.get(
    "LIANLUO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    b.strip() for b in os.environ.get("LIANLUO_TEST_BACKENDS", "sqlite,postgres").split(",") if b
]


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # reported as the skip reason
        return f"PostgreSQL at {PG_ADMIN_URL} unreachable: {exc.__class__.__name__}"


def create_pg_database(prefix: str = "lianluo_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of each backend, for the whole session."""
    from lianluo.db import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'lianluo.db'}"
        migrate.upgrade(url)
        yield url
        return
    if request.param != "postgres":
        raise ValueError(f"unknown backend {request.param!r} in LIANLUO_TEST_BACKENDS")
    reason = _pg_reachable()
    if reason:
        if os.environ.get("LIANLUO_TEST_REQUIRE_PG") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = create_pg_database()
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    from lianluo.db.engine import make_engine

    engine = make_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    from lianluo.events.service import install_publisher

    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    install_publisher(factory)
    return factory


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def app_context(sessions: sessionmaker[Session], engine: Engine, tmp_path: Path) -> Any:
    from lianluo.auth.ratelimit import LoginRateLimiter
    from lianluo.auth.tokens import TokenCodec
    from lianluo.config import Settings
    from lianluo.deps import AppContext
    from lianluo.events.service import BUS_KEY
    from lianluo.runtime.bus import EventBus

    settings = Settings(database_url=str(engine.url), secret_key="test-secret-" + "x" * 20)
    bus = EventBus()
    sessions.configure(info={BUS_KEY: bus})
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        tokens=TokenCodec(settings.secret_key, settings.token_ttl_s),
        login_limiter=LoginRateLimiter(settings.login_max_failures, settings.login_window_s),
        bus=bus,
        extras={},
    )


@pytest.fixture
def app(app_context: Any) -> Any:
    from lianluo.app import create_app

    return create_app(context=app_context)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def world(session: Session, app_context: Any) -> Any:
    """Two tenants, each with a partner, users of every role and a few customers."""
    from tests.factories import build_world

    return build_world(session, app_context.tokens)
