"""Business hours and the estimated wait, without a database."""

from __future__ import annotations

import math
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from lianluo.domain.chat import estimated_wait_s, is_open

HOURS = {"mon": [["08:00", "12:00"], ["13:00", "20:00"]], "sat": [["09:00", "18:00"]]}


class TestIsOpen:
    def test_no_hours_means_always_open(self) -> None:
        assert is_open({}, datetime(2027, 1, 17, 3, 0))

    def test_inside_and_outside_spans(self) -> None:
        monday = datetime(2027, 1, 18)
        assert is_open(HOURS, monday.replace(hour=8))
        assert is_open(HOURS, monday.replace(hour=11, minute=59))
        assert not is_open(HOURS, monday.replace(hour=12, minute=30))  # lunch
        assert not is_open(HOURS, monday.replace(hour=20))  # end is exclusive
        assert not is_open(HOURS, datetime(2027, 1, 19, 10))  # tuesday: not listed, closed
        assert is_open(HOURS, datetime(2027, 1, 23, 10))  # saturday


class TestEstimatedWait:
    def test_formula(self) -> None:
        # position 6, 4 min per chat, 3 agents x 2 chats: 6 * 240 / 6
        assert estimated_wait_s(6, 240.0, 6) == 240.0
        assert estimated_wait_s(6, 240.0, 3, chats_per_agent=2) == 240.0

    def test_nobody_to_answer_is_infinite(self) -> None:
        assert math.isinf(estimated_wait_s(1, 180.0, 0))

    def test_not_waiting_is_zero(self) -> None:
        assert estimated_wait_s(0, 180.0, 0) == 0.0

    @given(
        st.integers(1, 10_000),
        st.floats(1, 3600),
        st.integers(1, 500),
        st.integers(1, 10),
    )
    def test_monotone(self, position: int, aht: float, agents: int, per_agent: int) -> None:
        wait = estimated_wait_s(position, aht, agents, per_agent)
        assert wait > 0
        assert estimated_wait_s(position + 1, aht, agents, per_agent) > wait
        assert estimated_wait_s(position, aht, agents + 1, per_agent) < wait
