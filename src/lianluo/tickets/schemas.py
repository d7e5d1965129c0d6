from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from lianluo.domain.tickets.calendar import BusinessCalendar, CalendarError
from lianluo.domain.tickets.ownership import OwnershipModel
from lianluo.domain.tickets.sla import SlaState
from lianluo.domain.tickets.states import TicketStatus
from lianluo.queues.schemas import SKILL_NAME_PATTERN
from lianluo.tenants.schemas import InputModel

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_TIERS = 5


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class EntryKind(StrEnum):
    note = "note"  # internal, staff only
    reply = "reply"  # to the customer


DEFAULT_HOURS: dict[str, list[list[str]]] = {
    d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}
H = 3600
DEFAULT_SLA: dict[str, dict[str, int]] = {
    "urgent": {"target_s": 4 * H, "warn_before_s": 1 * H},
    "high": {"target_s": 8 * H, "warn_before_s": 2 * H},
    "normal": {"target_s": 24 * H, "warn_before_s": 4 * H},
    "low": {"target_s": 40 * H, "warn_before_s": 8 * H},
}
DEFAULT_REPEAT_WINDOW_DAYS = 30


# ---- settings ---------------------------------------------------------------------------------


class SlaTarget(InputModel):
    target_s: int = Field(gt=0, le=365 * 24 * H, description="business seconds to resolve")
    warn_before_s: int = Field(ge=0, description="business seconds before due that turn amber")

    @model_validator(mode="after")
    def _warn_below_target(self) -> SlaTarget:
        if self.warn_before_s >= self.target_s:
            raise ValueError("warn_before_s must be below target_s")
        return self


class TicketSettingsIn(InputModel):
    business_hours: dict[str, list[list[str]]] = Field(
        default_factory=lambda: dict(DEFAULT_HOURS),
        description='weekly hours, e.g. {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}; '
        "a day left out is closed",
    )
    holidays: list[date] = Field(default_factory=list, max_length=1000)
    makeup_days: list[date] = Field(
        default_factory=list, max_length=1000, description="调休: days worked though weekend"
    )
    sla: dict[Priority, SlaTarget] = Field(
        default_factory=lambda: {Priority(k): SlaTarget(**v) for k, v in DEFAULT_SLA.items()}
    )
    repeat_window_days: int = Field(DEFAULT_REPEAT_WINDOW_DAYS, ge=0, le=3650)

    @model_validator(mode="after")
    def _calendar_works(self) -> TicketSettingsIn:
        try:
            BusinessCalendar.from_config(
                self.business_hours, "UTC", self.holidays, self.makeup_days
            )
        except (CalendarError, ValueError, TypeError) as exc:
            raise ValueError(f"business calendar: {exc}") from None
        missing = sorted(set(Priority) - set(self.sla))
        if missing:
            raise ValueError(f"sla needs a target for every priority; missing {missing}")
        return self


class TicketSettingsOut(BaseModel):
    business_hours: dict[str, list[list[str]]]
    holidays: list[date]
    makeup_days: list[date]
    sla: dict[str, dict[str, int]]
    repeat_window_days: int
    timezone: str


# ---- categories -------------------------------------------------------------------------------


class TierIn(InputModel):
    name: str = Field(min_length=1, max_length=100)
    queue_id: str = Field(max_length=32, description="the queue this tier works from")
    required_skills: dict[str, int] = Field(default_factory=dict)

    @field_validator("required_skills")
    @classmethod
    def _skills(cls, value: dict[str, int]) -> dict[str, int]:
        import re

        for name, level in value.items():
            if not re.match(SKILL_NAME_PATTERN, name) or not 1 <= level <= 10:
                raise ValueError(f"{name!r}: skill names as for queues, levels 1-10")
        return value


class CategoryIn(InputModel):
    name: str = Field(min_length=1, max_length=100)
    ownership_model: OwnershipModel = OwnershipModel.first_contact
    is_complaint: bool = False
    tiers: list[TierIn] = Field(
        default_factory=list,
        max_length=MAX_TIERS,
        description="tiered model only: the tiers after the first contact (升级, 支撑 …)",
    )

    @model_validator(mode="after")
    def _tiers_fit_model(self) -> CategoryIn:
        if self.ownership_model == OwnershipModel.first_contact and self.tiers:
            raise ValueError("first_contact categories have no tiers: the first agent owns it")
        if self.ownership_model == OwnershipModel.tiered and not self.tiers:
            raise ValueError("a tiered category needs at least one tier to escalate to")
        return self


class CategoryUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    is_complaint: bool | None = None
    is_active: bool | None = None
    tiers: list[TierIn] | None = Field(None, max_length=MAX_TIERS)


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    ownership_model: OwnershipModel
    is_complaint: bool
    tiers: list[dict[str, Any]]
    is_active: bool
    created_at: datetime


# ---- tickets ----------------------------------------------------------------------------------


