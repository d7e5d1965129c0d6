"""Scenario files: what traffic, which agents, which rules. YAML, validated by pydantic 2.

A bad file raises `ScenarioError` whose message names the field path and the problem, e.g.
``queues.0.handle_time.mean_s: Input should be greater than 0``.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ScenarioError(ValueError):
    """A scenario file or model is invalid; the message names the field path."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- distributions -------------------------------------------------------------------------------


class Exponential(_Model):
    kind: Literal["exponential"]
    mean_s: float = Field(gt=0)


class LogNormal(_Model):
    """Lognormal with the given mean and coefficient of variation (std / mean)."""

    kind: Literal["lognormal"]
    mean_s: float = Field(gt=0)
    cv: float = Field(gt=0)


class Fixed(_Model):
    kind: Literal["fixed"]
    value_s: float = Field(ge=0)


class Empirical(_Model):
    """Resampled with replacement from observed durations."""

    kind: Literal["empirical"]
    values_s: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)


Duration = Annotated[Exponential | LogNormal | Fixed | Empirical, Field(discriminator="kind")]


# -- arrivals -------------------------------------------------------------------------------------


class PoissonArrivals(_Model):
    """Poisson arrivals; `per_interval` is the expected count in each interval (a forecast),
    repeated cyclically when shorter than the horizon; or one constant `per_hour` rate."""

    kind: Literal["poisson"]
    per_interval: list[Annotated[float, Field(ge=0)]] | None = None
    per_hour: float | None = Field(default=None, ge=0)
    scale: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _one_rate(self) -> PoissonArrivals:
        if (self.per_interval is None) == (self.per_hour is None):
            raise ValueError("give exactly one of per_interval or per_hour")
        if self.per_interval is not None and not self.per_interval:
            raise ValueError("per_interval must not be empty")
        return self


class ReplayArrivals(_Model):
    """Arrivals replayed from history, from exactly one source (paths are relative to the
    scenario file):

    offsets_s: seconds from the scenario start.
    csv: a CSV file with an `offered_at` column of epoch seconds.
    events_jsonl: an export of the event log, one event per line as the events API returns it
        (type, occurred_at ISO 8601, queue_id, ...); every `contact.queued` event of
        `event_queue_id` (default: this queue's name) is one arrival.
    """

    kind: Literal["replay"]
    offsets_s: list[Annotated[float, Field(ge=0)]] | None = None
    csv: str | None = None
    events_jsonl: str | None = None
    event_queue_id: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ReplayArrivals:
        given = [x for x in (self.offsets_s, self.csv, self.events_jsonl) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of offsets_s, csv or events_jsonl")
        return self


Arrivals = Annotated[PoissonArrivals | ReplayArrivals, Field(discriminator="kind")]


# -- queue behaviour ------------------------------------------------------------------------------


class Retrial(_Model):
    """An abandoning customer calls again with `probability` after an exponential delay."""

    probability: float = Field(ge=0, le=1)
    mean_delay_s: float = Field(gt=0)


class Callback(_Model):
    """When patience runs out, the customer keeps their place as a callback with
    `probability` instead of abandoning (virtual hold)."""

    probability: float = Field(ge=0, le=1)


class Transfer(_Model):
    """After the first agent, the contact moves to queue `to` with `probability`."""

    probability: float = Field(ge=0, le=1)
    to: str


class Tickets(_Model):
    """Complaint tickets under one ownership model (seed 001).

    first_contact (首问负责): the answering agent owns the ticket, consults, works longer on the
    call (`owner_handle_factor`), resolves it on the call with `owner_resolve_p`, and otherwise
    follows it up themselves (`followup_*`): a follow-up work item in the same queue.
    tiered (首问 → 升级 → 支撑): the front agent records and escalates with `escalate_p` to
    `back_office_queue`, where a back-office agent works it (`back_office_handle`); it is
    resolved with `back_office_resolve_p`, else it goes round again after `followup_delay_s`
    (hand-offs that lose context, 多环节流转).
    In both, while a ticket is open the customer chases it with a repeat call with
    `chase_p` after an exponential `chase_mean_delay_s` (反复投诉).
    """

    model: Literal["first_contact", "tiered"]
    owner_handle_factor: float = Field(default=1.5, gt=0)
    owner_resolve_p: float = Field(default=0.7, ge=0, le=1)
    followup_delay_s: float = Field(default=3600.0, ge=0)
    followup_handle: Duration | None = None
    escalate_p: float = Field(default=0.5, ge=0, le=1)
    back_office_queue: str | None = None
    back_office_handle: Duration | None = None
    back_office_resolve_p: float = Field(default=1.0, ge=0, le=1)
    chase_p: float = Field(default=0.3, ge=0, le=1)
    chase_mean_delay_s: float = Field(default=7200.0, gt=0)

    @model_validator(mode="after")
    def _tiered_needs_back_office(self) -> Tickets:
        if self.model == "tiered" and self.back_office_queue is None:
            raise ValueError("tiered tickets need back_office_queue")
        return self


class Queue(_Model):
    name: str = Field(min_length=1)
    channel: str = "voice"
    arrivals: Arrivals | None = None
    handle_time: Duration
    acw: Duration | None = None
    patience: Duration | None = None
    priority: int = 0
    vip_share: float = Field(default=0.0, ge=0, le=1)
    vip_priority: int = 10
    retrial: Retrial | None = None
    callback: Callback | None = None
    transfer: Transfer | None = None
    tickets: Tickets | None = None


# -- agents ---------------------------------------------------------------------------------------


def _parse_clock(value: str) -> float:
    try:
        parsed = time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a HH:MM time") from exc
    return parsed.hour * 3600.0 + parsed.minute * 60.0 + parsed.second


class Break(_Model):
    at: str
    minutes: float = Field(gt=0)

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str) -> str:
        _parse_clock(value)
        return value

    @property
    def at_s(self) -> float:
        return _parse_clock(self.at)


