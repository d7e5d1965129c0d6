from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lianluo.queues.schemas import Channel, SkillLevel, SkillName


class ContactIn(BaseModel):
    """An inbound contact of a customer, put in line in a queue."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(max_length=32)
    queue_id: str = Field(max_length=32)
    channel: Channel
    priority: int = Field(0, ge=-1000, le=1000, description="on top of the queue's priority")
    skills: dict[SkillName, SkillLevel] = Field(
        default_factory=dict, max_length=50, description="extra skills this contact needs"
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="read by queue expressions as contact.<name>"
    )
    subject: str = Field("", max_length=300)
    context: dict[str, Any] = Field(default_factory=dict, description="shown to the agent")


class CompleteIn(BaseModel):
    """End the talk. With a disposition the contact ends at once; without, it goes to
    wrap-up (after-contact work) until POST …/wrap-up."""

    model_config = ConfigDict(extra="forbid")

    disposition: str | None = Field(None, min_length=1, max_length=64)
    notes: str = Field("", max_length=10_000)


class WrapUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: str = Field(min_length=1, max_length=64)
    notes: str = Field("", max_length=10_000)


class TransferIn(BaseModel):
    """To a queue, to a named agent, or both (the agent, falling back to the queue)."""

    model_config = ConfigDict(extra="forbid")

    to_queue_id: str | None = Field(None, max_length=32)
    to_agent_id: str | None = Field(None, max_length=32)
    note: str = Field("", max_length=2000, description="context for the next agent")

    @model_validator(mode="after")
    def _target(self) -> TransferIn:
        if self.to_queue_id is None and self.to_agent_id is None:
            raise ValueError("give to_queue_id, to_agent_id or both")
        return self


class CallbackIn(BaseModel):
    """at=None: virtual hold (keeps its place); a time: called back then."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    conversation_id: str
    customer_id: str
    queue_id: str | None
    agent_id: str | None
    channel: str
    direction: str
    state: str
    priority: int
    tier: int
    required_skills: dict[str, Any]
    attributes: dict[str, Any]
    context: dict[str, Any]
    callback: bool
    queued_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    disposition: str
    notes: str
    offer_expires_s: float | None = Field(None, description="epoch seconds, while offered")
