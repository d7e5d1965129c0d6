"""The board without a database: its columns are the domain's records, event order rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lianluo.domain import kpi
from lianluo.realtime.board import (
    LiveAgent,
    LiveContact,
    QueueInfo,
    TenantBoard,
    outcome_columns,
    sl_status,
)

T0 = 1_800_000_000.0


@st.composite
def live_contacts(draw: Any) -> LiveContact:
    offered = T0 + draw(st.floats(0, 86_000))
    fate = draw(st.sampled_from(["waiting", "answered", "ended", "abandoned"]))
    wait = draw(st.floats(0, 600))
    contact = LiveContact(
        contact_id=f"c{draw(st.integers(0, 10**9))}",
        queue_id=draw(st.sampled_from(["q1", "q2"])),
        current_queue_id="q1",
        channel=draw(st.sampled_from(["voice", "chat"])),
        state="queued",
        offered_at=offered,
        transferred=draw(st.booleans()),
    )
    if fate in ("answered", "ended"):
        contact.answered_at = offered + wait
    if fate == "ended":
        contact.ended_at = offered + wait + draw(st.floats(0, 900))
        contact.talk_s, contact.acw_s = draw(st.floats(0, 900)), draw(st.floats(0, 120))
    if fate == "abandoned":
        contact.abandoned_at = contact.ended_at = offered + wait
    return contact


@given(st.lists(live_contacts(), max_size=40))
def test_columns_are_the_domain_records(contacts: list[LiveContact]) -> None:
    """outcome_columns builds, column by column, exactly OutcomeColumns.from_outcomes of the
    ContactOutcome records, so every KPI on it is the domain's."""
    fast = outcome_columns(contacts)
    slow = kpi.OutcomeColumns.from_outcomes([c.outcome() for c in contacts])
    for name in ("offered_at", "answered_at", "abandoned_at", "ended_at", "talk_s", "acw_s"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    for name in ("queue", "channel", "transferred", "handled_end_to_end_by_first_agent"):
        assert list(getattr(fast, name)) == list(getattr(slow, name))
    for threshold in (0.0, 20.0, 60.0):
        a, b = kpi.service_level(fast, threshold), kpi.service_level(slow, threshold)
        assert (a is None and b is None) or math.isclose(a, b)  # type: ignore[arg-type]


def _board() -> TenantBoard:
    board = TenantBoard("t", "Asia/Shanghai")
    board.queues["q1"] = QueueInfo("q1", "Q1", None, ["voice"], 20, 0.8, 5)
    board.agents["a1"] = LiveAgent("a1", "A1", "", None, "available", "", T0)
    return board


def _event(kind: str, at: float, agent: str | None = None, **payload: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "tenant_id": "t",
        "contact_id": "c1",
        "queue_id": "q1",
        "agent_id": agent,
        "occurred_at": at,
        "payload": payload,
    }


def test_a_rescind_after_abandonment_does_not_requeue() -> None:
    """The router appends offer_rescinded after the service's contact.abandoned."""
    board = _board()
    board.apply(_event("contact.queued", T0))
    board.apply(_event("contact.offered", T0 + 1, "a1"))
    board.apply(_event("contact.abandoned", T0 + 4))
    board.apply(_event("contact.offer_rescinded", T0 + 4, "a1"))
    snap = board.snapshot(T0 + 10, T0 - 3600)
    (queue,) = snap["queues"]
    assert (queue["waiting"], queue["ringing"], queue["abandoned"]) == (0, 0, 1)
    assert queue["service_level"] is None  # the only contact was a short abandon


def test_events_before_the_window_are_ignored_until_reconcile() -> None:
    board = _board()
    assert board.apply(_event("contact.answered", T0, "a1")) is False
    assert board.apply({"type": "queue.updated", "tenant_id": "t"}) is True
    assert board.stale


def test_sl_status_against_target() -> None:
    assert sl_status(None, 0.8) == "none"
    assert sl_status(0.8, 0.8) == "good"
    assert sl_status(0.75, 0.8) == "warn"
    assert sl_status(0.5, 0.8) == "bad"
