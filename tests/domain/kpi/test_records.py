import math

import numpy as np
import pytest

from lianluo.domain.kpi import ContactOutcome, OutcomeColumns, OutcomeError


class TestContactOutcome:
    def test_rejects_answered_and_abandoned(self) -> None:
        with pytest.raises(OutcomeError, match="both answered and abandoned"):
            ContactOutcome("c1", "q", 0.0, answered_at=5.0, abandoned_at=6.0)

    def test_rejects_answer_before_offer(self) -> None:
        with pytest.raises(OutcomeError, match="answered_at=5.0 is before offered_at=10.0"):
            ContactOutcome("c1", "q", 10.0, answered_at=5.0)

    def test_rejects_negative_duration(self) -> None:
        with pytest.raises(OutcomeError, match="talk_s must be >= 0"):
            ContactOutcome("c1", "q", 0.0, answered_at=1.0, talk_s=-1.0)

    def test_rejects_end_to_end_without_answer(self) -> None:
        with pytest.raises(OutcomeError, match="never answered"):
            ContactOutcome("c1", "q", 0.0, handled_end_to_end_by_first_agent=True)

    def test_wait_and_handle(self) -> None:
        c = ContactOutcome("c1", "q", 100.0, answered_at=130.0, talk_s=60, hold_s=10, acw_s=5)
        assert c.wait_s == 30.0
        assert c.handle_s == 75.0
        assert ContactOutcome("c2", "q", 100.0).wait_s is None


class TestOutcomeColumns:
    def test_from_outcomes_round_trips_fields(self) -> None:
        outcomes = [
            ContactOutcome("a", "q1", 0.0, answered_at=3.0, talk_s=10, need_id="n1"),
            ContactOutcome("b", "q2", 1.0, abandoned_at=9.0, tier="vip"),
        ]
        cols = OutcomeColumns.from_outcomes(outcomes)
        assert len(cols) == 2
        assert list(cols.queue) == ["q1", "q2"]
        assert list(cols.answered) == [True, False]
        assert list(cols.abandoned) == [False, True]
        np.testing.assert_allclose(cols.wait_s, [3.0, 8.0])
        assert list(cols.need_id) == ["n1", None]
        assert list(cols.tier) == ["standard", "vip"]
        assert math.isnan(cols.ended_at[0])

    def test_optional_columns_are_filled(self) -> None:
        cols = OutcomeColumns(
            offered_at=np.array([0.0, 1.0]),
            answered_at=np.array([1.0, np.nan]),
            abandoned_at=np.array([np.nan, np.nan]),
            talk_s=np.zeros(2),
            hold_s=np.zeros(2),
            acw_s=np.zeros(2),
            queue=np.array(["q", "q"], dtype=object),
            handled_end_to_end_by_first_agent=np.array([True, False]),
            transferred=np.zeros(2, dtype=bool),
        )
        assert list(cols.tier) == ["standard", "standard"]
        assert list(cols.need_id) == [None, None]
        assert np.isnan(cols.need_resolved_at).all()

    def test_rejects_ragged_columns(self) -> None:
        with pytest.raises(OutcomeError, match="column answered_at has 1 rows"):
            OutcomeColumns(
                offered_at=np.array([0.0, 1.0]),
                answered_at=np.array([1.0]),
                abandoned_at=np.full(2, np.nan),
                talk_s=np.zeros(2),
                hold_s=np.zeros(2),
                acw_s=np.zeros(2),
                queue=np.array(["q", "q"], dtype=object),
                handled_end_to_end_by_first_agent=np.zeros(2, dtype=bool),
                transferred=np.zeros(2, dtype=bool),
            )

    def test_select_keeps_rows(self) -> None:
        outcomes = [ContactOutcome(str(i), f"q{i % 2}", float(i)) for i in range(5)]
        cols = OutcomeColumns.from_outcomes(outcomes)
        picked = cols.select(cols.queue == "q1")
        assert list(picked.offered_at) == [1.0, 3.0]
