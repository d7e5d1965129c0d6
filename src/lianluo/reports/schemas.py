"""Request and response bodies of the reports API (/api/v1/reports/...)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator, model_validator

from lianluo.domain.kpi import KPI_FIGURES
from lianluo.paging import Page
from lianluo.queues.schemas import Channel

Grain = Literal["15min", "30min", "60min", "day", "week", "month"]
GroupBy = Literal["none", "queue", "skill", "agent", "team", "partner", "channel", "region"]
Outcome = Literal["all", "answered", "abandoned", "waiting"]
ExportFormat = Literal["csv", "xlsx"]
Every = Literal["daily", "weekly", "monthly"]
GroupColumn = Literal["queue", "skill", "agent", "team", "partner", "channel", "region"]
Figure = Literal[KPI_FIGURES]  # type: ignore[valid-type]

MAX_RANGE_DAYS = 400


# The filters and grouping a report is run with (the reports page offers each of them): what
# a saved report stores and re-applies.
FILTER_FIELDS = ("queue_id", "agent_id", "partner_id", "channel", "skill", "team", "region")


class ReportFilters(BaseModel):
    grain: Grain = "day"
    group_by: GroupBy = "queue"
    queue_id: str | None = Field(None, max_length=64)
    agent_id: str | None = Field(None, max_length=64)
    partner_id: str | None = Field(None, max_length=64)
    channel: str | None = Field(None, max_length=16)
    skill: str | None = Field(None, max_length=100, description="the contact's primary skill")
    team: str | None = Field(None, max_length=100, description="the answering agent's team")
    region: str | None = Field(None, max_length=100, description="the customer's region")


class ReportQuery(ReportFilters):
    """What a report covers: local dates of the tenant's time zone, both ends included
    (default: the last 7 days, today included)."""

    date_from: date | None = None
    date_to: date | None = None

    @model_validator(mode="after")
    def _check_range(self) -> ReportQuery:
        if self.date_from is None or self.date_to is None:
            return self
        if self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        if (self.date_to - self.date_from).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a report covers at most {MAX_RANGE_DAYS} days")
        return self


class Kpis(BaseModel):
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int = Field(description="abandoned inside the short-abandon threshold")
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
    occupancy: float | None = Field(
        description="an agent measure: grouped by agent, team, partner or nothing, and not "
        "filtered by queue, skill, channel or region (the agents' staffed time is not theirs)"
    )


class ReportRow(BaseModel):
    start: datetime = Field(description="bucket start, in the tenant's time zone")
    end: datetime
    key: str | None = Field(
        description="id of the group (queue, agent, partner), or the channel, skill, team or "
        "region name"
    )
    label: str
    kpis: Kpis


class ReportOut(BaseModel):
    timezone: str
    grain: Grain
    group_by: GroupBy
    since: datetime
    until: datetime
    service_level_threshold_s: float
    short_abandon_s: float
    rows: list[ReportRow]
    total: Kpis


class ContactFact(BaseModel):
    contact_id: str
    offered_at: datetime
    queue_id: str | None
    agent_id: str | None
    partner_id: str | None
    channel: str
    skill: str | None = None
    team: str | None = None
    region: str | None = None
    outcome: Outcome
    wait_s: float | None
    handle_s: float | None
    talk_s: float | None = None
    hold_s: float | None = None
    acw_s: float | None = None
    transferred: bool
    csat_score: float | None
    complaint_category: str | None = None
    over_the_head: bool = False
    repeat_contact: bool = Field(
        False, description="another contact on the same need followed within the FCR window"
    )
    repeat_complaint: bool = False
    in_numerator: bool | None = Field(
        None,
        description="for a ratio figure: whether the contact is in its numerator (answered, "
        "within the service level, resolved at first contact, satisfied ...); null otherwise",
    )


class DrillPage(Page[ContactFact]):
    """The contacts behind one figure of a report cell (`figure`), a page of them."""

    figure: str
    counts: str = Field(description="which contacts the figure counts, in words")
    cell_offered: int = Field(
        description="the contacts offered in the cell (its key, bucket and filters), whichever "
        "the figure counts: a figure with no value (—) may still have contacts in its cell"
    )
    message: str = Field("", description="why the list is empty, when it is")


class Scorecard(BaseModel):
    agent_id: str
    name: str
    since: datetime
    until: datetime
    handled: int
    aht_s: float | None
    avg_talk_s: float | None
    avg_hold_s: float | None
    avg_acw_s: float | None
    fcr: float | None
    effectiveness: float | None
    csat: float | None
    surveys: int
    transfer_rate: float | None
    occupancy: float | None
    staffed_s: float
    adherence: float | None = Field(
        description="share of scheduled time in the scheduled activity; null: no WFM schedule "
        "is stored for the agent (see adherence_note)"
    )
    adherence_note: str = Field("", description="why adherence is null, when it is")


class _SavedReport(ReportFilters):
    name: str = Field(min_length=1, max_length=120)
    days: int = Field(7, ge=1, le=92, description="the report covers the last `days` whole days")
    format: ExportFormat = "xlsx"
    every: Every = "daily"


class SavedReportIn(_SavedReport):
    """A report definition: every filter and the grouping of the reports page (ids and names
    in the caller's scope; blank means all), e-mailed on a schedule."""

    channel: Channel | None = None  # type: ignore[assignment]
    recipients: list[EmailStr] = Field(min_length=1, max_length=50)

    @field_validator(*FILTER_FIELDS, mode="before")
    @classmethod
    def _blank_is_all(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class SavedReportOut(_SavedReport):
    id: str
    owner_id: str | None
    recipients: list[str]
    next_run_at: datetime
    last_sent_at: datetime | None
