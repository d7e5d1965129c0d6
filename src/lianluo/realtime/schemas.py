from __future__ import annotations

from pydantic import BaseModel, Field


class IntervalOut(BaseModel):
    start: float = Field(description="epoch seconds of the local 15-minute interval's start")
    offered: int
    answered: int
    abandoned: int
    service_level: float | None


class KpiFigures(BaseModel):
    offered: int = Field(description="contacts offered today (local day of the tenant)")
    answered: int
    abandoned: int
    handled: int = Field(description="answered contacts that ended today")
    service_level: float | None = Field(description="domain/kpi service_level, 0-1")
    asa_s: float | None
    aht_s: float | None = Field(description="over the handled (ended) contacts")
    abandonment_rate: float | None


class QueueFiguresOut(KpiFigures):
    queue_id: str
    name: str
    partner_id: str | None
    channels: list[str]
    waiting: int
    ringing: int = Field(description="offered to an agent, not yet accepted")
    connected: int
    wrap_up: int
    callbacks_scheduled: int
    longest_wait_s: float | None
    oldest_waiting_since: float | None
    sl_target_s: int
    sl_target_ratio: float
    sl_status: str = Field(description="good, warn, bad or none, against the queue's target")
    intervals: list[IntervalOut]


class TotalsOut(KpiFigures):
    waiting: int
    intervals: list[IntervalOut]


class WorkOut(BaseModel):
    contact_id: str
    queue_id: str | None
    channel: str
    state: str


class AgentLiveOut(BaseModel):
    agent_id: str
    name: str
    team: str
    partner_id: str | None
    state: str
    reason: str
    since: float
    time_in_state_s: float
    work: list[WorkOut]


class WallOut(BaseModel):
    tenant_id: str
    now: float
    day_start: float
    tz: str
    interval_s: float
    queues: list[QueueFiguresOut]
    totals: TotalsOut
    agents_by_state: dict[str, int]
    agents: list[AgentLiveOut]
