"""Chat tests run on a database of their own per backend (see helpers.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS, _pg_reachable, create_pg_database, drop_pg_database
from tests.routing.helpers import Clock


@pytest.fixture(scope="module", params=BACKENDS)
def chat_db_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[str]:
    from lianluo.db import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('chat') / 'chat.db'}"
        migrate.upgrade(url)
        yield url
        return
    reason = _pg_reachable()
    if reason:
        if os.environ.get("LIANLUO_TEST_REQUIRE_PG") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = create_pg_database("lianluo_chat")
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="module")
def chat_ctx(chat_db_url: str) -> Iterator[Any]:
    from lianluo.app import build_context
    from lianluo.config import Settings

    settings = Settings(database_url=chat_db_url, secret_key="chat-test-secret-" + "x" * 20)
    ctx = build_context(settings)
    yield ctx
    ctx.engine.dispose()


@pytest.fixture
def clock(chat_ctx: Any) -> Clock:
    clock = Clock()  # 2027-01-15 16:00 in Shanghai, a Friday
    chat_ctx.extras.clear()
    chat_ctx.extras["router_clock"] = clock
    chat_ctx.extras["chat_queue_update_s"] = 3600.0
    return clock


@pytest.fixture
def client(chat_ctx: Any, clock: Clock) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from lianluo.app import create_app

    with TestClient(create_app(context=chat_ctx), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def floor(chat_ctx: Any) -> Any:
    from tests.channels.chat.helpers import make_floor

    return make_floor(chat_ctx, chat_ctx.tokens)


class ShortSessions:
    """Every use is its own short transaction: on SQLite each one holds the write lock
    (BEGIN IMMEDIATE), which the app's threads need."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        with self.ctx.sessions() as session:
            result = session.execute(*args, **kwargs)
            return _Buffered(list(result.all()))

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with self.ctx.sessions() as session:
            return session.get(*args, **kwargs)

    def expire_all(self) -> None:
        pass


class _Buffered:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def scalar_one(self) -> Any:
        assert len(self.rows) == 1, self.rows
        return self.rows[0][0]

    def scalars(self) -> list[Any]:
        return [r[0] for r in self.rows]


@pytest.fixture
def db(chat_ctx: Any) -> ShortSessions:
    return ShortSessions(chat_ctx)
