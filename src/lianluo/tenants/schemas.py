from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


class TenantSettings(BaseModel):
    """Per-tenant settings. New keys are added here, so each one is validated."""

    model_config = ConfigDict(extra="forbid")

    repeat_complaint_days: int | None = Field(
        None, ge=1, le=365, description="a complaint within this many days of another repeats it"
    )
    fcr_window_days: int | None = Field(
        None, ge=1, le=90, description="days without a repeat contact that count as resolved"
    )
    default_locale: str | None = Field(None, pattern="^(zh-CN|en-US)$")


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, description="short unique name, e.g. 10086-gd")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field("Asia/Shanghai", max_length=64, description="IANA time zone")
    settings: TenantSettings = Field(default_factory=lambda: TenantSettings.model_validate({}))

    check_name = field_validator("name")(_not_blank)
    check_tz = field_validator("timezone")(check_timezone)


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    timezone: str | None = Field(None, max_length=64, description="IANA time zone")
    settings: TenantSettings | None = Field(
        None, description="keys given replace those stored; a null value removes the key"
    )
    is_active: bool | None = Field(None, description="superusers only")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _not_blank(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    timezone: str
    is_active: bool
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN, description="unique within the tenant")
    name: str = Field(min_length=1, max_length=200)

    check_name = field_validator("name")(_not_blank)


class PartnerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(None, pattern=CODE_PATTERN)
    name: str | None = Field(None, min_length=1, max_length=200)
    is_active: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _not_blank(value)


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