class Shift(_Model):
    """`count` agents working from `start` to `end` (local clock; an end before the start runs
    past midnight), with breaks, on every day of the horizon."""

    start: str
    end: str
    count: int = Field(ge=0)
    breaks: list[Break] = Field(default_factory=list)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        _parse_clock(value)
        return value

    @property
    def start_s(self) -> float:
        return _parse_clock(self.start)

    @property
    def end_s(self) -> float:
        end = _parse_clock(self.end)
        return end if end > self.start_s else end + 86_400.0


class AgentGroup(_Model):
    """Agents with the same skills, scheduled either per interval (`per_interval` heads,
    repeated cyclically) or by shifts. `shrinkage` is the share of scheduled agents absent
    (absence, meetings, training), drawn per agent and interval."""

    group: str = Field(min_length=1)
    skills: dict[str, Annotated[int, Field(ge=1, le=10)]] = Field(min_length=1)
    per_interval: list[Annotated[int, Field(ge=0)]] | None = None
    shifts: list[Shift] | None = None
    shrinkage: float = Field(default=0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _one_schedule(self) -> AgentGroup:
        if (self.per_interval is None) == (self.shifts is None):
            raise ValueError("give exactly one of per_interval or shifts")
        if self.per_interval is not None and not self.per_interval:
            raise ValueError("per_interval must not be empty")
        return self


class KpiSettings(_Model):
    service_level_threshold_s: float = Field(default=20.0, ge=0)
    short_abandon_s: float = Field(default=5.0, ge=0)
    fcr_window_s: float = Field(default=7 * 86_400.0, ge=0)
    target_service_level: float = Field(default=0.8, gt=0, le=1)


class Scenario(_Model):
    name: str = "scenario"
    start: datetime = datetime(2026, 1, 5, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    timezone: str = "Asia/Shanghai"
    interval_minutes: int = Field(default=30, gt=0)
    intervals: int = Field(default=48, gt=0)
    seed: int = 0
    replications: int = Field(default=10, ge=1)
    routing: dict[str, Any] = Field(default_factory=dict)
    kpi: KpiSettings = Field(default_factory=KpiSettings)
    queues: list[Queue] = Field(min_length=1)
    agents: list[AgentGroup] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a UTC offset, e.g. 2026-01-05T00:00:00+08:00")
        return value

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError(f"queue names must be unique, got {names}")
        known = set(names)
        for i, q in enumerate(self.queues):
            if q.transfer is not None and q.transfer.to not in known:
                raise ValueError(f"queues.{i}.transfer.to: unknown queue {q.transfer.to!r}")
            t = q.tickets
            if t is not None and t.back_office_queue is not None:
                if t.back_office_queue not in known:
                    raise ValueError(
                        f"queues.{i}.tickets.back_office_queue: unknown queue "
                        f"{t.back_office_queue!r}"
                    )
        for i, g in enumerate(self.agents):
            for skill in g.skills:
                if skill not in known:
                    raise ValueError(f"agents.{i}.skills: unknown queue {skill!r}")
        if 86_400 % (self.interval_minutes * 60):
            raise ValueError("interval_minutes must divide a day")
        return self

    @property
    def interval_s(self) -> float:
        return self.interval_minutes * 60.0

    @property
    def horizon_s(self) -> float:
        return self.interval_s * self.intervals

    @property
    def start_epoch_s(self) -> float:
        return self.start.timestamp()

    def queue(self, name: str) -> Queue:
        for q in self.queues:
            if q.name == name:
                return q
        raise ScenarioError(f"no queue {name!r}")


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {path}: {err['msg']}")
    return "\n".join(lines)


def scenario_from_dict(data: Any, source: str = "scenario") -> Scenario:
    """Validate a parsed scenario; `ScenarioError` names each bad field path."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, source)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario; replay CSVs are resolved next to the file."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{p}: not valid YAML: {exc}") from None
    scenario = scenario_from_dict(data, str(p))
    return _resolve_replays(scenario, p.parent)


def _resolve_replays(scenario: Scenario, base: Path) -> Scenario:
    queues = []
    for i, q in enumerate(scenario.queues):
        arrivals = q.arrivals
        if isinstance(arrivals, ReplayArrivals) and arrivals.offsets_s is None:
            if arrivals.csv is not None:
                offsets = _read_replay_csv(base / arrivals.csv, scenario.start_epoch_s, i)
            else:
                assert arrivals.events_jsonl is not None
                offsets = _read_replay_events(
                    base / arrivals.events_jsonl,
                    arrivals.event_queue_id or q.name,
                    scenario.start_epoch_s,
                    i,
                )
            q = q.model_copy(update={"arrivals": ReplayArrivals(kind="replay", offsets_s=offsets)})
        queues.append(q)
    return scenario.model_copy(update={"queues": queues})


def _read_replay_events(path: Path, queue_id: str, start_epoch_s: float, index: int) -> list[float]:
    where = f"queues.{index}.arrivals.events_jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot read {path}: {exc.strerror}") from None
    offsets = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            if event.get("type") != "contact.queued" or event.get("queue_id") != queue_id:
                continue
            when = datetime.fromisoformat(event["occurred_at"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ScenarioError(f"{where}: {path} line {n}: not an event: {exc}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # the event log stores UTC
        offsets.append(when.timestamp() - start_epoch_s)
    return sorted(o for o in offsets if o >= 0)


def _read_replay_csv(path: Path, start_epoch_s: float, index: int) -> list[float]:
    where = f"queues.{index}.arrivals.csv"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot read {path}: {exc.strerror}") from None
    offsets = []
    for n, row in enumerate(rows, start=2):
        if "offered_at" not in row:
            raise ScenarioError(f"{where}: {path} has no offered_at column")
        try:
            offsets.append(float(row["offered_at"]) - start_epoch_s)
        except ValueError:
            raise ScenarioError(
                f"{where}: {path} line {n}: offered_at {row['offered_at']!r} is not a number"
            ) from None
    return sorted(o for o in offsets if o >= 0)
