"""The contacts behind each figure (drill-down) give back the figure itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.kpi import (
    FIGURE_POPULATIONS,
    KPI_FIGURES,
    ContactOutcome,
    KpiError,
    KpiParams,
    OutcomeColumns,
    figure_contacts,
    report_kpis,
    totals_of,
)
from tests.domain.kpi.test_totals import contact, outcome_st

MEANS = {
    "asa_s": lambda c: c.answered_at - c.offered_at,
    "aht_s": lambda c: c.talk_s + c.hold_s + c.acw_s,
    "avg_talk_s": lambda c: c.talk_s,
    "avg_hold_s": lambda c: c.hold_s,
    "avg_acw_s": lambda c: c.acw_s,
}


def ids(cols_ids: list[str], mask: np.ndarray) -> list[str]:
    return [cid for cid, m in zip(cols_ids, mask, strict=True) if m]


class TestKnownAnswers:
    """Five contacts with known answers: SL 20 s, short abandon 5 s."""

    OUTCOMES = [
        contact(1, answered_at=1010.0, talk_s=100, handled_end_to_end_by_first_agent=True,
                need_id="n", csat_score=5),
        contact(2, offered_at=2000.0, abandoned_at=2003.0),  # a short abandon
        contact(3, offered_at=3000.0, abandoned_at=3060.0, complaint_category="billing",
                customer_id="x"),
        contact(4, offered_at=4000.0, answered_at=4030.0, talk_s=50, transferred=True,
                need_id="n", csat_score=2, complaint_category="billing", customer_id="x",
                over_the_head=True),
        contact(5, offered_at=5000.0),  # still waiting
    ]  # fmt: skip

    def drill(self, figure: str) -> tuple[list[str], list[str] | None]:
        cols = OutcomeColumns.from_outcomes(self.OUTCOMES)
        names = [o.contact_id for o in self.OUTCOMES]
        f = figure_contacts(figure, cols, KpiParams())
        return ids(names, f.population), None if f.numerator is None else ids(names, f.numerator)

    @pytest.mark.parametrize(
        ("figure", "population", "numerator"),
        [
            ("offered", ["1", "2", "3", "4", "5"], None),
            ("answered", ["1", "4"], None),
            ("abandoned", ["2", "3"], None),
            ("short_abandoned", ["2"], None),
            ("connect_rate", ["1", "2", "3", "4", "5"], ["1", "4"]),
            ("abandonment_rate", ["1", "2", "3", "4", "5"], ["2", "3"]),
            ("service_level", ["1", "3", "4", "5"], ["1"]),
            ("asa_s", ["1", "4"], None),
            ("aht_s", ["1", "4"], None),
            ("transfer_rate", ["1", "4"], ["4"]),
            ("effectiveness", ["1", "4"], ["1"]),
            ("fcr", ["1", "4"], ["4"]),  # 1 has the repeat 4 on need n
            ("complaints", ["3", "4"], None),
            ("repeat_complaint_rate", ["3", "4"], ["4"]),  # 3 was still open
            ("over_the_head_rate", ["3", "4"], ["4"]),
            ("csat", ["1", "4"], ["1"]),
            ("surveys", ["1", "4"], None),
            ("occupancy", ["1", "4"], None),
        ],
    )
    def test_each_figure(
        self, figure: str, population: list[str], numerator: list[str] | None
    ) -> None:
        assert self.drill(figure) == (population, numerator)

    def test_every_figure_is_described(self) -> None:
        assert set(FIGURE_POPULATIONS) == set(KPI_FIGURES)

    def test_unknown_figure(self) -> None:
        with pytest.raises(KpiError, match="unknown figure"):
            self.drill("happiness")


@settings(max_examples=60, deadline=None)
@given(st.lists(outcome_st, max_size=30, unique_by=lambda o: o.contact_id))
def test_the_contacts_behind_a_figure_give_the_figure(outcomes: list[ContactOutcome]) -> None:
    """Counts are the population's size, ratios numerator / population (None when the
    population is empty: a "—" has no contacts in its own population), means the mean over
    the population."""
    cols = OutcomeColumns.from_outcomes(outcomes)
    params = KpiParams()
    k = report_kpis(totals_of(cols, params), 1.0, 1.0)
    for figure in KPI_FIGURES:
        f = figure_contacts(figure, cols, params)
        value = getattr(k, figure)
        n = int(f.population.sum())
        if f.numerator is not None:
            assert not (f.numerator & ~f.population).any(), figure
            if n == 0:
                assert value is None, figure
            else:
                assert value == pytest.approx(f.numerator.sum() / n), figure
        elif figure in MEANS:
            chosen = [o for o, m in zip(outcomes, f.population, strict=True) if m]
            if not chosen:
                assert value is None, figure
            else:
                mean = sum(MEANS[figure](o) for o in chosen) / len(chosen)
                assert value == pytest.approx(mean, rel=1e-9, abs=1e-6), figure
        elif figure == "occupancy":
            assert n == k.answered
        else:
            assert value == n, figure
