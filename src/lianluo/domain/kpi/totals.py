"""KPIs from additive totals: what a report (or a SQL GROUP BY) can sum per group.

Every ratio of DESIGN.md's KPI table is a quotient of sums over contacts, so a group's KPIs
follow from a handful of counts and second sums (`KpiTotals`). `totals_of` computes them from
`OutcomeColumns` with the formulas of `formulas.py`; an analytical store may compute the same
sums itself (reports/analytical.py does, in DuckDB) and hand them to `report_kpis`. The
property tests in tests/domain/kpi check `report_kpis(totals_of(cols)) == summarize(cols)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from lianluo.domain.kpi.formulas import (
    CSAT_SATISFIED_MIN,
    KpiParams,
    _ratio,
    occupancy,
    repeat_complaint_flags,
    repeat_contact_flags,
)
from lianluo.domain.kpi.records import BoolArray, FloatArray, OutcomeColumns


@dataclass(frozen=True, slots=True)
class KpiTotals:
    """Additive sums over a group of contacts (all durations in seconds)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within_sl: int = 0
    wait_answered_s: float = 0.0
    talk_s: float = 0.0
    hold_s: float = 0.0
    acw_s: float = 0.0
    transferred: int = 0
    end_to_end: int = 0
    resolved_first_contact: int = 0
    complaints: int = 0
    repeat_complaints: int = 0
    over_the_head: int = 0
    surveys: int = 0
    satisfied: int = 0

    def __add__(self, other: KpiTotals) -> KpiTotals:
        return KpiTotals(*(getattr(self, n) + getattr(other, n) for n in _TOTAL_FIELDS))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


# the field names once: dataclasses.fields() on every addition costs more than the sums
_TOTAL_FIELDS = tuple(f.name for f in fields(KpiTotals))


def totals_of(
    cols: OutcomeColumns,
    params: KpiParams | None = None,
    repeat_contact: BoolArray | None = None,
    repeat_complaint: BoolArray | None = None,
) -> KpiTotals:
    """The sums behind every contact KPI of `cols` (pass the repeat flags when `cols` is a
    slice of a larger data set, as for `summarize`)."""
    p = params or KpiParams()
    if repeat_contact is None:
        repeat_contact = repeat_contact_flags(cols, p.fcr_window_s)
    if repeat_complaint is None:
        repeat_complaint = repeat_complaint_flags(cols, p.repeat_complaint_window_s)
    answered = cols.answered
    abandoned = cols.abandoned
    wait = cols.wait_s
    complaints = np.array([c is not None for c in cols.complaint_category], dtype=np.bool_)
    surveyed = ~np.isnan(cols.csat_score)
    return KpiTotals(
        offered=len(cols),
        answered=int(answered.sum()),
        abandoned=int(abandoned.sum()),
        short_abandoned=int((abandoned & (wait < p.short_abandon_s)).sum()),
        answered_within_sl=int((answered & (wait <= p.service_level_threshold_s)).sum()),
        wait_answered_s=float(wait[answered].sum()),
        talk_s=float(cols.talk_s[answered].sum()),
        hold_s=float(cols.hold_s[answered].sum()),
        acw_s=float(cols.acw_s[answered].sum()),
        transferred=int((cols.transferred & answered).sum()),
        end_to_end=int((cols.handled_end_to_end_by_first_agent & answered).sum()),
        resolved_first_contact=int((answered & ~repeat_contact).sum()),
        complaints=int(complaints.sum()),
        repeat_complaints=int((repeat_complaint & complaints).sum()),
        over_the_head=int((cols.over_the_head & complaints).sum()),
        surveys=int(surveyed.sum()),
        satisfied=int((surveyed & (np.nan_to_num(cols.csat_score) >= CSAT_SATISFIED_MIN)).sum()),
    )


