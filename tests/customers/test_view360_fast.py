"""`GET /customers/{id}/360` on PostgreSQL with sessions bound to an engine, as served: the
whole request (caller, view, audit) is one statement, run from the event loop on the app's own
connections (`view360_pg.view_360_async`, opened by the app's lifespan), or, for an app
whose lifespan did not run, on one pooled driver connection in a worker thread
(`view360_pg.view_360_request`). Every test runs on both paths. The shared fixtures bind
sessions to one rolled-back connection, which takes the session path, so this module builds a
committed database of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from lianluo.customers import view360_pg
from lianluo.customers.service import customer_service
from lianluo.db import engine as db_engine
from lianluo.models import Event, User
from tests.conftest import _pg_reachable, create_pg_database, drop_pg_database
from tests.customers.test_view360_pg import busy_customer, principal_of
from tests.factories import build_world


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Engine, Any, Any, str]]:
    """(engine, world, app, busy customer id) on a fresh, committed PostgreSQL database."""
    from lianluo.app import create_app
    from lianluo.auth.ratelimit import LoginRateLimiter
    from lianluo.auth.tokens import TokenCodec
    from lianluo.config import Settings
    from lianluo.db import migrate
    from lianluo.deps import AppContext
    from lianluo.events.service import BUS_KEY, install_publisher
    from lianluo.runtime.bus import EventBus

    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    url = create_pg_database("lianluo_v360")
    engine = db_engine.make_engine(url, pool_size=2)
    try:
        migrate.upgrade(url)
        settings = Settings(database_url=url, secret_key="test-secret-" + "x" * 20)
        bus = EventBus()
        sessions = db_engine.make_sessionmaker(engine)
        sessions.configure(info={BUS_KEY: bus})
        install_publisher(sessions)
        tokens = TokenCodec(settings.secret_key, settings.token_ttl_s)
        with sessions() as session:
            world = build_world(session, tokens)
            customer_id = busy_customer(session, world)
            session.commit()
        context = AppContext(
            settings=settings,
            engine=engine,
            sessions=sessions,
            tokens=tokens,
            login_limiter=LoginRateLimiter(5, 60),
            bus=bus,
            extras={},
        )
        yield engine, world, create_app(context=context), customer_id
    finally:
        engine.dispose()
        drop_pg_database(url)


@pytest.fixture(params=["event loop", "thread pool"])
def client(
    served: tuple[Engine, Any, Any, str], request: pytest.FixtureRequest
) -> Iterator[TestClient]:
    app = served[2]
    if request.param == "event loop":  # the lifespan runs: the app opens its view connections
        with TestClient(app, raise_server_exceptions=False) as c:
            assert view360_pg.VIEW_CONNECTIONS in app.state.ctx.extras
            yield c
        assert view360_pg.VIEW_CONNECTIONS not in app.state.ctx.extras  # closed at shutdown
    else:
        c = TestClient(app, raise_server_exceptions=False)
        assert view360_pg.VIEW_CONNECTIONS not in app.state.ctx.extras
        yield c
        c.close()


def audits(engine: Engine, customer_id: str) -> list[tuple[str | None, str | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(Event.actor_id, Event.partner_id)
            .where(Event.type == "audit.customer.viewed_360", Event.customer_id == customer_id)
            .order_by(Event.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def portable(engine: Engine, user: User, customer_id: str) -> Any:
    with Session(engine) as session:
        document = customer_service.view_360(session, principal_of(user), customer_id, 20, 50)
        session.rollback()  # the portable path audits too; keep the count to the HTTP calls
    return json.loads(document.model_dump_json())


@pytest.mark.parametrize("role", ["agent", "admin", "p_admin"])
def test_document_and_audit_as_the_session_path_gives(
    client: TestClient, served: tuple[Engine, Any, Any, str], role: str
) -> None:
    engine, world, _, customer_id = served
    user = world.a.users[role]
    before = audits(engine, customer_id)
    response = client.get(f"/api/v1/customers/{customer_id}/360", headers=world.headers(user))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == portable(engine, user, customer_id)
    assert audits(engine, customer_id) == [*before, (user.id, user.partner_id)]


def test_limits_are_passed_through(
    client: TestClient, served: tuple[Engine, Any, Any, str]
) -> None:
    _, world, _, customer_id = served
    response = client.get(
        f"/api/v1/customers/{customer_id}/360?conversations=2&messages_per_conversation=3",
        headers=world.headers(world.a.users["agent"]),
    )
    timeline = response.json()["timeline"]
    assert len(timeline) == 2
    assert [len(conv["messages"]) for conv in timeline] == [3, 3]


@pytest.mark.parametrize("who", ["other tenant", "other partner"])
def test_invisible_customer_is_404_and_not_audited(
    client: TestClient, served: tuple[Engine, Any, Any, str], who: str
) -> None:
    engine, world, _, customer_id = served
    user = world.b.users["admin"] if who == "other tenant" else world.a.users["q_admin"]
    before = audits(engine, customer_id)
    response = client.get(f"/api/v1/customers/{customer_id}/360", headers=world.headers(user))
    assert response.status_code == 404
    assert customer_id in response.json()["error"]["message"]
    assert audits(engine, customer_id) == before


def test_role_without_customer_access_is_403(
    client: TestClient, served: tuple[Engine, Any, Any, str]
) -> None:
    engine, world, _, customer_id = served
    before = audits(engine, customer_id)
    response = client.get(
        f"/api/v1/customers/{customer_id}/360", headers=world.headers(world.a.users["wfm"])
    )
    assert response.status_code == 403
    assert "reading customers" in response.json()["error"]["message"]
    assert audits(engine, customer_id) == before


def test_tokens_are_checked_against_the_user_row(
    client: TestClient, served: tuple[Engine, Any, Any, str]
) -> None:
    engine, world, _, customer_id = served
    path = f"/api/v1/customers/{customer_id}/360"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer forged"}).status_code == 401
    user = world.a.users["supervisor"]
    headers = world.headers(user)
    with Session(engine) as session:  # the version the token was signed with (the database is
        session.execute(  # the module's: the other path's run of this test logged out)
            update(User).where(User.id == user.id).values(token_version=user.token_version)
        )
        session.commit()
    assert client.get(path, headers=headers).status_code == 200
    with Session(engine) as session:  # "log out everywhere"
        session.execute(
            update(User).where(User.id == user.id).values(token_version=User.token_version + 1)
        )
        session.commit()
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert "log in again" in response.json()["error"]["message"]


def test_refused_requests_leave_the_pooled_connection_clean(
    client: TestClient, served: tuple[Engine, Any, Any, str]
) -> None:
    """A refusal after the caller's row was read must roll its transaction back: the pool
    has two connections, and each goes through many refusals and then serves again."""
    engine, world, _, customer_id = served
    path = f"/api/v1/customers/{customer_id}/360"
    for _ in range(6):
        assert client.get(path, headers=world.headers(world.b.users["admin"])).status_code == 404
        assert client.get(path, headers=world.headers(world.a.users["wfm"])).status_code == 403
    assert client.get(path, headers=world.headers(world.a.users["qa"])).status_code == 200
    with engine.connect() as connection:
        idle_in_transaction = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
                " AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert idle_in_transaction == 0


def test_a_dead_pooled_connection_is_replaced(
    client: TestClient, served: tuple[Engine, Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend killed meanwhile is replaced and the request succeeds: the thread path's pool
    pings connections idle for IDLE_PING_S; the event loop's connections retry the statement
    once on a new connection when an idle one turns out dead."""
    engine, world, _, customer_id = served
    headers = world.headers(world.a.users["agent"])
    path = f"/api/v1/customers/{customer_id}/360"
    assert client.get(path, headers=headers).status_code == 200
    admin = create_engine(engine.url, poolclass=NullPool)  # outside the pool under test
    with admin.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    admin.dispose()
    assert killed >= 1
    monkeypatch.setattr(db_engine, "IDLE_PING_S", 0.0)
    for _ in range(3):  # both pooled connections, whichever comes first
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) > 0
