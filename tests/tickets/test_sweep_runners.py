"""The SLA sweep as operators run it: `lianluo tickets sweep` in a subprocess, and the server's
background sweeper thread, both on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from lianluo.db import migrate
from lianluo.db.base import utcnow
from lianluo.db.engine import make_engine, make_sessionmaker
from lianluo.models import Customer, Event, Queue, Tenant, Ticket, TicketCategory
from lianluo.tickets.tasks import TicketSweeper

ROOT = Path(__file__).resolve().parents[2]


def _seed(url: str) -> tuple[str, str]:
    """One tenant with a tiered ticket and a first-contact ticket, both a month late."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            tenant = Tenant(slug="sweep-demo", name="Sweep demo")
            session.add(tenant)
            session.flush()
            queue = Queue(tenant_id=tenant.id, name="支撑", channels=["chat"])
            customer = Customer(tenant_id=tenant.id, name="张三", search_text="张三")
            session.add_all([queue, customer])
            session.flush()
            tiered = TicketCategory(
                tenant_id=tenant.id,
                name="故障",
                ownership_model="tiered",
                tiers=[{"name": "升级", "queue_id": queue.id, "required_skills": {}}],
            )
            owned = TicketCategory(tenant_id=tenant.id, name="咨询")
            session.add_all([tiered, owned])
            session.flush()
            late = utcnow() - timedelta(days=30)
            ids = []
            for category in (tiered, owned):
                ticket = Ticket(
                    tenant_id=tenant.id,
                    customer_id=customer.id,
                    category_id=category.id,
                    subject="late",
                    status="in_progress",
                    ownership_model=category.ownership_model,
                    sla_target_s=3600,
                    sla_warn_before_s=600,
                    sla_started_at=late,
                    sla_warn_at=late + timedelta(minutes=50),
                    sla_due_at=late + timedelta(hours=1),
                )
                session.add(ticket)
                session.flush()
                ids.append(ticket.id)
            session.commit()
            return ids[0], ids[1]
    finally:
        engine.dispose()


def _state(url: str, ticket_id: str) -> tuple[int, int, list[str]]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            types = [
                e.type
                for e in session.execute(select(Event).order_by(Event.id)).scalars()
                if e.payload.get("ticket_id") == ticket_id
            ]
            return ticket.tier, ticket.breaches, types
    finally:
        engine.dispose()


def test_cli_sweep(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lianluo.db'}"
    migrate.upgrade(url)
    tiered_id, owned_id = _seed(url)
    env = {
        **os.environ,
        "LIANLUO_DATABASE_URL": url,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    command = [sys.executable, "-m", "lianluo.cli.main", "tickets", "sweep"]
    done = subprocess.run(
        [*command, "--tenant", "sweep-demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == {
        "checked": 2,
        "warned": 2,
        "breached": 2,
        "escalated": 1,
        "supervisor_alerts": 1,
        "callbacks_due": 0,
    }
    assert _state(url, tiered_id) == (
        1,
        1,
        ["ticket.sla_warning", "ticket.sla_breached", "ticket.escalated"],
    )
    assert _state(url, owned_id)[:2] == (0, 1)
    # nothing twice: the escalated ticket has a fresh clock, the other has breached already
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(again.stdout.strip().splitlines()[-1])["breached"] == 0
    unknown = subprocess.run(
        [*command, "--tenant", "nope"], env=env, capture_output=True, text=True, timeout=120
    )
    assert unknown.returncode == 2


def test_background_sweeper(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lianluo.db'}"
    migrate.upgrade(url)
    tiered_id, _ = _seed(url)
    engine = make_engine(url)
    sweeper = TicketSweeper(make_sessionmaker(engine), interval_s=0.05)
    sweeper.start()
    try:
        deadline = time.monotonic() + 20
        while _state(url, tiered_id)[0] != 1:
            assert time.monotonic() < deadline, "the sweeper did not escalate the late ticket"
            time.sleep(0.05)
    finally:
        sweeper.stop()
        engine.dispose()
    assert _state(url, tiered_id)[1] == 1
