"""KPI definitions (one module, one meaning): DESIGN.md's KPI table as pure functions.

Build `ContactOutcome` records (or `OutcomeColumns` directly) from whatever happened, then call
`summarize`, `summarize_by_interval` or the single formulas. Ratios are in [0, 1]; an empty
denominator gives None.
"""

from lianluo.domain.kpi.agent_time import STAFFED_STATES, staffed_time_s
from lianluo.domain.kpi.formulas import (
    CSAT_SATISFIED_MIN,
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
    csat,
    effectiveness,
    first_contact_resolution,
    occupancy,
    over_the_head_complaint_rate,
    repeat_complaint_flags,
    repeat_complaint_rate,
    repeat_contact_flags,
    service_level,
    summarize,
)
from lianluo.domain.kpi.intervals import (
    GRAINS,
    IntervalKpis,
    interval_starts,
    local_bucket_starts,
    local_start_datetime,
    summarize_by,
    summarize_by_interval,
    utc_offsets_s,
)
from lianluo.domain.kpi.records import ContactOutcome, OutcomeColumns, OutcomeError
from lianluo.domain.kpi.totals import KpiTotals, ReportKpis, report_kpis, totals_of

__all__ = [
    "STAFFED_STATES",
    "staffed_time_s",
    "CSAT_SATISFIED_MIN",
    "GRAINS",
    "KpiTotals",
    "ReportKpis",
    "csat",
    "local_bucket_starts",
    "local_start_datetime",
    "over_the_head_complaint_rate",
    "report_kpis",
    "totals_of",
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
