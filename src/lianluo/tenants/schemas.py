from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


# PostgreSQL text and JSONB cannot hold NUL characters: refuse them at the edge, as a 422,
# instead of letting the database fail the request.
NO_NUL = r"^[^\x00]*$"
IdPath = Annotated[str, Path(max_length=64, pattern=NO_NUL, description="an id")]


def reject_nul(value: Any, where: str = "") -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where or 'text'} contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key, f"{where}.{key}" if where else str(key))
            reject_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            reject_nul(item, f"{where}.{i}" if where else str(i))


class InputModel(BaseModel):
    """Base of every request body of the admin API: unknown fields and NUL characters are
    refused with a 422 that names the field."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        reject_nul(data)
        return data


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


class TenantSettings(InputModel):
    """Per-tenant settings. New keys are added here, so each one is validated."""

    repeat_complaint_days: int | None = Field(
        None, ge=1, le=365, description="a complaint within this many days of another repeats it"
    )
    fcr_window_days: int | None = Field(
        None, ge=1, le=90, description="days without a repeat contact that count as resolved"
    )
    default_locale: str | None = Field(None, pattern="^(zh-CN|en-US)$")


class TenantIn(InputModel):
    slug: str = Field(pattern=SLUG_PATTERN, description="short unique name, e.g. 10086-gd")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field("Asia/Shanghai", max_length=64, description="IANA time zone")
    settings: TenantSettings = Field(default_factory=lambda: TenantSettings.model_validate({}))

    check_name = field_validator("name")(_not_blank)
    check_tz = field_validator("timezone")(check_timezone)


class TenantUpdate(InputModel):
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


class PartnerIn(InputModel):
    code: str = Field(pattern=CODE_PATTERN, description="unique within the tenant")
    name: str = Field(min_length=1, max_length=200)

    check_name = field_validator("name")(_not_blank)


class PartnerUpdate(InputModel):
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
