"""Saved reports e-mailed through a real SMTP conversation on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from lianluo.config import Settings
from lianluo.models import SavedReport
from lianluo.reports.scheduler import send_due
from tests.reports.conftest import Inbox

# The morning after day D (tests/reports/conftest.py), in Shanghai
NOW = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)


def settings_for(port: int, database_url: str = "sqlite://") -> Settings:
    return Settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_sender="reports@lianluo.example.com",
    )


def save(client: Any, world: Any, user: str = "supervisor", **body: Any) -> dict[str, Any]:
    body = {"name": "日报 daily", "recipients": ["boss@example.com"], "days": 1, **body}
    response = client.post(
        "/api/v1/reports/saved", json=body, headers=world.headers(world.a.users[user])
    )
    assert response.status_code == 201, response.text
    return response.json()


class TestSendDue:
    def test_due_report_arrives_with_its_attachment(
        self,
        client: Any,
        day: Any,
        smtp: tuple[Inbox, int],
        sessions: sessionmaker[Session],
        session: Session,
    ) -> None:
        inbox, port = smtp
        saved = save(client, day, format="xlsx", group_by="queue")
        session.get(SavedReport, saved["id"]).next_run_at = NOW - timedelta(minutes=1)
        session.commit()

        # the world's saved reports were created (next run) today, after NOW: not due
        assert send_due(sessions, settings_for(port), NOW) == 1

        mine = [m for m in inbox.messages if "boss@example.com" in m[1]]
        assert len(mine) == 1
        sender, recipients, raw = mine[0]
        assert sender == "reports@lianluo.example.com"
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert "日报 daily" in str(message["Subject"])
        assert "2026-11-10" in str(message["Subject"])  # yesterday in Shanghai
        body = message.get_body(("plain",)).get_content()
        assert "offered 呼入量: 6" in body
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_filename().endswith(".xlsx")
        sheet = load_workbook(io.BytesIO(attachment.get_content())).active
        rows = list(sheet.values)
        offered = rows[0].index("offered")
        by_key = {r[2]: r for r in rows[1:]}
        assert by_key[day.a.queues["general"].id][offered] == 5
        assert rows[-1][3] == "total"

        session.expire_all()
        row = session.get(SavedReport, saved["id"])
        assert row.last_sent_at == NOW
        assert row.next_run_at == NOW - timedelta(minutes=1) + timedelta(days=1)
        # not due again the same day
        assert send_due(sessions, settings_for(port), NOW + timedelta(hours=1)) == 0

    def test_partner_report_holds_only_the_partner(
        self,
        client: Any,
        day: Any,
        smtp: tuple[Inbox, int],
        sessions: sessionmaker[Session],
        session: Session,
    ) -> None:
        inbox, port = smtp
        saved = save(client, day, user="p_admin", format="csv", recipients=["p@example.com"])
        for row in session.query(SavedReport).all():
            row.next_run_at = NOW + timedelta(days=1)
        session.get(SavedReport, saved["id"]).next_run_at = NOW
        session.commit()
        assert send_due(sessions, settings_for(port), NOW) == 1
        (message,) = [email.message_from_bytes(m[2], policy=email.policy.default)
                      for m in inbox.messages]  # fmt: skip
        (attachment,) = list(message.iter_attachments())
        text = attachment.get_content()
        text = text.decode("utf-8-sig") if isinstance(text, bytes) else text.lstrip("\ufeff")
        assert day.a.queues["p"].id in text
        assert day.a.queues["general"].id not in text

    def test_unreachable_server_keeps_the_report_due(
        self, client: Any, day: Any, sessions: sessionmaker[Session], session: Session
    ) -> None:
        saved = save(client, day)
        with pytest.MonkeyPatch.context():
            sent = send_due(sessions, settings_for(1), NOW)  # nothing listens on port 1
        assert sent == 0
        session.expire_all()
        assert session.get(SavedReport, saved["id"]).last_sent_at is None


class TestApi:
    def test_send_now_without_smtp_is_409(self, client: Any, day: Any) -> None:
        saved = save(client, day)
        response = client.post(
            f"/api/v1/reports/saved/{saved['id']}/send",
            headers=day.headers(day.a.users["supervisor"]),
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"

    def test_bad_recipient_is_422(self, client: Any, day: Any) -> None:
        response = client.post(
            "/api/v1/reports/saved",
            json={"name": "x", "recipients": ["not an address"]},
            headers=day.headers(day.a.users["supervisor"]),
        )
        assert response.status_code == 422

    def test_list_and_delete(self, client: Any, day: Any) -> None:
        headers = day.headers(day.a.users["p_admin"])
        saved = save(client, day, user="p_admin")
        listed = client.get("/api/v1/reports/saved", headers=headers).json()
        ids = {r["id"] for r in listed["items"]}
        assert saved["id"] in ids
        assert day.a.saved_reports["general"].id not in ids  # the tenant's, not the partner's
        assert (
            client.delete(f"/api/v1/reports/saved/{saved['id']}", headers=headers).status_code
            == 204
        )


def test_cli_send_due(
    tmp_path: Any, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command on its own database (the fixtures' rows live in a transaction it cannot
    see): one tenant, one due report, one e-mail."""
    from lianluo import config
    from lianluo.cli.main import app
    from lianluo.db import migrate
    from lianluo.db.engine import make_engine, make_sessionmaker
    from lianluo.models import Tenant, User

    inbox, port = smtp
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        tenant = Tenant(slug="cli", name="CLI")
        s.add(tenant)
        s.flush()
        boss = User(tenant_id=tenant.id, username="boss", display_name="boss",
                    password_hash="x", roles=["supervisor"])  # fmt: skip
        s.add(boss)
        s.flush()
        s.add(SavedReport(tenant_id=tenant.id, owner_id=boss.id, name="cli daily",
                          params={"days": 1}, recipients=["cli@example.com"],
                          next_run_at=datetime.now(UTC) - timedelta(minutes=5)))  # fmt: skip
        s.commit()
    engine.dispose()
    monkeypatch.setenv("LIANLUO_DATABASE_URL", url)
    monkeypatch.setenv("LIANLUO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LIANLUO_SMTP_PORT", str(port))
    monkeypatch.setenv("LIANLUO_SMTP_STARTTLS", "false")
    monkeypatch.setattr(config, "settings", None)
    result = CliRunner().invoke(app, ["reports", "send-due"])
    again = CliRunner().invoke(app, ["reports", "send-due"])
    assert result.exit_code == 0, result.output
    assert "sent 1 saved report(s)" in result.output
    assert "sent 0 saved report(s)" in again.output  # next run is tomorrow
    assert [m[1] for m in inbox.messages] == [["cli@example.com"]]
