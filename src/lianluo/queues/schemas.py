from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from lianluo.tenants.schemas import InputModel

SKILL_NAME_PATTERN = r"^[\w.-]{1,100}$"
MIN_LEVEL, MAX_LEVEL = 1, 10
MAX_RELAXATION_STEPS = 20
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")

SkillName = Annotated[str, StringConstraints(pattern=SKILL_NAME_PATTERN)]
SkillLevel = Annotated[int, Field(ge=MIN_LEVEL, le=MAX_LEVEL)]


class Channel(StrEnum):
    voice = "voice"
    chat = "chat"
    email = "email"
    sms = "sms"
    wechat = "wechat"
    social = "social"


class SelectionPolicy(StrEnum):
    longest_idle = "longest_idle"
    best_proficiency = "best_proficiency"
    least_loaded = "least_loaded"


class RelaxationAction(StrEnum):
    lower_levels = "lower_levels"
    drop_attributes = "drop_attributes"
    overflow = "overflow"


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return None if value is None else value.strip()


# ---- skills -----------------------------------------------------------------------------------


class SkillIn(InputModel):
    name: str = Field(
        pattern=SKILL_NAME_PATTERN, description="letters (中文 too), digits, _ . -; unique"
    )
    description: str = Field("", max_length=500)


class SkillUpdate(InputModel):
    name: str | None = Field(
        None, pattern=SKILL_NAME_PATTERN, description="renaming updates the queues that need it"
    )
    description: str | None = Field(None, max_length=500)


class SkillOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


# ---- queues -----------------------------------------------------------------------------------


class RelaxationStepIn(InputModel):
    """Once a contact has waited `after_s`: lower the required levels `by`, drop the attribute
    expression, or let agents of `to_queue` take it as well."""

    after_s: int = Field(gt=0, le=86_400)
    action: RelaxationAction
    by: int | None = Field(None, ge=1, le=MAX_LEVEL - MIN_LEVEL, description="lower_levels only")
    to_queue: str | None = Field(None, max_length=32, description="overflow only: a queue id")

    @model_validator(mode="after")
    def _fits_action(self) -> RelaxationStepIn:
        if self.action == RelaxationAction.lower_levels:
            if self.by is None:
                raise ValueError("lower_levels needs `by`, how many levels to lower")
            if self.to_queue is not None:
                raise ValueError("to_queue belongs to overflow steps only")
        elif self.action == RelaxationAction.overflow:
            if not self.to_queue:
                raise ValueError("overflow needs `to_queue`, the id of the queue to overflow to")
            if self.by is not None:
                raise ValueError("by belongs to lower_levels steps only")
        elif self.by is not None or self.to_queue is not None:
            raise ValueError("drop_attributes takes neither `by` nor `to_queue`")
        return self


def _check_relaxation(steps: list[RelaxationStepIn] | None) -> list[RelaxationStepIn] | None:
    if steps is None:
        return None
    for i in range(1, len(steps)):
        if steps[i].after_s <= steps[i - 1].after_s:
            raise ValueError(
                f"after_s must increase from step to step: step {i} has {steps[i].after_s} s "
                f"after step {i - 1}'s {steps[i - 1].after_s} s"
            )
    return steps


def _check_hours(hours: dict[str, Any] | None) -> dict[str, Any] | None:
    """{"mon": [["08:00", "20:00"]], ...}; a day left out is closed; empty means always open."""
    if hours is None:
        return None
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown day {day!r}; days are {', '.join(WEEKDAYS)}")
        if not isinstance(spans, list):
            raise ValueError(f"{day}: a list of [start, end] pairs, e.g. [['08:00', '20:00']]")
        for span in spans:
            if (
                not isinstance(span, list)
                or len(span) != 2
                or not all(isinstance(t, str) and _HHMM.match(t) for t in span)
            ):
                raise ValueError(f"{day}: {span!r} is not a ['HH:MM', 'HH:MM'] pair")
            if span[0] >= span[1]:
                raise ValueError(f"{day}: {span[0]}-{span[1]} ends before it starts")
    return hours


def _check_channels(channels: list[Channel] | None) -> list[Channel] | None:
    if channels is None:
        return None
    if len(set(channels)) != len(channels):
        raise ValueError("channels are listed twice")
    return channels


class _QueueFields(InputModel):
    check_relaxation = field_validator("relaxation", check_fields=False)(_check_relaxation)
    check_hours = field_validator("business_hours", check_fields=False)(_check_hours)
    check_channels = field_validator("channels", check_fields=False)(_check_channels)
    check_name = field_validator("name", check_fields=False)(_not_blank)


class QueueIn(_QueueFields):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=500)
    partner_id: str | None = Field(None, max_length=32, description="the partner serving it")
    channels: list[Channel] = Field(min_length=1, max_length=len(Channel))
    priority: int = Field(0, ge=-1000, le=1000)
    required_skills: dict[SkillName, SkillLevel] = Field(
        default_factory=dict, max_length=50, description="skill name -> minimum level 1-10"
    )
    attribute_expr: str = Field(
        "", max_length=4000, description='e.g. language in ["zh", "yue"] and region == "GD"'
    )
    selection_policy: SelectionPolicy = SelectionPolicy.longest_idle
    ageing_per_min: float = Field(1.0, ge=0, le=1000, description="priority gained per minute")
    sl_target_s: int = Field(20, gt=0, le=86_400, description="answered within this many s")
    sl_target_ratio: float = Field(0.8, gt=0, le=1, description="share to answer in time")
    short_abandon_s: int = Field(5, ge=0, le=3600)
    offer_timeout_s: int = Field(20, gt=0, le=600)
    wrap_up_s: int = Field(30, ge=0, le=3600)
    relaxation: list[RelaxationStepIn] = Field(
        default_factory=list, max_length=MAX_RELAXATION_STEPS
    )
    business_hours: dict[str, Any] = Field(default_factory=dict)
    callback_enabled: bool = True
    is_active: bool = True


class QueueUpdate(_QueueFields):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)
    partner_id: str | None = Field(None, max_length=32, description="null: the tenant's own")
    channels: list[Channel] | None = Field(None, min_length=1, max_length=len(Channel))
    priority: int | None = Field(None, ge=-1000, le=1000)
    required_skills: dict[SkillName, SkillLevel] | None = Field(None, max_length=50)
    attribute_expr: str | None = Field(None, max_length=4000)
    selection_policy: SelectionPolicy | None = None
    ageing_per_min: float | None = Field(None, ge=0, le=1000)
    sl_target_s: int | None = Field(None, gt=0, le=86_400)
    sl_target_ratio: float | None = Field(None, gt=0, le=1)
    short_abandon_s: int | None = Field(None, ge=0, le=3600)
    offer_timeout_s: int | None = Field(None, gt=0, le=600)
    wrap_up_s: int | None = Field(None, ge=0, le=3600)
    relaxation: list[RelaxationStepIn] | None = Field(None, max_length=MAX_RELAXATION_STEPS)
    business_hours: dict[str, Any] | None = None
    callback_enabled: bool | None = None
    is_active: bool | None = None


class RelaxationStepOut(BaseModel):
    after_s: int
    action: str
    by: int | None = None
    to_queue: str | None = None


class QueueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    partner_id: str | None
    channels: list[str]
    priority: int
    required_skills: dict[str, int]
    attribute_expr: str
    selection_policy: str
    ageing_per_min: float
    sl_target_s: int
    sl_target_ratio: float
    short_abandon_s: int
    offer_timeout_s: int
    wrap_up_s: int
    relaxation: list[RelaxationStepOut]
    business_hours: dict[str, Any]
    callback_enabled: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime
