"""KPI definitions (one module, one meaning): DESIGN.md's KPI table as pure functions.

Build `ContactOutcome` records (or `OutcomeColumns` directly) from whatever happened, then call
`summarize`, `summarize_by_interval` or the single formulas. Ratios are in [0, 1]; an empty
denominator gives None.
"""

from lianluo.domain.kpi.formulas import (
    DEFAULT_FCR_WINDOW_S,
    DEFAULT_REPEAT_COMPLAINT_WINDOW_S,
    DEFAULT_SERVICE_LEVEL_THRESHOLD_S,
    DEFAULT_SHORT_ABANDON_S,
    KpiError,
    KpiParams,
    KpiSummary,
    abandonment_rate,
    average_handle_time_s,
    average_speed_of_answer_s,
    connect_rate,
    effectiveness,
    first_contact_resolution,
    occupancy,
    repeat_complaint_flags,
    repeat_complaint_rate,
    repeat_contact_flags,
    service_level,
    summarize,
)
from lianluo.domain.kpi.intervals import (
    IntervalKpis,
    interval_starts,
    summarize_by,
    summarize_by_interval,
    utc_offsets_s,
)
from lianluo.domain.kpi.records import ContactOutcome, OutcomeColumns, OutcomeError

__all__ = [
    "DEFAULT_FCR_WINDOW_S",
    "DEFAULT_REPEAT_COMPLAINT_WINDOW_S",
    "DEFAULT_SERVICE_LEVEL_THRESHOLD_S",
    "DEFAULT_SHORT_ABANDON_S",
    "ContactOutcome",
    "IntervalKpis",
    "KpiError",
    "KpiParams",
    "KpiSummary",
    "OutcomeColumns",
    "OutcomeError",
    "abandonment_rate",
    "average_handle_time_s",
    "average_speed_of_answer_s",
    "connect_rate",
    "effectiveness",
    "first_contact_resolution",
    "interval_starts",
    "occupancy",
    "repeat_complaint_flags",
    "repeat_complaint_rate",
    "repeat_contact_flags",
    "service_level",
    "summarize",
    "summarize_by",
    "summarize_by_interval",
    "utc_offsets_s",
]
