"""Reports over a hand-made day with known answers (fixture `day` in conftest.py).

Day D (2026-11-10, Asia/Shanghai), queue "general" (Q1), service level 20 s, short abandon 5 s:

- c1 09:00 voice, answered after 10 s by agent G; talk 240 + hold 30 + ACW 30; CSAT 5; need n1
- c2 09:05 abandoned after 3 s (inside the short-abandon threshold)
- c3 09:10 abandoned after 60 s; a complaint (billing) of customer X
- c4 09:20 chat, answered after 30 s by G, transferred; talk 100 + ACW 20; CSAT 2; need n1
  again (a repeat: c1 is not first-contact resolved); a second billing complaint of X while c3
  is open (repeat complaint), taken over the head
- c5 23:58 answered after 20 s (exactly the threshold) by G, talk 600: ends after midnight,
  counts on D
- c6 10:00 on the partner queue P, answered after 5 s by agent P, talk 60
- c7 D+1 08:00 and c8 D 23:30 UTC (= D+1 07:30 local) answered after 5 s by G, talk 50

G is staffed 08:00–12:00 and 23:00–01:00: 5 hours on D.

Skills (the one required at the highest level), regions (the customer's) and teams (the
answering agent's): c1 billing/广东, c3 complaints (billing 2, complaints 5), c4 billing/广东
(its CSAT comes from chat.rated), c5 北京, c6 english/上海; G is in team 一组, P in 外包组.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from lianluo.models import Tenant

D = "2026-11-10"
D1 = "2026-11-11"


def get(client: Any, world: Any, user: str, path: str, **params: Any) -> Any:
    return client.get(path, params=params, headers=world.headers(world.a.users[user]))


def report(client: Any, world: Any, user: str = "supervisor", **params: Any) -> dict[str, Any]:
    params = {"date_from": D, "date_to": D, **params}
    response = get(client, world, user, "/api/v1/reports/historical", **params)
    assert response.status_code == 200, response.text
    return response.json()


def rows_by(body: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(r["start"][:16], r["key"]): r["kpis"] for r in body["rows"]}


class TestQueueDay:
    def test_every_kpi_of_queue_general_on_day_d(self, client: Any, day: Any) -> None:
        body = report(client, day)
        assert body["timezone"] == "Asia/Shanghai"
        q1 = rows_by(body)[("2026-11-10T00:00", day.a.queues["general"].id)]
        assert q1["offered"] == 5
        assert q1["answered"] == 3
        assert q1["abandoned"] == 2
        assert q1["short_abandoned"] == 1
        assert q1["connect_rate"] == pytest.approx(3 / 5)
        assert q1["abandonment_rate"] == pytest.approx(2 / 5)
        # answered within 20 s (c1 at 10 s, c5 at exactly 20 s) / (5 offered - 1 short abandon)
        assert q1["service_level"] == pytest.approx(2 / 4)
        assert q1["asa_s"] == pytest.approx((10 + 30 + 20) / 3)
        assert q1["aht_s"] == pytest.approx((300 + 120 + 600) / 3)
        assert q1["avg_talk_s"] == pytest.approx((240 + 100 + 600) / 3)
        assert q1["avg_hold_s"] == pytest.approx(30 / 3)
        assert q1["avg_acw_s"] == pytest.approx((30 + 20) / 3)
        assert q1["fcr"] == pytest.approx(2 / 3)  # c1 had a repeat (c4) on need n1
        assert q1["effectiveness"] == pytest.approx(2 / 3)  # c4 was transferred
        assert q1["transfer_rate"] == pytest.approx(1 / 3)
        assert q1["csat"] == pytest.approx(1 / 2)
        assert q1["surveys"] == 2
        assert q1["complaints"] == 2
        assert q1["repeat_complaint_rate"] == pytest.approx(1 / 2)
        assert q1["over_the_head_rate"] == pytest.approx(1 / 2)
        assert q1["occupancy"] is None  # a queue has no staffed time

    def test_partner_queue_and_total(self, client: Any, day: Any) -> None:
        body = report(client, day)
        qp = rows_by(body)[("2026-11-10T00:00", day.a.queues["p"].id)]
        assert (qp["offered"], qp["answered"], qp["aht_s"]) == (1, 1, 60)
        assert body["total"]["offered"] == 6
        labels = {r["key"]: r["label"] for r in body["rows"]}
        assert labels[day.a.queues["general"].id] == day.a.queues["general"].name

    def test_other_tenants_contacts_never_count(self, client: Any, day: Any) -> None:
        body = report(client, day, group_by="none")
        assert body["total"]["offered"] == 6


class TestTimeZones:
    def test_contact_spanning_midnight_counts_on_the_day_it_arrived(
        self, client: Any, day: Any
    ) -> None:
        body = report(
            client, day, date_to=D1, group_by="queue", queue_id=day.a.queues["general"].id
        )
        rows = rows_by(body)
        q1 = day.a.queues["general"].id
        assert rows[("2026-11-10T00:00", q1)]["offered"] == 5  # c5 (23:58 -> 00:10) is on D
        assert rows[("2026-11-11T00:00", q1)]["offered"] == 2  # c7, and c8 (07:30 local)

    def test_utc_tenant_buckets_differently(self, client: Any, day: Any, session: Session) -> None:
        session.get(Tenant, day.a.tenant.id).timezone = "UTC"
        session.commit()
        q1 = day.a.queues["general"].id
        body = report(client, day, date_to=D1, queue_id=q1)
        rows = rows_by(body)
        assert body["rows"][0]["start"] == "2026-11-10T00:00:00Z"
        # c5 is 15:58 UTC on D, c8 23:30 UTC on D, c7 00:00 UTC on D+1
        assert rows[("2026-11-10T00:00", q1)]["offered"] == 6
        assert rows[("2026-11-11T00:00", q1)]["offered"] == 1

    def test_hourly_intervals_in_local_time(self, client: Any, day: Any) -> None:
        body = report(client, day, grain="60min", queue_id=day.a.queues["general"].id)
        rows = rows_by(body)
        q1 = day.a.queues["general"].id
        nine = rows[("2026-11-10T09:00", q1)]
        assert nine["offered"] == 4
        assert body["rows"][0]["start"].endswith("+08:00")
        assert rows[("2026-11-10T23:00", q1)]["offered"] == 1

    @pytest.mark.parametrize(("grain", "start"), [("week", "2026-11-09"), ("month", "2026-11-01")])
    def test_week_and_month_buckets(self, client: Any, day: Any, grain: str, start: str) -> None:
        body = report(client, day, date_to=D1, grain=grain, group_by="none")
        assert [r["start"][:10] for r in body["rows"]] == [start]
        assert body["rows"][0]["kpis"]["offered"] == 8


class TestAgentsAndOccupancy:
    def test_grouped_by_agent_with_occupancy(self, client: Any, day: Any) -> None:
        body = report(client, day, group_by="agent")
        rows = rows_by(body)
        g = rows[("2026-11-10T00:00", day.a.agents["general"].id)]
        assert g["answered"] == 3
        # handling 300 + 120 + 600 s over 5 staffed hours
        assert g["occupancy"] == pytest.approx(1020 / 18_000)
        unanswered = rows[("2026-11-10T00:00", None)]
        assert unanswered["offered"] == 2
        assert unanswered["answered"] == 0

    def test_occupancy_by_partner_and_of_a_team(self, client: Any, day: Any) -> None:
        body = report(client, day, group_by="partner")
        rows = rows_by(body)
        # the in-house row (no partner): G's 5 staffed hours, handling 300 + 120 + 600 s
        assert rows[("2026-11-10T00:00", None)]["occupancy"] == pytest.approx(1020 / 18_000)
        # partner P's agent has no staffed time on D: no occupancy, not 100 %
        assert rows[("2026-11-10T00:00", day.a.partners["p"].id)]["occupancy"] is None
        # a team filter keeps that team's agents only, in the staffed time too
        one = report(client, day, group_by="none", team="一组")
        assert one["total"]["occupancy"] == pytest.approx(1020 / 18_000)
        other = report(client, day, group_by="none", team="外包组")
        assert other["total"]["occupancy"] is None

    def test_no_occupancy_where_staffed_time_is_not_the_rows(self, client: Any, day: Any) -> None:
        """By queue, or filtered by a channel, the handling time is a part of the agents' work
        and their staffed time all of it: no figure rather than a wrong one."""
        assert report(client, day, group_by="queue")["total"]["occupancy"] is None
        filtered = report(client, day, group_by="agent", channel="chat")
        assert {r["kpis"]["occupancy"] for r in filtered["rows"]} == {None}
        assert report(client, day, group_by="agent")["total"]["occupancy"] is not None

    def test_scorecard_for_a_supervisor(self, client: Any, day: Any) -> None:
        agent_id = day.a.agents["general"].id
        response = get(
            client, day, "supervisor", f"/api/v1/reports/agents/{agent_id}/scorecard",
            date_from=D, date_to=D,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        card = response.json()
        assert card["handled"] == 3
        assert card["aht_s"] == pytest.approx(340)
        assert card["fcr"] == pytest.approx(2 / 3)
        assert card["csat"] == pytest.approx(1 / 2)
        assert card["staffed_s"] == pytest.approx(18_000)
        assert card["occupancy"] == pytest.approx(1020 / 18_000)
        assert card["adherence"] is None

    def test_adherence_to_a_published_schedule(self, client: Any, day: Any) -> None:
        agent_id = day.a.agents["general"].id
        path = f"/api/v1/reports/agents/{agent_id}/scorecard"
        card = get(client, day, "supervisor", path, date_from=D, date_to=D).json()
        assert card["adherence"] is None
        assert "no WFM schedule" in card["adherence_note"]

        def at(hour: int) -> str:
            return f"{D}T{hour:02d}:00:00+08:00"

        # G is available 08:00-12:00 and offline from 12:00 (until 23:00)
        plan = [
            {"agent_id": agent_id, "start": at(8), "end": at(11), "activity": "work"},
            {"agent_id": agent_id, "start": at(11), "end": at(12), "activity": "lunch"},
            {"agent_id": agent_id, "start": at(12), "end": at(13), "activity": "work"},
        ]
        headers = day.headers(day.a.users["wfm"])
        r = client.put("/api/v1/wfm/activities", json={"activities": plan}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"agents": 1, "activities": 3}
        card = get(client, day, "supervisor", path, date_from=D, date_to=D).json()
        # in adherence 08:00-11:00 only: available at lunch, offline at work: 3 h of 5
        assert card["adherence"] == pytest.approx(3 / 5)
        assert card["adherence_note"] == ""
        # publishing again replaces the plan: work 08:00-13:00, offline for the last hour
        again = [{"agent_id": agent_id, "start": at(8), "end": at(13), "activity": "work"}]
        r = client.put("/api/v1/wfm/activities", json={"activities": again}, headers=headers)
        assert r.status_code == 200, r.text
        card = get(client, day, "supervisor", path, date_from=D, date_to=D).json()
        assert card["adherence"] == pytest.approx(4 / 5)

    def test_bad_schedules_are_422(self, client: Any, day: Any) -> None:
        agent_id = day.a.agents["general"].id
        headers = day.headers(day.a.users["wfm"])
        for activities in (
            [{"agent_id": agent_id, "start": f"{D}T08:00:00+08:00",
              "end": f"{D}T09:00:00+08:00", "activity": "nap"}],
            [{"agent_id": agent_id, "start": f"{D}T08:00:00+08:00",
              "end": f"{D}T10:00:00+08:00", "activity": "work"},
             {"agent_id": agent_id, "start": f"{D}T09:00:00+08:00",
              "end": f"{D}T11:00:00+08:00", "activity": "break"}],
            [{"agent_id": "nobody", "start": f"{D}T08:00:00+08:00",
              "end": f"{D}T09:00:00+08:00", "activity": "work"}],
        ):  # fmt: skip
            r = client.put(
                "/api/v1/wfm/activities", json={"activities": activities}, headers=headers
            )
            assert r.status_code == 422, r.text
        agent = day.headers(day.a.users["agent"])
        ok = [{"agent_id": agent_id, "start": f"{D}T08:00:00+08:00",
               "end": f"{D}T09:00:00+08:00", "activity": "work"}]  # fmt: skip
        r = client.put("/api/v1/wfm/activities", json={"activities": ok}, headers=agent)
        assert r.status_code == 403

    def test_agent_sees_own_scorecard_only(self, client: Any, day: Any) -> None:
        mine = get(client, day, "agent", "/api/v1/reports/me/scorecard", date_from=D, date_to=D)
        assert mine.status_code == 200, mine.text
        assert mine.json()["handled"] == 3
        other = day.a.agents["p"].id
        response = get(
            client, day, "agent", f"/api/v1/reports/agents/{other}/scorecard",
            date_from=D, date_to=D,
        )  # fmt: skip
        assert response.status_code == 403
        assert get(client, day, "agent", "/api/v1/reports/historical", date_from=D,
                   date_to=D).status_code == 403  # fmt: skip


class TestSkillTeamRegion:
    def test_by_skill(self, client: Any, day: Any) -> None:
        rows = rows_by(report(client, day, group_by="skill"))
        billing = rows[("2026-11-10T00:00", "billing")]
        assert (billing["offered"], billing["answered"], billing["csat"]) == (2, 2, 0.5)
        assert billing["fcr"] == pytest.approx(1 / 2)  # c1 had the repeat c4
        complaints = rows[("2026-11-10T00:00", "complaints")]
        assert (complaints["offered"], complaints["abandoned"]) == (1, 1)
        assert rows[("2026-11-10T00:00", "english")]["offered"] == 1
        assert rows[("2026-11-10T00:00", None)]["offered"] == 2  # c2, c5: no skill required

    def test_by_team_with_occupancy(self, client: Any, day: Any) -> None:
        body = report(client, day, group_by="team")
        rows = rows_by(body)
        one = rows[("2026-11-10T00:00", "一组")]
        assert (one["offered"], one["answered"]) == (3, 3)
        assert one["aht_s"] == pytest.approx(340)
        assert one["occupancy"] == pytest.approx(1020 / 18_000)  # G's staffed time
        assert rows[("2026-11-10T00:00", "外包组")]["offered"] == 1
        assert rows[("2026-11-10T00:00", None)]["offered"] == 2  # never answered
        assert body["total"]["offered"] == 6

    def test_by_region_and_filters(self, client: Any, day: Any) -> None:
        rows = rows_by(report(client, day, group_by="region"))
        guangdong = rows[("2026-11-10T00:00", "广东")]
        assert (guangdong["offered"], guangdong["surveys"], guangdong["csat"]) == (2, 2, 0.5)
        assert rows[("2026-11-10T00:00", "北京")]["offered"] == 1
        assert rows[("2026-11-10T00:00", "上海")]["offered"] == 1
        assert report(client, day, group_by="none", team="一组")["total"]["offered"] == 3
        assert report(client, day, group_by="none", skill="billing")["total"]["offered"] == 2
        assert report(client, day, group_by="none", region="北京")["total"]["answered"] == 1

    @pytest.mark.parametrize(
        ("param", "value", "expected"),
        [
            ("skill", "billing", ["c1", "c4"]),
            ("team", "一组", ["c1", "c4", "c5"]),
            ("region", "广东", ["c1", "c4"]),
        ],
    )
    def test_drill_down_by_skill_team_region(
        self, client: Any, day: Any, param: str, value: str, expected: list[str]
    ) -> None:
        body = report(client, day, group_by=param)
        cell = next(r for r in body["rows"] if r["key"] == value)
        response = get(
            client, day, "supervisor", "/api/v1/reports/contacts",
            since=cell["start"], until=cell["end"], **{param: cell["key"]},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert sorted(c["contact_id"] for c in items) == expected
        assert {c[param] for c in items} == {value}
        assert len(items) == cell["kpis"]["offered"]


class TestDrillDownAndScope:
    def test_drill_down_from_a_cell(self, client: Any, day: Any) -> None:
        body = report(client, day, grain="60min", queue_id=day.a.queues["general"].id)
        cell = next(r for r in body["rows"] if r["start"].startswith("2026-11-10T09"))
        response = get(
            client, day, "supervisor", "/api/v1/reports/contacts",
            since=cell["start"], until=cell["end"], queue_id=cell["key"], outcome="abandoned",
        )  # fmt: skip
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 2
        assert sorted(c["contact_id"] for c in page["items"]) == ["c2", "c3"]
        assert sorted(c["wait_s"] for c in page["items"]) == [3, 60]

    def test_partner_admin_sees_only_its_partner(self, client: Any, day: Any) -> None:
        body = report(client, day, user="p_admin")
        assert {r["key"] for r in body["rows"]} == {day.a.queues["p"].id}
        response = get(
            client, day, "p_admin", "/api/v1/reports/contacts",
            since="2026-11-10T00:00:00+08:00", until="2026-11-11T00:00:00+08:00",
        )  # fmt: skip
        assert [c["contact_id"] for c in response.json()["items"]] == ["c6"]

    def test_naive_datetimes_and_bad_ranges_are_422(self, client: Any, day: Any) -> None:
        naive = get(client, day, "supervisor", "/api/v1/reports/contacts",
                    since="2026-11-10T00:00:00", until="2026-11-11T00:00:00")  # fmt: skip
        assert naive.status_code == 422
        assert naive.json()["error"]["code"] == "validation_error"
        backwards = get(client, day, "supervisor", "/api/v1/reports/historical",
                        date_from=D1, date_to=D)  # fmt: skip
        assert backwards.status_code == 422
        grain = get(client, day, "supervisor", "/api/v1/reports/historical",
                    date_from=D, date_to=D, grain="2h")  # fmt: skip
        assert grain.status_code == 422


class TestExports:
    def test_csv(self, client: Any, day: Any) -> None:
        response = get(client, day, "supervisor", "/api/v1/reports/historical/export",
                       date_from=D, date_to=D, format="csv")  # fmt: skip
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        text = response.content.decode("utf-8-sig")
        table = list(csv.DictReader(io.StringIO(text)))
        q1 = next(r for r in table if r["key"] == day.a.queues["general"].id)
        assert q1["offered"] == "5"
        assert float(q1["service_level"]) == pytest.approx(0.5)
        assert table[-1]["label"] == "total"
        assert table[-1]["offered"] == "6"

    def test_xlsx(self, client: Any, day: Any) -> None:
        response = get(client, day, "supervisor", "/api/v1/reports/historical/export",
                       date_from=D, date_to=D, format="xlsx")  # fmt: skip
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = list(sheet.values)
        header = list(values[0])
        q1 = next(v for v in values if v[2] == day.a.queues["general"].id)
        assert q1[header.index("offered")] == 5
        assert q1[header.index("aht_s")] == pytest.approx(340)
