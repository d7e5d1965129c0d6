from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

REASON_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class SettableState(StrEnum):
    offline = "offline"
    available = "available"
    busy = "busy"
    break_ = "break"


class StateChangeIn(BaseModel):
    """A break needs a reason code (lunch, rest, training, meeting, coaching …)."""

    model_config = ConfigDict(extra="forbid")

    state: SettableState
    reason: str | None = Field(None, pattern=REASON_PATTERN)

    @model_validator(mode="after")
    def _reason_for_break(self) -> StateChangeIn:
        if self.state == SettableState.break_ and not self.reason:
            raise ValueError("a break needs a reason code, e.g. lunch, rest, training")
        return self


class AgentStateOut(BaseModel):
    agent_id: str
    user_id: str
    partner_id: str | None
    state: str
    reason: str
    since: datetime
    load: dict[str, int] = Field(description="offered + connected contacts per channel")
    capacity: dict[str, int]


class QueueStatusOut(BaseModel):
    queue_id: str
    name: str
    partner_id: str | None
    waiting: int
    offered: int
    connected: int
    callbacks_scheduled: int
    longest_wait_s: float | None
    agents_available: int = Field(description="available and with room on a channel")
    agents_busy: int = Field(description="handling contacts, busy or in wrap-up")
    sl_target_s: int
    sl_target_ratio: float


class OfferOut(BaseModel):
    contact_id: str
    customer_id: str
    queue_id: str | None
    channel: str
    state: str
    offered_s: float | None
    expires_s: float | None
    callback: bool
    context: dict[str, object]
