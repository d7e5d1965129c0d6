from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.paging import Page, PageParams, page_params
from lianluo.queues.schemas import (
    Channel,
    QueueIn,
    QueueOut,
    QueueUpdate,
    SkillIn,
    SkillOut,
    SkillUpdate,
)
from lianluo.queues.service import queue_service, skill_service
from lianluo.tenants.schemas import NO_NUL, IdPath

router = APIRouter(prefix="/api/v1")

Paging = Annotated[PageParams, Depends(page_params)]


@router.get("/skills", response_model=Page[SkillOut], tags=["skills"], summary="List skills")
def list_skills(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Paging,
    q: str | None = Query(None, pattern=NO_NUL, max_length=100, description="part of the name"),
) -> Page[SkillOut]:
    rows, total = skill_service.list(session, principal, q, paging.offset, paging.page_size)
    return Page(
        items=[SkillOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/skills",
    response_model=SkillOut,
    status_code=status.HTTP_201_CREATED,
    tags=["skills"],
    summary="Create a skill (技能组)",
)
def create_skill(body: SkillIn, principal: CurrentPrincipal, session: DbSession) -> SkillOut:
    """Names are unique within the tenant (409)."""
    return SkillOut.model_validate(skill_service.create(session, principal, body))


@router.get("/skills/{skill_id}", response_model=SkillOut, tags=["skills"], summary="Read a skill")
def get_skill(skill_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> SkillOut:
    return SkillOut.model_validate(skill_service.get(session, principal, skill_id))


@router.patch(
    "/skills/{skill_id}", response_model=SkillOut, tags=["skills"], summary="Rename or describe"
)
def update_skill(
    skill_id: IdPath, body: SkillUpdate, principal: CurrentPrincipal, session: DbSession
) -> SkillOut:
    """A rename is carried into the required_skills of every queue that names the skill."""
    return SkillOut.model_validate(skill_service.update(session, principal, skill_id, body))


@router.delete(
    "/skills/{skill_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["skills"],
    summary="Delete an unused skill",
)
def delete_skill(skill_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    """409 while agents hold it or queues require it."""
    skill_service.delete(session, principal, skill_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/queues", response_model=Page[QueueOut], tags=["queues"], summary="List queues")
def list_queues(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Paging,
    q: str | None = Query(None, pattern=NO_NUL, max_length=100, description="part of the name"),
    channel: Channel | None = Query(None, description="only queues taking this channel"),
    is_active: bool | None = Query(None),
) -> Page[QueueOut]:
    """Partner users see only the queues their partner serves."""
    rows, total = queue_service.list(
        session,
        principal,
        q,
        channel.value if channel else None,
        is_active,
        paging.offset,
        paging.page_size,
    )
    return Page(
        items=[QueueOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/queues",
    response_model=QueueOut,
    status_code=status.HTTP_201_CREATED,
    tags=["queues"],
    summary="Create a queue",
)
def create_queue(body: QueueIn, principal: CurrentPrincipal, session: DbSession) -> QueueOut:
    """required_skills must name existing skills; overflow targets and partner_id must exist in
    the tenant; attribute_expr must parse (a 422 gives the position of the fault)."""
    return QueueOut.model_validate(queue_service.create(session, principal, body))


@router.get("/queues/{queue_id}", response_model=QueueOut, tags=["queues"], summary="Read a queue")
def get_queue(queue_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> QueueOut:
    return QueueOut.model_validate(queue_service.get(session, principal, queue_id))


@router.patch(
    "/queues/{queue_id}", response_model=QueueOut, tags=["queues"], summary="Change a queue"
)
def update_queue(
    queue_id: IdPath, body: QueueUpdate, principal: CurrentPrincipal, session: DbSession
) -> QueueOut:
    """Only the fields sent change; they are validated as on creation."""
    return QueueOut.model_validate(queue_service.update(session, principal, queue_id, body))


@router.delete(
    "/queues/{queue_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["queues"],
    summary="Delete a queue that never held a contact",
)
def delete_queue(queue_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    """409 when contacts passed through it or another queue overflows into it: deactivate it
    (is_active=false) instead."""
    queue_service.delete(session, principal, queue_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