class TicketIn(InputModel):
    category_id: str = Field(max_length=32)
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20_000)
    priority: Priority = Priority.normal
    contact_id: str | None = Field(
        None, max_length=32, description="file it from this contact: customer and queue follow"
    )
    customer_id: str | None = Field(None, max_length=32, description="needed without contact_id")
    over_the_head: bool = Field(False, description="越级投诉: the customer went past the center")
    source: str = Field(
        "", max_length=32, pattern=r"^[\w.-]*$", description="regulator, executive, media …"
    )

    @model_validator(mode="after")
    def _who(self) -> TicketIn:
        if not self.contact_id and not self.customer_id:
            raise ValueError("give contact_id (from a contact) or customer_id (by hand)")
        return self


class TicketUpdate(InputModel):
    subject: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    priority: Priority | None = None
    over_the_head: bool | None = None


class StatusIn(InputModel):
    status: TicketStatus
    comment: str = Field("", max_length=2000, description="kept as an internal note")

    @field_validator("status")
    @classmethod
    def _not_merged(cls, value: TicketStatus) -> TicketStatus:
        if value == TicketStatus.merged:
            raise ValueError("merge a duplicate through /merge, which names the ticket it joins")
        return value


class AssignIn(InputModel):
    owner_id: str | None = Field(
        None, max_length=32, description="a user of the tenant; leave out to take it yourself"
    )


class EscalateIn(InputModel):
    reason: str = Field("", max_length=2000)


class EntryIn(InputModel):
    kind: EntryKind
    body: str = Field(min_length=1, max_length=20_000)


class MergeIn(InputModel):
    into_id: str = Field(max_length=32, description="the ticket this duplicate joins")


class RatingIn(InputModel):
    score: int = Field(ge=1, le=5, description="CSAT, 1 (very unhappy) to 5 (very happy)")
    comment: str = Field("", max_length=1000)


class CallbackIn(InputModel):
    """ "We will find out and call you back": due at `due_at`, or `in_business_s` business
    seconds from now (the tenant's calendar), 2 business hours by default."""

    due_at: AwareDatetime | None = None
    in_business_s: int | None = Field(None, gt=0, le=30 * 24 * H)
    note: str = Field("", max_length=500)


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: EntryKind
    author_id: str | None
    body: str
    created_at: datetime


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_by: str | None
    created_at: datetime


class FollowUpOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    ticket_id: str
    owner_id: str | None
    due_at: datetime
    note: str
    done_at: datetime | None
    created_at: datetime


class SlaOut(BaseModel):
    state: SlaState | None = Field(description="None once resolved, closed or merged")
    due_at: datetime | None
    remaining_s: float | None = Field(description="business seconds; negative once breached")
    breaches: int


class TicketOut(BaseModel):
    id: str
    customer_id: str
    contact_id: str | None
    category_id: str
    category: str
    subject: str
    description: str
    status: TicketStatus
    priority: Priority
    source: str
    ownership_model: OwnershipModel
    tier: int
    tier_name: str
    queue_id: str | None
    owner_id: str | None
    first_owner_id: str | None
    partner_id: str | None
    over_the_head: bool
    repeat_complaint: bool
    repeat_of_id: str | None
    sla: SlaOut
    escalations: int
    reopens: int
    resolved_at: datetime | None
    closed_at: datetime | None
    merged_into_id: str | None
    csat_score: int | None
    csat_comment: str
    created_at: datetime
    updated_at: datetime


class HistoryItem(BaseModel):
    type: str
    occurred_at: datetime
    actor_id: str | None
    payload: dict[str, Any]


class TicketDetail(TicketOut):
    entries: list[EntryOut]
    attachments: list[AttachmentOut]
    followups: list[FollowUpOut]
    history: list[HistoryItem]


class TicketBrief(BaseModel):
    """A ticket as the customer's 360 view shows it."""

    id: str
    subject: str
    category: str
    status: TicketStatus
    priority: Priority
    repeat_complaint: bool
    over_the_head: bool
    created_at: datetime
    resolved_at: datetime | None


class SweepOut(BaseModel):
    checked: int
    warned: int
    breached: int
    escalated: int
    supervisor_alerts: int
    callbacks_due: int = Field(description="promised call-backs that fell due (owner told)")


class ModelMetricsOut(BaseModel):
    ownership_model: OwnershipModel
    tickets: int
    resolved: int
    effectiveness: float | None = Field(
        description="效能: resolved end to end by the first owner / resolved"
    )
    mean_duration_s: float | None
    median_duration_s: float | None
    reopened_tickets: int
    reopen_rate: float | None
    complaints: int
    repeat_complaints: int
    repeat_complaint_rate: float | None = Field(description="反复投诉率: repeats / complaints")
    over_the_head_complaints: int
    follow_up_staff: int = Field(description="people other than first owners who owned tickets")
    mean_csat: float | None


class MetricsOut(BaseModel):
    since: datetime
    until: datetime
    models: list[ModelMetricsOut]
