from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from lianluo.customers.normalize import normalize_phone
from lianluo.tickets.schemas import TicketBrief


class ValueTier(StrEnum):
    standard = "standard"
    silver = "silver"
    gold = "gold"
    vip = "vip"


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phones: list[str] = Field(default_factory=list, max_length=20)
    emails: list[EmailStr] = Field(default_factory=list, max_length=20)
    language: str = Field("zh", min_length=2, max_length=16)
    region: str = Field("", max_length=100)
    value_tier: ValueTier = ValueTier.standard
    attributes: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=50)
    consents: dict[str, bool] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("phones")
    @classmethod
    def _phones(cls, values: list[str]) -> list[str]:
        return [normalize_phone(v) for v in values]


class CustomerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    language: str | None = Field(None, min_length=2, max_length=16)
    region: str | None = Field(None, max_length=100)
    value_tier: ValueTier | None = None
    attributes: dict[str, Any] | None = None
    tags: list[str] | None = Field(None, max_length=50)
    consents: dict[str, bool] | None = None
    churn_risk: float | None = Field(None, ge=0, le=1)


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(phone|email|wechat_openid|visitor_id)$")
    value: str = Field(min_length=1, max_length=320)
    verified: bool = False


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    value: str
    verified: bool


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    language: str
    region: str
    value_tier: str
    attributes: dict[str, Any]
    tags: list[str]
    consents: dict[str, Any]
    churn_risk: float | None
    merged_into_id: str | None
    created_at: datetime
    updated_at: datetime


class CustomerWithIdentities(CustomerOut):
    identities: list[IdentityOut]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: str = Field(min_length=1, max_length=32, description="customer merged into this one")


class MessageOut(BaseModel):
    id: str
    contact_id: str | None
    sender_kind: str
    body: str
    created_at: datetime


class ContactOut(BaseModel):
    id: str
    channel: str
    direction: str
    state: str
    queue_id: str | None
    agent_id: str | None
    queued_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    disposition: str


class ConversationOut(BaseModel):
    id: str
    subject: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    contacts: list[ContactOut]
    messages: list[MessageOut]


class Customer360(BaseModel):
    customer: CustomerOut
    identities: list[IdentityOut]
    contacts_total: int
    last_contact_at: datetime | None
    open_conversations: int
    timeline: list[ConversationOut] = Field(description="conversations, newest first")
    tickets: list[TicketBrief] = Field(
        default_factory=list, description="the customer's tickets (工单), newest first"
    )
