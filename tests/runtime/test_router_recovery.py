"""kill -9 with contacts queued, offered and connected: after a restart every contact is still
in line in its order, offered or connected, none lost, none duplicated, no agent above
capacity; then everything routes to completion. Runs `lianluo serve` as a real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lianluo.auth.tokens import TokenCodec
from lianluo.db import migrate
from lianluo.db.engine import make_engine, make_sessionmaker
from lianluo.models import Agent, AgentSkill, Contact, Leg, Queue, Skill, Tenant
from tests.conftest import _pg_reachable, create_pg_database, drop_pg_database
from tests.factories import make_customer, make_user

SECRET = "recovery-test-secret-" + "k" * 24
N_CONTACTS = 7
N_AGENTS = 3

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.tmp = tmp
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Any] = []

    def start(self) -> None:
        env = {
            **os.environ,
            "LIANLUO_DATABASE_URL": self.url,
            "LIANLUO_SECRET_KEY": SECRET,
            "LIANLUO_LOG_LEVEL": "warning",
        }
        self.log_path = self.tmp / f"server-{time.time_ns()}.log"
        log = open(self.log_path, "wb")  # noqa: SIM115
        self.logs.append(log)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lianluo.cli.main", "serve", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(
            f"lianluo serve did not come up in 30 s: {self.log_path.read_text()[-3000:]}"
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for log in self.logs:
            log.close()


def _seed(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            tenant = Tenant(slug="rec", name="Recovery")
            session.add(tenant)
            session.flush()
            skill = Skill(tenant_id=tenant.id, name="billing")
            queue = Queue(
                tenant_id=tenant.id,
                name="general",
                channels=["voice"],
                required_skills={"billing": 1},
                offer_timeout_s=600,
                ageing_per_min=0.0,
            )
            session.add_all([skill, queue])
            session.flush()
            supervisor = make_user(session, tenant, "rec-sup", ["supervisor"])
            customer = make_customer(session, tenant, "李雷", phone="+8613800000001")
            agents = []
            for i in range(N_AGENTS):
                user = make_user(session, tenant, f"rec-agent-{i}", ["agent"])
                agent = Agent(tenant_id=tenant.id, user_id=user.id, capacity={"voice": 1})
                session.add(agent)
                session.flush()
                session.add(
                    AgentSkill(tenant_id=tenant.id, agent_id=agent.id, skill_id=skill.id, level=3)
                )
                agents.append((agent.id, user.id, user.token_version))
            session.commit()
            return {
                "tenant": tenant.id,
                "queue": queue.id,
                "customer": customer.id,
                "supervisor": (supervisor.id, supervisor.token_version),
                "agents": agents,
            }
    finally:
        engine.dispose()


def _headers(user_id: str, version: int) -> dict[str, str]:
    codec = TokenCodec(SECRET, 3600)
    return {"Authorization": f"Bearer {codec.encode(codec.issue(user_id, version))}"}


def _rows(url: str) -> tuple[list[Contact], list[Leg]]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            contacts = list(session.execute(select(Contact)).scalars())
            legs = list(session.execute(select(Leg)).scalars())
            return contacts, legs
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        reason = _pg_reachable()
        if reason:
            pytest.skip(reason)
        url = create_pg_database("lianluo_recovery")
        try:
            migrate.upgrade(url)
            yield url
        finally:
            drop_pg_database(url)
        return
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    migrate.upgrade(url)
    yield url


def test_kill9_keeps_every_contact(database: str, tmp_path: Path) -> None:
    started = time.monotonic()
    seed = _seed(database)
    server = Server(database, tmp_path)
    server.start()
    try:
        client = httpx.Client(base_url=server.base, timeout=10)
        agent_headers = [_headers(uid, v) for _aid, uid, v in seed["agents"]]
        sup = _headers(*seed["supervisor"])
        # two of the three agents log in
        for h in agent_headers[:2]:
            r = client.post("/api/v1/routing/me/state", json={"state": "available"}, headers=h)
            assert r.status_code == 200, r.text
        created = []
        for _ in range(N_CONTACTS):
            r = client.post(
                "/api/v1/contacts",
                json={
                    "customer_id": seed["customer"],
                    "queue_id": seed["queue"],
                    "channel": "voice",
                },
                headers=sup,
            )
            assert r.status_code == 201, r.text
            created.append(r.json()["id"])
        # the first agent answers its offer; the second leaves its offer ringing
        offers = client.get("/api/v1/routing/me/offers", headers=agent_headers[0]).json()
        assert len(offers) == 1
        r = client.post(
            f"/api/v1/contacts/{offers[0]['contact_id']}/accept", headers=agent_headers[0]
        )
        assert r.status_code == 200, r.text
        before, _ = _rows(database)
        states_before = Counter(c.state for c in before)
        assert states_before == {"connected": 1, "offered": 1, "queued": N_CONTACTS - 2}

        server.kill9()
        client.close()
        server.port = _free_port()
        server.start()
        client = httpx.Client(base_url=server.base, timeout=10)

        after, legs = _rows(database)
        assert sorted(c.id for c in after) == sorted(created)  # none lost, none duplicated
        by_id = {c.id: c for c in after}
        for c in after:
            assert c.state in ("queued", "offered", "connected")
        # the same contacts are with the same agents, and the line keeps its order
        assert {c.id: (c.state, c.agent_id) for c in before} == {
            c.id: (c.state, c.agent_id) for c in after
        }
        queued = sorted((c for c in after if c.state == "queued"), key=lambda c: c.routing_seq or 0)
        assert [c.id for c in queued] == [cid for cid in created if by_id[cid].state == "queued"]
        held = Counter(c.agent_id for c in after if c.state in ("offered", "connected"))
        assert max(held.values()) <= 1
        open_legs = Counter(leg.contact_id for leg in legs if leg.ended_at is None)
        assert max(open_legs.values()) <= 1
        # the API agrees
        status = client.get(f"/api/v1/routing/queues/{seed['queue']}", headers=sup).json()
        assert (status["waiting"], status["offered"], status["connected"]) == (
            N_CONTACTS - 2,
            1,
            1,
        )

        # the third agent logs in; everyone answers and completes until the line is empty
        r = client.post(
            "/api/v1/routing/me/state", json={"state": "available"}, headers=agent_headers[2]
        )
        assert r.status_code == 200
        ended: set[str] = set()
        deadline = time.monotonic() + 30
        while len(ended) < N_CONTACTS and time.monotonic() < deadline:
            for h in agent_headers:
                for offer in client.get("/api/v1/routing/me/offers", headers=h).json():
                    cid = offer["contact_id"]
                    if offer["state"] == "offered":
                        client.post(f"/api/v1/contacts/{cid}/accept", headers=h)
                    r = client.post(
                        f"/api/v1/contacts/{cid}/complete",
                        json={"disposition": "resolved"},
                        headers=h,
                    )
                    assert r.status_code == 200, r.text
                    ended.add(cid)
        assert ended == set(created)
        final, legs = _rows(database)
        assert {c.state for c in final} == {"ended"}
        assert all(leg.ended_at is not None for leg in legs)
        client.close()
    finally:
        server.stop()
    assert time.monotonic() - started < 60
