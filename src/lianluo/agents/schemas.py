from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from lianluo.queues.schemas import Channel, SkillLevel
from lianluo.tenants.schemas import InputModel

Capacity = Annotated[int, Field(ge=0, le=100)]


class CareerLevel(StrEnum):
    """The career ladder of DESIGN.md (培训考试, 人事管理)."""

    new = "new"
    qualified = "qualified"
    excellent = "excellent"
    supervisor = "supervisor"
    trainer = "trainer"
    manager = "manager"


class AgentSkillIn(InputModel):
    skill: str = Field(min_length=1, max_length=100, description="skill name or id")
    level: SkillLevel = Field(description="proficiency 1-10")


def _no_duplicates(skills: list[AgentSkillIn] | None) -> list[AgentSkillIn] | None:
    if skills is not None:
        seen: set[str] = set()
        for item in skills:
            if item.skill in seen:
                raise ValueError(f"skill {item.skill!r} is listed twice")
            seen.add(item.skill)
    return skills


class AgentIn(InputModel):
    user_id: str = Field(min_length=1, max_length=32, description="the agent's user account")
    skills: list[AgentSkillIn] = Field(default_factory=list, max_length=100)
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        max_length=50,
        description='matched by queue attribute expressions, e.g. {"languages": ["zh", "en"]}',
    )
    capacity: dict[Channel, Capacity] = Field(
        default_factory=dict, description='contacts at once per channel, e.g. {"voice": 1}'
    )
    team: str = Field("", max_length=100)
    career_level: CareerLevel = CareerLevel.qualified

    check_skills = field_validator("skills")(_no_duplicates)


class AgentUpdate(InputModel):
    skills: list[AgentSkillIn] | None = Field(
        None, max_length=100, description="replaces the whole list"
    )
    attributes: dict[str, Any] | None = Field(None, max_length=50, description="replaces all")
    capacity: dict[Channel, Capacity] | None = None
    team: str | None = Field(None, max_length=100)
    career_level: CareerLevel | None = None

    check_skills = field_validator("skills")(_no_duplicates)


class AgentSkillOut(BaseModel):
    skill_id: str
    name: str
    level: int


class AgentOut(BaseModel):
    id: str
    user_id: str
    username: str
    display_name: str
    partner_id: str | None
    team: str
    career_level: str
    attributes: dict[str, Any]
    capacity: dict[str, int]
    skills: list[AgentSkillOut]
    state: str = Field(description="changed by the routing runtime, never by this API")
    state_reason: str
    state_since: datetime
    created_at: datetime
    updated_at: datetime
