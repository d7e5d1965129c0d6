"""Saved reports keep every filter and grouping of the reports page, re-apply them when the
e-mail goes out (a real SMTP conversation on loopback), and refuse what the caller cannot see.

Day D and its contacts: tests/reports/conftest.py and test_reports_api.py.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from lianluo.models import SavedReport
from lianluo.reports.scheduler import send_due
from tests.reports.conftest import Inbox
from tests.reports.test_scheduler import NOW, settings_for

D = "2026-11-10"

# filter -> its value in tenant A's world (day D has contacts on each)
FILTERS: dict[str, Callable[[Any], str]] = {
    "queue_id": lambda w: w.a.queues["general"].id,
    "agent_id": lambda w: w.a.agents["general"].id,
    "partner_id": lambda w: w.a.partners["p"].id,
    "channel": lambda w: "chat",
    "skill": lambda w: "billing",
    "team": lambda w: "一组",
    "region": lambda w: "广东",
}


def historical(client: Any, world: Any, user: str = "supervisor", **params: Any) -> Any:
    response = client.get(
        "/api/v1/reports/historical",
        params={"date_from": D, "date_to": D, **params},
        headers=world.headers(world.a.users[user]),
    )
    assert response.status_code == 200, response.text
    return response.json()


def post(client: Any, world: Any, user: str = "supervisor", **body: Any) -> Any:
    body = {"name": "filtered", "recipients": ["boss@example.com"], "days": 1, **body}
    return client.post(
        "/api/v1/reports/saved", json=body, headers=world.headers(world.a.users[user])
    )


def listed(client: Any, world: Any, report_id: str, user: str = "supervisor") -> dict[str, Any]:
    response = client.get(
        "/api/v1/reports/saved",
        params={"page_size": 200},
        headers=world.headers(world.a.users[user]),
    )
    assert response.status_code == 200, response.text
    return next(r for r in response.json()["items"] if r["id"] == report_id)


def send_only(
    session: Session, sessions: sessionmaker[Session], smtp: tuple[Inbox, int], report_id: str
) -> tuple[str, list[tuple[Any, ...]]]:
    """Make `report_id` the one due report, send it, and return the e-mail's text and the
    rows of its XLSX attachment."""
    for row in session.query(SavedReport).all():
        row.next_run_at = NOW + (timedelta(0) if row.id == report_id else timedelta(days=1))
    session.commit()
    inbox, port = smtp
    assert send_due(sessions, settings_for(port), NOW) == 1
    return read_last(inbox)


def read_last(inbox: Inbox) -> tuple[str, list[tuple[Any, ...]]]:
    message = email.message_from_bytes(inbox.messages[-1][2], policy=email.policy.default)
    body = message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    rows = list(load_workbook(io.BytesIO(attachment.get_content())).active.values)
    return body, rows


def figure(body: str, label: str) -> str:
    found = re.search(rf"^{re.escape(label)}: (.+)$", body, re.M)
    assert found, body
    return found.group(1)


class TestRoundTrip:
    @pytest.mark.parametrize("name", sorted(FILTERS))
    def test_each_filter_is_stored_listed_and_applied_to_the_email(
        self,
        client: Any,
        day: Any,
        smtp: tuple[Inbox, int],
        sessions: sessionmaker[Session],
        session: Session,
        name: str,
    ) -> None:
        value = FILTERS[name](day)
        response = post(client, day, group_by="none", grain="day", **{name: value})
        assert response.status_code == 201, response.text
        saved = response.json()
        assert saved[name] == value
        again = listed(client, day, saved["id"])
        assert again[name] == value
        assert {k: again[k] for k in FILTERS if k != name} == dict.fromkeys(
            (k for k in FILTERS if k != name), None
        )

        plain = post(client, day, group_by="none", name="unfiltered").json()
        unfiltered_body, _ = send_only(session, sessions, smtp, plain["id"])
        body, rows = send_only(session, sessions, smtp, saved["id"])

        expected = historical(client, day, group_by="none", **{name: value})["total"]
        everything = historical(client, day, group_by="none")["total"]
        assert expected["offered"] != everything["offered"]  # the filter narrows day D
        assert figure(body, "offered 呼入量") == str(expected["offered"])
        assert figure(body, "answered 接通量") == str(expected["answered"])
        assert figure(unfiltered_body, "offered 呼入量") == str(everything["offered"])
        assert body != unfiltered_body
        assert value in body  # the e-mail says what it was filtered by
        header = rows[0]
        assert rows[-1][header.index("offered")] == expected["offered"]

    def test_grain_and_every_grouping_are_kept(self, client: Any, day: Any) -> None:
        for group_by in ("queue", "skill", "agent", "team", "partner", "channel", "region"):
            saved = post(client, day, grain="60min", group_by=group_by).json()
            again = listed(client, day, saved["id"])
            assert (again["grain"], again["group_by"]) == ("60min", group_by)

    def test_all_filters_at_once_and_grouping_in_the_attachment(
        self,
        client: Any,
        day: Any,
        smtp: tuple[Inbox, int],
        sessions: sessionmaker[Session],
        session: Session,
    ) -> None:
        filters = {"queue_id": day.a.queues["general"].id, "skill": "billing",
                   "region": "广东"}  # fmt: skip
        saved = post(client, day, group_by="channel", grain="60min", **filters).json()
        assert {k: saved[k] for k in filters} == filters
        _, rows = send_only(session, sessions, smtp, saved["id"])
        expected = historical(client, day, group_by="channel", grain="60min", **filters)
        header = rows[0]
        got = {(r[header.index("start")][:16], r[header.index("key")]): r[header.index("offered")]
               for r in rows[1:-1]}  # fmt: skip
        assert got == {(r["start"][:16], r["key"]): r["kpis"]["offered"]
                       for r in expected["rows"]}  # fmt: skip
        assert len(got) >= 2  # by hour and channel: c1 (voice) and c4 (chat) apart

    def test_blank_filters_mean_all(self, client: Any, day: Any) -> None:
        saved = post(client, day, queue_id="", skill=" ", region="").json()
        assert (saved["queue_id"], saved["skill"], saved["region"]) == (None, None, None)


class TestValidation:
    @pytest.mark.parametrize(
        ("field", "foreign"),
        [
            ("queue_id", lambda w: w.b.queues["general"].id),
            ("agent_id", lambda w: w.b.agents["general"].id),
            ("partner_id", lambda w: w.b.partners["p"].id),
            ("skill", lambda w: w.b.skills["billing"].id),  # an id is not a skill name
            ("team", lambda w: "no such team"),
        ],
    )
    def test_another_tenants_id_is_as_unknown_as_a_made_up_one(
        self, client: Any, day: Any, field: str, foreign: Callable[[Any], str]
    ) -> None:
        theirs = post(client, day, **{field: foreign(day)})
        made_up = post(client, day, **{field: "zzzzzzzzzzzz"})
        for response in (theirs, made_up):
            assert response.status_code == 422, response.text
            error = response.json()["error"]
            assert error["details"] == [{"field": field, "message": error["details"][0]["message"]}]
            assert error["details"][0]["message"].startswith("unknown ")
        # the same answer either way: nothing tells whether the id exists elsewhere
        theirs_msg = theirs.json()["error"]["message"].replace(foreign(day), "X")
        assert theirs_msg == made_up.json()["error"]["message"].replace("zzzzzzzzzzzz", "X")

    @pytest.mark.parametrize(
        ("field", "other_partners"),
        [
            ("queue_id", lambda w: w.a.queues["q"].id),
            ("agent_id", lambda w: w.a.agents["q"].id),
            ("partner_id", lambda w: w.a.partners["q"].id),
            ("queue_id", lambda w: w.a.queues["general"].id),  # the tenant's own queue
        ],
    )
    def test_partner_admin_filters_on_its_partner_only(
        self, client: Any, day: Any, field: str, other_partners: Callable[[Any], str]
    ) -> None:
        response = post(client, day, user="p_admin", **{field: other_partners(day)})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field
        own = {"queue_id": day.a.queues["p"].id, "agent_id": day.a.agents["p"].id,
               "partner_id": day.a.partners["p"].id}[field]  # fmt: skip
        assert post(client, day, user="p_admin", **{field: own}).status_code == 201

    def test_every_bad_field_is_named(self, client: Any, day: Any) -> None:
        response = post(client, day, queue_id="nope", team="nope", channel="fax", days=0)
        assert response.status_code == 422
        fields = {d["field"] for d in response.json()["error"]["details"]}
        assert {"channel", "days"} <= {f.split(".")[-1] for f in fields}
        checked = post(client, day, queue_id="nope", team="nope")
        assert {d["field"] for d in checked.json()["error"]["details"]} == {"queue_id", "team"}

    def test_partner_report_is_built_in_the_partners_scope(
        self,
        client: Any,
        day: Any,
        smtp: tuple[Inbox, int],
        sessions: sessionmaker[Session],
        session: Session,
    ) -> None:
        """A partner admin's report grouped by agent holds its partner's agent only."""
        saved = post(client, day, user="p_admin", group_by="agent",
                     agent_id=day.a.agents["p"].id).json()  # fmt: skip
        _, rows = send_only(session, sessions, smtp, saved["id"])
        header = rows[0]
        keys = {r[header.index("key")] for r in rows[1:-1]}
        assert keys == {day.a.agents["p"].id}
        expected = historical(client, day, user="p_admin", group_by="agent",
                              agent_id=day.a.agents["p"].id)  # fmt: skip
        assert rows[-1][header.index("offered")] == expected["total"]["offered"]
