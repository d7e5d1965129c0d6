"""Request and response bodies of the WFM API (/api/v1/wfm/...)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

MAX_INTERVALS = 7 * 24 * 4 * 5  # five weeks of 15-minute intervals
MAX_ACTIVITIES = 20_000


class StaffTargets(BaseModel):
    """Service targets, as `lianluo wfm staff` takes them (Erlang A when patience_s is given)."""

    target_sl: float | None = Field(0.8, ge=0, lt=1, description="service-level target (0–1)")
    target_time_s: float = Field(20.0, ge=0, le=86_400, description="answer time of the SL target")
    target_asa_s: float | None = Field(None, ge=0.001, description="maximum ASA in seconds")
    patience_s: float | None = Field(None, ge=0.1, le=1e7, description="mean patience (Erlang A)")
    max_abandonment: float | None = Field(None, gt=0, le=1, description="needs patience_s")
    max_occupancy: float = Field(1.0, ge=0.05, le=1, description="occupancy cap (0.05–1)")
    shrinkage: float = Field(0.0, ge=0, lt=1, description="share of paid time not productive")
    concurrency: int = Field(1, ge=1, le=50, description="contacts an agent handles at once")

    def as_kwargs(self) -> dict[str, object]:
        """The targets only, as keyword arguments of `staffing.required_agents`."""
        return self.model_dump(include=set(StaffTargets.model_fields))


class StaffIn(StaffTargets):
    contacts: float | list[float] = Field(
        ...,
        description="contacts per interval: one number, or a list for many intervals",
        examples=[120, [80, 120, 150]],
    )
    aht_s: float = Field(
        ..., ge=0.1, le=86_400, description="average handle time in seconds (at least 0.1)"
    )
    interval_s: float = Field(
        1800.0, ge=1, le=86_400, description="interval length in seconds (at least 1)"
    )

    @model_validator(mode="after")
    def _check_contacts(self) -> StaffIn:
        values = self.contacts if isinstance(self.contacts, list) else [self.contacts]
        if not values:
            raise ValueError("contacts needs at least one value")
        if len(values) > MAX_INTERVALS:
            raise ValueError(f"at most {MAX_INTERVALS} intervals per request")
        if any(v < 0 for v in values):
            raise ValueError("contacts must be >= 0")
        return self


class StaffRow(BaseModel):
    contacts: float
    load_erlangs: float
    agents: int
    scheduled_agents: int
    service_level: float
    asa: float | None = Field(description="ASA in seconds; null when infinite")
    probability_wait: float
    occupancy: float
    abandonment: float | None = Field(None, description="only with patience_s (Erlang A)")


class StaffMany(BaseModel):
    intervals: list[StaffRow]


class ForecastPoint(BaseModel):
    start: datetime
    contacts: float | None
    aht_s: float | None


class BacktestScore(BaseModel):
    model: str
    wape: float
    window_wapes: list[float]


class ForecastOut(BaseModel):
    queue_id: str | None
    tz: str
    interval_min: int
    model: str = Field(description="the model chosen by rolling-origin backtest")
    backtest_wape: float = Field(description="mean WAPE of the chosen model on held-out weeks")
    backtest: list[BacktestScore]
    history_contacts: int = Field(description="contact.queued events read")
    forecast: list[ForecastPoint]
    actual: list[ForecastPoint] = Field(description="recent history per interval, for the chart")


class ForecastRequirement(StaffTargets):
    """Required agents from the forecast of a queue: forecast → Erlang staffing per interval."""

    queue_id: str | None = None
    aht_s: float | None = Field(
        None, gt=0, le=86_400, description="AHT in seconds; default: the forecast AHT"
    )
    history_weeks: int = Field(8, ge=2, le=26)


class ScheduleIn(BaseModel):
    interval_min: Literal[15, 30] = Field(
        30, description="15 or 30: the shift types (8h30, 6h) must be whole intervals"
    )
    required_agents: list[float] | None = Field(
        None,
        description="agents per interval of a week, Monday 00:00 first (7 × 1440/interval_min)",
    )
    from_forecast: ForecastRequirement | None = Field(
        None, description="compute the requirement from the queue's forecast instead"
    )
    days_on: int = Field(5, ge=1, le=7)
    start_step_min: int = Field(60, ge=15, le=720, description="minutes between shift starts")
    time_limit_s: float = Field(10.0, gt=0, le=60, description="solver time limit")
    assign: bool = Field(
        False, description="give the tours to the tenant's agents and return their activities"
    )
    team: str | None = Field(None, max_length=100, description="only agents of this team")
    week_start: date | None = Field(
        None, description="Monday of the scheduled week (tenant time); default: this week"
    )

    @model_validator(mode="after")
    def _one_source(self) -> ScheduleIn:
        if (self.required_agents is None) == (self.from_forecast is None):
            raise ValueError("give exactly one of required_agents and from_forecast")
        if self.required_agents is not None:
            needed = 7 * 1440 // self.interval_min
            if len(self.required_agents) != needed:
                raise ValueError(
                    f"required_agents needs {needed} values for {self.interval_min}-min "
                    f"intervals, got {len(self.required_agents)}"
                )
            if any(not (v >= 0) for v in self.required_agents):
                raise ValueError("required_agents must be >= 0")
        if self.start_step_min % self.interval_min:
            raise ValueError("start_step_min must be a multiple of interval_min")
        if self.week_start is not None and self.week_start.weekday() != 0:
            raise ValueError(f"week_start must be a Monday, got {self.week_start}")
        return self


class TourOut(BaseModel):
    days: list[int] = Field(description="0 = Monday")
    start: str = Field(description="HH:MM local time")
    shift: str
    break_offsets_min: list[int]
    paid_hours_per_week: float
    count: int


class ActivityIn(BaseModel):
    agent_id: str = Field(..., max_length=64)
    start: datetime
    end: datetime
    activity: str = Field(..., description="work, break, lunch, meeting, training or off")

    @model_validator(mode="after")
    def _order(self) -> ActivityIn:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone offset, e.g. 2024-05-06T09:00+08:00")
        if not self.end > self.start:
            raise ValueError("end must be after start")
        return self


class ScheduleOut(BaseModel):
    interval_min: int
    week_start: date
    tz: str
    agents: int
    paid_hours: float
    lp_bound_hours: float
    gap: float
    understaffed_agent_hours: float
    overstaffed_agent_hours: float
    status: str
    seconds: float
    tours: list[TourOut]
    interval_starts: list[datetime]
    required: list[float]
    coverage: list[int]
    under: list[float]
    over: list[float]
    activities: list[ActivityIn] = Field(
        default_factory=list, description="with assign: each agent's activities of the week"
    )
    unassigned_tours: int = 0


class AdherenceIn(BaseModel):
    activities: list[ActivityIn] = Field(
        ..., max_length=MAX_ACTIVITIES, description="the scheduled activities (see /schedule)"
    )
    grace_s: float = Field(0.0, ge=0, le=3600)


class PublishIn(BaseModel):
    activities: list[ActivityIn] = Field(
        ...,
        min_length=1,
        max_length=MAX_ACTIVITIES,
        description="each agent's activities; they replace what was published for the agent "
        "between its first start and its last end",
    )


class PublishOut(BaseModel):
    agents: int
    activities: int


class DeviationOut(BaseModel):
    start: datetime
    end: datetime
    scheduled: str
    actual: str


class AdherenceRow(BaseModel):
    name: str = Field(description="agent id or team name")
    label: str = Field(description="display name of the agent, or the team")
    team: str = ""
    adherence: float
    conformance: float
    scheduled_s: float
    in_adherence_s: float
    scheduled_work_s: float
    worked_s: float
    deviations: list[DeviationOut]


class AdherenceOut(BaseModel):
    since: datetime
    until: datetime
    agents: list[AdherenceRow]
    teams: list[AdherenceRow]
