"""Which contacts each figure of a report counts: the drill-down of DESIGN.md's KPI table.

For every field of `ReportKpis`, `figure_contacts` gives the contacts the figure is computed
over (its *population*: the count itself, the denominator of a ratio, the contacts a mean is
taken over) and, for a ratio, those of its numerator. So a drill-down from any cell lists
exactly the contacts behind its figure, and `population.sum()`, `numerator.sum()` give back the
figure (tests/domain/kpi/test_figures.py checks it against `report_kpis(totals_of(...))`).

A ratio or a mean with an empty population has no value (None, shown as "—"); occupancy's
population is the handled contacts, whose handling time is its numerator (its denominator is
the agents' staffed time, which no contact carries).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from lianluo.domain.kpi.formulas import (
    CSAT_SATISFIED_MIN,
    KpiError,
    KpiParams,
    repeat_complaint_flags,
    repeat_contact_flags,
)
from lianluo.domain.kpi.records import BoolArray, OutcomeColumns
from lianluo.domain.kpi.totals import ReportKpis

KPI_FIGURES: tuple[str, ...] = tuple(f.name for f in fields(ReportKpis))

# What each figure counts, in words (the API's drill-down says it beside the contacts).
FIGURE_POPULATIONS: dict[str, str] = {
    "offered": "contacts offered",
    "answered": "contacts answered",
    "abandoned": "contacts abandoned",
    "short_abandoned": "contacts abandoned inside the short-abandon threshold",
    "connect_rate": "contacts offered; the answered ones are its numerator",
    "abandonment_rate": "contacts offered; the abandoned ones are its numerator",
    "service_level": "contacts offered less the short abandons; those answered within the "
    "threshold are its numerator",
    "asa_s": "contacts answered (ASA is the mean of their waits)",
    "aht_s": "contacts answered (AHT is the mean of their talk + hold + after-contact work)",
    "avg_talk_s": "contacts answered (the mean of their talk time)",
    "avg_hold_s": "contacts answered (the mean of their hold time)",
    "avg_acw_s": "contacts answered (the mean of their after-contact work)",
    "transfer_rate": "contacts answered; the transferred ones are its numerator",
    "effectiveness": "contacts answered; those handled end to end by the first agent are its "
    "numerator",
    "fcr": "contacts answered; those with no repeat contact on the same need within the FCR "
    "window are its numerator",
    "complaints": "complaints",
    "repeat_complaint_rate": "complaints; the repeat complaints are its numerator",
    "over_the_head_rate": "complaints; those taken over the head are its numerator",
    "csat": "contacts with a satisfaction answer; the satisfied (4 or 5) are its numerator",
    "surveys": "contacts with a satisfaction answer",
    "occupancy": "contacts answered (their handling time over the agents' staffed time)",
}


@dataclass(frozen=True, slots=True)
class FigureContacts:
    """The contacts behind one figure: `population` (what it counts or is taken over) and,
    for a ratio, `numerator` (a subset of it); None for counts and means."""

    population: BoolArray
    numerator: BoolArray | None


def figure_contacts(
    figure: str,
    cols: OutcomeColumns,
    params: KpiParams | None = None,
    repeat_contact: BoolArray | None = None,
    repeat_complaint: BoolArray | None = None,
) -> FigureContacts:
    """The contacts of `cols` behind `figure` (a field of `ReportKpis`), with the same
    definitions as `totals_of` (DESIGN.md KPI table). Pass the repeat flags when `cols` is a
    slice of a larger data set, as for `totals_of`."""
    if figure not in FIGURE_POPULATIONS:
        raise KpiError(f"unknown figure {figure!r}; one of {', '.join(KPI_FIGURES)}")
    p = params or KpiParams()
    offered = np.ones(len(cols), dtype=np.bool_)
    answered = cols.answered
    abandoned = cols.abandoned
    wait = cols.wait_s
    short_abandoned = abandoned & (wait < p.short_abandon_s)
    complaints = np.array([c is not None for c in cols.complaint_category], dtype=np.bool_)
    surveyed = ~np.isnan(cols.csat_score)
    if figure == "fcr":
        if repeat_contact is None:
            repeat_contact = repeat_contact_flags(cols, p.fcr_window_s)
        return FigureContacts(answered, answered & ~repeat_contact)
    if figure == "repeat_complaint_rate":
        if repeat_complaint is None:
            repeat_complaint = repeat_complaint_flags(cols, p.repeat_complaint_window_s)
        return FigureContacts(complaints, complaints & repeat_complaint)
    ratios: dict[str, tuple[BoolArray, BoolArray]] = {
        "connect_rate": (offered, answered),
        "abandonment_rate": (offered, abandoned),
        "service_level": (
            ~short_abandoned,
            answered & (wait <= p.service_level_threshold_s),
        ),
        "transfer_rate": (answered, answered & cols.transferred),
        "effectiveness": (answered, answered & cols.handled_end_to_end_by_first_agent),
        "over_the_head_rate": (complaints, complaints & cols.over_the_head),
        "csat": (surveyed, surveyed & (np.nan_to_num(cols.csat_score) >= CSAT_SATISFIED_MIN)),
    }
    if figure in ratios:
        population, numerator = ratios[figure]
        return FigureContacts(population, numerator)
    counts: dict[str, BoolArray] = {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "short_abandoned": short_abandoned,
        "complaints": complaints,
        "surveys": surveyed,
    }
    # the means and occupancy are taken over the handled (answered) contacts
    return FigureContacts(counts.get(figure, answered), None)
