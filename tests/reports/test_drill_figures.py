"""Drill-down from any figure of a report to the contacts behind it, "—" cells included.

Day D and its contacts: tests/reports/conftest.py and the docstring of test_reports_api.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from lianluo.domain.kpi import KPI_FIGURES

D = "2026-11-10"
GROUP_PARAM = {"queue": "queue_id", "agent": "agent_id", "partner": "partner_id",
               "skill": "skill", "team": "team", "channel": "channel",
               "region": "region"}  # fmt: skip
MEANS = {"asa_s": "wait_s", "aht_s": "handle_s", "avg_talk_s": "talk_s",
         "avg_hold_s": "hold_s", "avg_acw_s": "acw_s"}  # fmt: skip
RATIOS = {"connect_rate", "abandonment_rate", "service_level", "transfer_rate",
          "effectiveness", "fcr", "repeat_complaint_rate", "over_the_head_rate",
          "csat"}  # fmt: skip


def report(client: Any, world: Any, **params: Any) -> dict[str, Any]:
    response = client.get(
        "/api/v1/reports/historical",
        params={"date_from": D, "date_to": D, **params},
        headers=world.headers(world.a.users["supervisor"]),
    )
    assert response.status_code == 200, response.text
    return response.json()


def drill(
    client: Any, world: Any, row: dict[str, Any], group_by: str, figure: str, **extra: Any
) -> dict[str, Any]:
    """The drill-down of one figure of a report row, as the page asks for it."""
    params: dict[str, Any] = {"since": row["start"], "until": row["end"], "figure": figure,
                              "page_size": 200, **extra}  # fmt: skip
    if group_by in GROUP_PARAM:
        if row["key"] is None:
            params["missing"] = group_by
        else:
            params[GROUP_PARAM[group_by]] = row["key"]
    response = client.get(
        "/api/v1/reports/contacts",
        params=params,
        headers=world.headers(world.a.users["supervisor"]),
    )
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any], numerator: bool = False) -> list[str]:
    return sorted(c["contact_id"] for c in page["items"] if not numerator or c["in_numerator"])


class TestKnownAnswers:
    """Queue general on day D: c1 … c5 (see test_reports_api.py)."""

    @pytest.mark.parametrize(
        ("figure", "behind", "numerator"),
        [
            ("offered", ["c1", "c2", "c3", "c4", "c5"], []),
            ("answered", ["c1", "c4", "c5"], []),
            ("abandoned", ["c2", "c3"], []),
            ("short_abandoned", ["c2"], []),
            ("connect_rate", ["c1", "c2", "c3", "c4", "c5"], ["c1", "c4", "c5"]),
            ("abandonment_rate", ["c1", "c2", "c3", "c4", "c5"], ["c2", "c3"]),
            # c2 abandoned inside 5 s is out; c1 (10 s) and c5 (exactly 20 s) are within
            ("service_level", ["c1", "c3", "c4", "c5"], ["c1", "c5"]),
            ("asa_s", ["c1", "c4", "c5"], []),
            ("aht_s", ["c1", "c4", "c5"], []),
            ("avg_hold_s", ["c1", "c4", "c5"], []),
            ("transfer_rate", ["c1", "c4", "c5"], ["c4"]),
            ("effectiveness", ["c1", "c4", "c5"], ["c1", "c5"]),
            ("fcr", ["c1", "c4", "c5"], ["c4", "c5"]),  # c1 had the repeat c4 on need n1
            ("complaints", ["c3", "c4"], []),
            ("repeat_complaint_rate", ["c3", "c4"], ["c4"]),  # c3 still open at c4
            ("over_the_head_rate", ["c3", "c4"], ["c4"]),
            ("csat", ["c1", "c4"], ["c1"]),  # 5 and 2
            ("surveys", ["c1", "c4"], []),
            ("occupancy", ["c1", "c4", "c5"], []),
        ],
    )
    def test_each_figure_of_queue_general(
        self, client: Any, day: Any, figure: str, behind: list[str], numerator: list[str]
    ) -> None:
        body = report(client, day, group_by="queue")
        row = next(r for r in body["rows"] if r["key"] == day.a.queues["general"].id)
        page = drill(client, day, row, "queue", figure)
        assert ids(page) == behind
        assert page["total"] == len(behind)
        assert page["figure"] == figure
        assert page["cell_offered"] == row["kpis"]["offered"]
        assert ids(page, numerator=True) == numerator
        if figure in RATIOS:
            assert row["kpis"][figure] == pytest.approx(len(numerator) / len(behind))
        else:
            assert {c["in_numerator"] for c in page["items"]} == {None}

    def test_repeat_complaint_flags_on_the_contacts(self, client: Any, day: Any) -> None:
        body = report(client, day, group_by="queue")
        row = next(r for r in body["rows"] if r["key"] == day.a.queues["general"].id)
        by_id = {c["contact_id"]: c for c in drill(client, day, row, "queue", "offered")["items"]}
        assert by_id["c4"]["repeat_complaint"]
        assert not by_id["c3"]["repeat_complaint"]
        assert by_id["c4"]["over_the_head"]
        assert by_id["c4"]["complaint_category"] == "billing"
        assert by_id["c1"]["repeat_contact"]
        assert not by_id["c5"]["repeat_contact"]
        assert (by_id["c1"]["talk_s"], by_id["c1"]["hold_s"], by_id["c1"]["acw_s"]) == (
            240,
            30,
            30,
        )
        assert by_id["c3"]["talk_s"] is None  # never answered: no handling


class TestDashCells:
    """A "—" figure has no value; the cell may still hold contacts, and says so."""

    def test_no_agent_row_drills_to_its_own_contacts_only(self, client: Any, day: Any) -> None:
        body = report(client, day, group_by="agent")
        row = next(r for r in body["rows"] if r["key"] is None)
        assert row["kpis"]["asa_s"] is None
        assert row["kpis"]["offered"] == 2
        offered = drill(client, day, row, "agent", "offered")
        assert ids(offered) == ["c2", "c3"]  # not the whole day: missing=agent
        asa = drill(client, day, row, "agent", "asa_s")
        assert asa["total"] == 0
        assert asa["items"] == []
        assert asa["cell_offered"] == 2
        assert "none of the 2 contacts" in asa["message"]
        assert "answered" in asa["counts"]

    def test_csat_without_ratings(self, client: Any, day: Any) -> None:
        body = report(client, day, group_by="queue", grain="60min")
        row = next(
            r
            for r in body["rows"]
            if r["start"].startswith(f"{D}T23") and r["key"] == day.a.queues["general"].id
        )
        assert row["kpis"]["csat"] is None
        page = drill(client, day, row, "queue", "csat")
        assert (page["total"], page["cell_offered"]) == (0, 1)
        assert page["message"]
        assert ids(drill(client, day, row, "queue", "offered")) == ["c5"]

    def test_a_cell_with_no_contacts_at_all(self, client: Any, day: Any) -> None:
        empty = {"start": "2026-11-01T00:00:00+08:00", "end": "2026-11-02T00:00:00+08:00",
                 "key": None}  # fmt: skip
        page = drill(client, day, empty, "none", "asa_s")
        assert (page["total"], page["cell_offered"]) == (0, 0)
        assert page["message"] == "no contacts in this cell"

    def test_missing_contradicting_a_filter_is_422(self, client: Any, day: Any) -> None:
        response = client.get(
            "/api/v1/reports/contacts",
            params={
                "since": f"{D}T00:00:00+08:00",
                "until": f"{D}T23:00:00+08:00",
                "missing": "agent",
                "agent_id": day.a.agents["general"].id,
            },  # fmt: skip
            headers=day.headers(day.a.users["supervisor"]),
        )
        assert response.status_code == 422
        assert "missing=agent" in response.json()["error"]["message"]

    def test_unknown_figure_is_422(self, client: Any, day: Any) -> None:
        response = client.get(
            "/api/v1/reports/contacts",
            params={
                "since": f"{D}T00:00:00+08:00",
                "until": f"{D}T23:00:00+08:00",
                "figure": "happiness",
            },  # fmt: skip
            headers=day.headers(day.a.users["supervisor"]),
        )
        assert response.status_code == 422


@pytest.mark.parametrize("group_by", ["queue", "skill", "agent", "team", "partner", "channel",
                                      "region", "none"])  # fmt: skip
def test_every_figure_of_every_row_drills_to_what_it_counts(
    client: Any, day: Any, group_by: str
) -> None:
    """For each row and the total of a report: a count is the number of contacts behind it,
    a ratio the share of them in its numerator, a mean their mean; "—" iff none are behind."""
    body = report(client, day, group_by=group_by)
    total = {"start": body["since"], "end": body["until"], "key": None, "kpis": body["total"]}
    for row, grouping in [*((r, group_by) for r in body["rows"]), (total, "none")]:
        offered = drill(client, day, row, grouping, "offered")
        assert offered["total"] == row["kpis"]["offered"]
        for figure in KPI_FIGURES:
            value = row["kpis"][figure]
            page = drill(client, day, row, grouping, figure)
            items = page["items"]
            where = (group_by, row["key"], figure)
            assert page["total"] == len(items), where
            assert page["cell_offered"] == row["kpis"]["offered"], where
            assert {c["contact_id"] for c in items} <= {c["contact_id"] for c in offered["items"]}
            if figure in RATIOS:
                assert (value is None) == (not items), where
                if items:
                    share = sum(bool(c["in_numerator"]) for c in items) / len(items)
                    assert value == pytest.approx(share), where
            elif figure in MEANS:
                assert (value is None) == (not items), where
                if items:
                    mean = sum(c[MEANS[figure]] for c in items) / len(items)
                    assert value == pytest.approx(mean, abs=1e-3), where
            elif figure == "occupancy":
                assert len(items) == row["kpis"]["answered"], where
            else:
                assert value == len(items), where
