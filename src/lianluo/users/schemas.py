from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lianluo.auth.passwords import MIN_PASSWORD_LENGTH
from lianluo.models.user import Role
from lianluo.tenants.schemas import InputModel

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,119}$"
MAX_PASSWORD_LENGTH = 256
LOCALE_PATTERN = "^(zh-CN|en-US)$"


def _unique_roles(roles: list[Role]) -> list[Role]:
    return sorted(set(roles))


def _display_name(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise ValueError("display_name must not be blank")
    return value.strip()


class UserIn(InputModel):
    username: str = Field(
        pattern=USERNAME_PATTERN, description="login name, unique across all tenants"
    )
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    display_name: str | None = Field(None, max_length=200, description="defaults to username")
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    partner_id: str | None = Field(
        None, max_length=32, description="makes a partner user; partner admins get their own"
    )
    locale: str = Field("zh-CN", pattern=LOCALE_PATTERN)

    check_roles = field_validator("roles")(_unique_roles)
    check_display_name = field_validator("display_name")(_display_name)


class UserUpdate(InputModel):
    display_name: str | None = Field(None, max_length=200)
    roles: list[Role] | None = Field(None, min_length=1, max_length=len(Role))
    partner_id: str | None = Field(
        None, max_length=32, description="tenant admins only; null makes a tenant user"
    )
    locale: str | None = Field(None, pattern=LOCALE_PATTERN)
    is_active: bool | None = Field(None, description="disabling voids the user's tokens")

    @field_validator("roles")
    @classmethod
    def check_roles(cls, roles: list[Role] | None) -> list[Role] | None:
        return None if roles is None else _unique_roles(roles)

    check_display_name = field_validator("display_name")(_display_name)


class PasswordChange(InputModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    current_password: str | None = Field(
        None, max_length=MAX_PASSWORD_LENGTH, description="required when changing your own"
    )


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    roles: list[str]
    partner_id: str | None
    locale: str
    is_active: bool
    is_superuser: bool
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
