"""The KPI formulas of DESIGN.md's KPI table, over `OutcomeColumns`.

Every ratio returns None when its denominator is empty: "no contacts" is not 0 % and not 100 %.
Per-contact flags that look across contacts (repeat contact, repeat complaint) are computed on
the whole data set and then aggregated, so a repeat call on the next day still counts against
the contact of today when the caller later groups by interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lianluo.domain.kpi.records import BoolArray, FloatArray, OutcomeColumns

DAY_S = 86_400.0

DEFAULT_SERVICE_LEVEL_THRESHOLD_S = 20.0
DEFAULT_SHORT_ABANDON_S = 5.0
DEFAULT_FCR_WINDOW_S = 7 * DAY_S
DEFAULT_REPEAT_COMPLAINT_WINDOW_S = 30 * DAY_S


class KpiError(ValueError):
    """A KPI parameter is out of range."""


def _ratio(numerator: int | float, denominator: int | float) -> float | None:
    return None if denominator <= 0 else float(numerator) / float(denominator)


def _check_nonnegative(name: str, value: float) -> None:
    if not value >= 0:
        raise KpiError(f"{name} must be >= 0, got {value}")


def connect_rate(cols: OutcomeColumns) -> float | None:
    """接通率 = answered / offered (DESIGN.md KPI table)."""
    return _ratio(int(cols.answered.sum()), len(cols))


def abandonment_rate(cols: OutcomeColumns) -> float | None:
    """放弃率 = abandoned / offered (DESIGN.md KPI table; Gans, Koole & Mandelbaum 2003,
    MSOM 5(2), on abandonment as a performance measure)."""
    return _ratio(int(cols.abandoned.sum()), len(cols))


def service_level(
    cols: OutcomeColumns,
    threshold_s: float = DEFAULT_SERVICE_LEVEL_THRESHOLD_S,
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S,
) -> float | None:
    """服务水平 = answered within `threshold_s` / (offered − abandoned within `short_abandon_s`).

    DESIGN.md KPI table. A wait of exactly `threshold_s` counts as within; an abandonment
    counts as short when its wait is strictly below `short_abandon_s` (0 excludes none).
    Contacts still waiting stay in the denominator. With `short_abandon_s=0` and no
    abandonment this is the P(wait <= T) that Erlang C predicts (Gans, Koole & Mandelbaum
    2003, MSOM 5(2), on the service-level measure).
    """
    _check_nonnegative("threshold_s", threshold_s)
    _check_nonnegative("short_abandon_s", short_abandon_s)
    wait = cols.wait_s
    answered_in_time = int((cols.answered & (wait <= threshold_s)).sum())
    short_abandons = int((cols.abandoned & (wait < short_abandon_s)).sum())
    return _ratio(answered_in_time, len(cols) - short_abandons)


def average_speed_of_answer_s(cols: OutcomeColumns) -> float | None:
    """平均应答速度 ASA = mean wait of answered contacts, in seconds (DESIGN.md KPI table)."""
    answered = cols.answered
    if not answered.any():
        return None
    return float(np.mean(cols.answered_at[answered] - cols.offered_at[answered]))


def average_handle_time_s(cols: OutcomeColumns) -> float | None:
    """平均处理时长 AHT = mean (talk + hold + after-contact work) per handled contact, seconds.

    Handled means answered (DESIGN.md KPI table).
    """
    answered = cols.answered
    if not answered.any():
        return None
    handle = cols.talk_s[answered] + cols.hold_s[answered] + cols.acw_s[answered]
    return float(np.mean(handle))


def effectiveness(cols: OutcomeColumns) -> float | None:
    """效能 = contacts handled end to end by the first agent / handled contacts.

    DESIGN.md KPI table, after seed 001 (效能: 从头到尾被处置终了受理的电话占一切受理电话的比率).
    """
    answered = cols.answered
    return _ratio(int((cols.handled_end_to_end_by_first_agent & answered).sum()), answered.sum())


def _group_codes(labels: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
    """Integer code per label; -1 for None."""
    present = np.array([v is not None for v in labels], dtype=np.bool_)
    codes = np.full(len(labels), -1, dtype=np.int64)
    if present.any():
        _, inverse = np.unique(labels[present].astype(str), return_inverse=True)
        codes[present] = inverse
    return codes


def repeat_contact_flags(cols: OutcomeColumns, window_s: float = DEFAULT_FCR_WINDOW_S) -> BoolArray:
    """Per contact: another contact on the same need_id was offered within `window_s` after it.

    Contacts without a need_id never have a repeat. Ties in offered_at are ordered by row.
    """
    _check_nonnegative("window_s", window_s)
    codes = _group_codes(cols.need_id)
    order = np.lexsort((np.arange(len(cols)), cols.offered_at, codes))
    sorted_codes = codes[order]
    sorted_times = cols.offered_at[order]
    same_need_next = (sorted_codes[1:] == sorted_codes[:-1]) & (sorted_codes[:-1] >= 0)
    gap_ok = (sorted_times[1:] - sorted_times[:-1]) <= window_s
    flags_sorted = np.zeros(len(cols), dtype=np.bool_)
    flags_sorted[:-1] = same_need_next & gap_ok
    flags = np.empty(len(cols), dtype=np.bool_)
    flags[order] = flags_sorted
    return flags


def first_contact_resolution(
    cols: OutcomeColumns,
    window_s: float = DEFAULT_FCR_WINDOW_S,
    repeat_flags: BoolArray | None = None,
) -> float | None:
    """首次解决率 FCR = handled contacts with no repeat contact on the same need within
    `window_s` / handled contacts (DESIGN.md KPI table).

    Pass `repeat_flags` (from `repeat_contact_flags` on a larger data set) when `cols` is a
    slice, so a repeat that falls outside the slice still counts.
    """
    flags = repeat_contact_flags(cols, window_s) if repeat_flags is None else repeat_flags
    answered = cols.answered
    return _ratio(int((answered & ~flags).sum()), int(answered.sum()))


def repeat_complaint_flags(
    cols: OutcomeColumns, window_s: float = DEFAULT_REPEAT_COMPLAINT_WINDOW_S
) -> BoolArray:
    """Per contact: it is a complaint, and the same customer already had a complaint on the
    same category that was still open when this one was offered, or closed less than
    `window_s` before it (反复投诉). A complaint without a customer_id is never a repeat."""
    _check_nonnegative("window_s", window_s)
    flags = np.zeros(len(cols), dtype=np.bool_)
    complaint_rows = [
        i
        for i in range(len(cols))
        if cols.complaint_category[i] is not None and cols.customer_id[i] is not None
    ]
    complaint_rows.sort(key=lambda i: (cols.offered_at[i], i))
    # Latest time each (customer, category) is "covered" until: inf while a complaint is open.
    covered_until: dict[tuple[object, object], float] = {}
    for i in complaint_rows:
        key = (cols.customer_id[i], cols.complaint_category[i])
        offered = float(cols.offered_at[i])
        if key in covered_until and offered <= covered_until[key]:
            flags[i] = True
        resolved = float(cols.need_resolved_at[i])
        until = np.inf if np.isnan(resolved) else resolved + window_s
        covered_until[key] = max(covered_until.get(key, -np.inf), until)
    return flags


def repeat_complaint_rate(
    cols: OutcomeColumns,
    window_s: float = DEFAULT_REPEAT_COMPLAINT_WINDOW_S,
    repeat_flags: BoolArray | None = None,
) -> float | None:
    """反复投诉率 = repeat complaints / complaints (DESIGN.md KPI table); see
    `repeat_complaint_flags` for what makes a complaint a repeat."""
    flags = repeat_complaint_flags(cols, window_s) if repeat_flags is None else repeat_flags
    complaints = np.array([c is not None for c in cols.complaint_category], dtype=np.bool_)
    return _ratio(int((flags & complaints).sum()), int(complaints.sum()))


def occupancy(
    handling_s: float | FloatArray, staffed_available_s: float | FloatArray
) -> float | None:
    """占用率 = handling time / (staffed available time + handling time) (DESIGN.md KPI table).

    Arrays are summed first (e.g. per agent). Idle time is `staffed_available_s`; breaks and
    other unavailable states belong in neither term.
    """
    handling = float(np.sum(handling_s))
    available = float(np.sum(staffed_available_s))
    if handling < 0 or available < 0:
        raise KpiError("handling and available time must be >= 0")
    return _ratio(handling, handling + available)


CSAT_SATISFIED_MIN = 4.0

# The events that carry a customer's satisfaction answer (1–5) about a contact: the rating at
# the end of a web chat, the rating of the ticket opened from the contact once it is resolved,
# and a post-contact survey (IVR or SMS). The last valid answer about a contact counts.
CSAT_EVENT_TYPES = ("chat.rated", "ticket.rated", "contact.surveyed")


def survey_score(value: object) -> float | None:
    """A satisfaction answer as a float in [1, 5], or None when it is not one (missing, a
    boolean, out of range, not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 1 <= value <= 5 else None


def csat(cols: OutcomeColumns, satisfied_min: float = CSAT_SATISFIED_MIN) -> float | None:
    """客户满意度 CSAT = survey answers of `satisfied_min` or more on the 1–5 scale / answers.

    The "top-two-box" share (4 or 5 out of 5) of the American Customer Satisfaction Index
    practice; contacts without an answer are left out of both terms.
    """
    answered_survey = ~np.isnan(cols.csat_score)
    satisfied = answered_survey & (np.nan_to_num(cols.csat_score) >= satisfied_min)
    return _ratio(int(satisfied.sum()), int(answered_survey.sum()))


def over_the_head_complaint_rate(cols: OutcomeColumns) -> float | None:
    """越级投诉率 = complaints taken over the head of the contact center (to management, the
    regulator, the press) / complaints (seed 001: 反复投诉与越级投诉的跟踪)."""
    complaints = np.array([c is not None for c in cols.complaint_category], dtype=np.bool_)
    return _ratio(int((complaints & cols.over_the_head).sum()), int(complaints.sum()))


@dataclass(frozen=True, slots=True)
class KpiParams:
    """The thresholds that give the KPIs their meaning in one center."""

    service_level_threshold_s: float = DEFAULT_SERVICE_LEVEL_THRESHOLD_S
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S
    fcr_window_s: float = DEFAULT_FCR_WINDOW_S
    repeat_complaint_window_s: float = DEFAULT_REPEAT_COMPLAINT_WINDOW_S

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            _check_nonnegative(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class KpiSummary:
    """All contact KPIs of one group of contacts; ratios in [0, 1], None when undefined."""

    offered: int
    answered: int
    abandoned: int
    connect_rate: float | None
    service_level: float | None
    asa_s: float | None
    aht_s: float | None
    abandonment_rate: float | None
    effectiveness: float | None
    fcr: float | None
    repeat_complaint_rate: float | None


def summarize(
    cols: OutcomeColumns,
    params: KpiParams | None = None,
    repeat_contact: BoolArray | None = None,
    repeat_complaint: BoolArray | None = None,
) -> KpiSummary:
    """Every contact KPI of DESIGN.md's table for `cols` (occupancy needs agent time; see
    `occupancy`). Pass the repeat flags when `cols` is a slice of a larger data set."""
    p = params or KpiParams()
    return KpiSummary(
        offered=len(cols),
        answered=int(cols.answered.sum()),
        abandoned=int(cols.abandoned.sum()),
        connect_rate=connect_rate(cols),
        service_level=service_level(cols, p.service_level_threshold_s, p.short_abandon_s),
        asa_s=average_speed_of_answer_s(cols),
        aht_s=average_handle_time_s(cols),
        abandonment_rate=abandonment_rate(cols),
        effectiveness=effectiveness(cols),
        fcr=first_contact_resolution(cols, p.fcr_window_s, repeat_contact),
        repeat_complaint_rate=repeat_complaint_rate(
            cols, p.repeat_complaint_window_s, repeat_complaint
        ),
    )