def totals_by_group(
    cols: OutcomeColumns,
    group: npt.NDArray[np.int64],
    groups: int,
    params: KpiParams | None = None,
    repeat_contact: BoolArray | None = None,
    repeat_complaint: BoolArray | None = None,
) -> list[KpiTotals]:
    """`totals_of` for every group at once: `group` holds each contact's group number in
    [0, groups); one pass of weighted counts (numpy.bincount) instead of one slice per group,
    so a report of thousands of cells costs about what one cell does."""
    p = params or KpiParams()
    if repeat_contact is None:
        repeat_contact = repeat_contact_flags(cols, p.fcr_window_s)
    if repeat_complaint is None:
        repeat_complaint = repeat_complaint_flags(cols, p.repeat_complaint_window_s)
    answered = cols.answered
    abandoned = cols.abandoned
    wait = np.nan_to_num(cols.wait_s)
    complaints = np.array([c is not None for c in cols.complaint_category], dtype=np.bool_)
    surveyed = ~np.isnan(cols.csat_score)

    def count(mask: BoolArray) -> list[int]:
        return [int(v) for v in np.bincount(group[mask], minlength=groups)]

    def total(values: FloatArray, mask: BoolArray) -> list[float]:
        sums = np.bincount(group[mask], weights=values[mask], minlength=groups)
        return [float(v) for v in sums]

    columns: dict[str, list[Any]] = {  # ints for counts, floats for seconds
        "offered": [int(v) for v in np.bincount(group, minlength=groups)],
        "answered": count(answered),
        "abandoned": count(abandoned),
        "short_abandoned": count(abandoned & (wait < p.short_abandon_s)),
        "answered_within_sl": count(answered & (wait <= p.service_level_threshold_s)),
        "wait_answered_s": total(wait, answered),
        "talk_s": total(cols.talk_s, answered),
        "hold_s": total(cols.hold_s, answered),
        "acw_s": total(cols.acw_s, answered),
        "transferred": count(cols.transferred & answered),
        "end_to_end": count(cols.handled_end_to_end_by_first_agent & answered),
        "resolved_first_contact": count(answered & ~repeat_contact),
        "complaints": count(complaints),
        "repeat_complaints": count(repeat_complaint & complaints),
        "over_the_head": count(cols.over_the_head & complaints),
        "surveys": count(surveyed),
        "satisfied": count(surveyed & (np.nan_to_num(cols.csat_score) >= CSAT_SATISFIED_MIN)),
    }
    return [
        KpiTotals(**{name: values[g] for name, values in columns.items()}) for g in range(groups)
    ]


@dataclass(frozen=True, slots=True)
class ReportKpis:
    """One cell of a report: the counts and every KPI; ratios in [0, 1], None when undefined."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    connect_rate: float | None
    abandonment_rate: float | None
    service_level: float | None
    asa_s: float | None
    aht_s: float | None
    avg_talk_s: float | None
    avg_hold_s: float | None
    avg_acw_s: float | None
    transfer_rate: float | None
    effectiveness: float | None
    fcr: float | None
    complaints: int
    repeat_complaint_rate: float | None
    over_the_head_rate: float | None
    csat: float | None
    surveys: int
    occupancy: float | None


def report_kpis(
    t: KpiTotals, handling_s: float | None = None, available_s: float | None = None
) -> ReportKpis:
    """Every KPI of DESIGN.md's table from the group's totals (the same quotients as
    `formulas.py`); occupancy needs the agents' handling and staffed-available time."""
    return ReportKpis(
        offered=t.offered,
        answered=t.answered,
        abandoned=t.abandoned,
        short_abandoned=t.short_abandoned,
        connect_rate=_ratio(t.answered, t.offered),
        abandonment_rate=_ratio(t.abandoned, t.offered),
        service_level=_ratio(t.answered_within_sl, t.offered - t.short_abandoned),
        asa_s=_ratio(t.wait_answered_s, t.answered),
        aht_s=_ratio(t.talk_s + t.hold_s + t.acw_s, t.answered),
        avg_talk_s=_ratio(t.talk_s, t.answered),
        avg_hold_s=_ratio(t.hold_s, t.answered),
        avg_acw_s=_ratio(t.acw_s, t.answered),
        transfer_rate=_ratio(t.transferred, t.answered),
        effectiveness=_ratio(t.end_to_end, t.answered),
        fcr=_ratio(t.resolved_first_contact, t.answered),
        complaints=t.complaints,
        repeat_complaint_rate=_ratio(t.repeat_complaints, t.complaints),
        over_the_head_rate=_ratio(t.over_the_head, t.complaints),
        csat=_ratio(t.satisfied, t.surveys),
        surveys=t.surveys,
        occupancy=(
            None
            if handling_s is None or available_s is None
            else occupancy(handling_s, available_s)
        ),
    )
