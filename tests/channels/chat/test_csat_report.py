"""CSAT in the reports comes from what really happens: a web chat rated by the customer over
the chat socket (chat.rated) shows in the historical report, the agent's scorecard and the
drill-down, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.channels.chat.helpers import set_state, start_chat, until

pytestmark = pytest.mark.timeout(90)


def _chat_rated(client: Any, floor: Any, score: int) -> str:
    """One chat accepted by alice, ended by her desk, rated `score` by the customer."""
    set_state(client, floor, "alice", "available")
    chat = start_chat(client, floor)
    desk = client.get("/api/v1/chat/desk", headers=floor.headers("alice")).json()["items"]
    contact_id = next(d["contact_id"] for d in desk if d["state"] == "offered")
    r = client.post(f"/api/v1/contacts/{contact_id}/accept", headers=floor.headers("alice"))
    assert r.status_code == 200, r.text
    conv = chat["conversation_id"]
    with client.websocket_connect(f"/ws/desk?token={floor.token('alice')}") as desk_ws:
        until(desk_ws, "hello")
        desk_ws.send_json({"type": "join", "conversation_id": conv})
        until(desk_ws, "joined")
        with client.websocket_connect(f"/ws/chat?token={chat['token']}") as cust:
            until(cust, "status", state="connected")
            desk_ws.send_json({"type": "end", "conversation_id": conv})
            assert until(cust, "status", state="ended")
            cust.send_json({"type": "rate", "score": score})
            assert until(cust, "rated")["score"] == score
    r = client.post(
        f"/api/v1/contacts/{contact_id}/wrap-up",
        json={"disposition": "resolved"},
        headers=floor.headers("alice"),
    )
    assert r.status_code == 200, r.text
    return contact_id


def test_rated_chats_are_the_csat_of_the_report_and_the_scorecard(
    client: Any, floor: Any, clock: Any
) -> None:
    happy = _chat_rated(client, floor, 5)
    unhappy = _chat_rated(client, floor, 2)
    day = datetime.fromtimestamp(clock(), UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    dates = {"date_from": day.isoformat(), "date_to": day.isoformat()}
    sup = floor.headers("sup")

    r = client.get("/api/v1/reports/historical", params={**dates, "group_by": "agent"}, headers=sup)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["total"]["surveys"] == 2
    assert report["total"]["csat"] == pytest.approx(0.5)  # one of two answers is 4 or 5
    (row,) = report["rows"]
    assert (row["key"], row["kpis"]["csat"]) == (floor.agents["alice"], pytest.approx(0.5))

    card = client.get(
        f"/api/v1/reports/agents/{floor.agents['alice']}/scorecard", params=dates, headers=sup
    ).json()
    assert (card["surveys"], card["csat"]) == (2, pytest.approx(0.5))

    r = client.get(
        "/api/v1/reports/contacts",
        params={"since": row["start"], "until": row["end"], "agent_id": floor.agents["alice"]},
        headers=sup,
    )
    scores = {c["contact_id"]: c["csat_score"] for c in r.json()["items"]}
    assert scores == {happy: 5.0, unhappy: 2.0}
