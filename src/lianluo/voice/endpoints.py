"""The voice channel's API for the agent desk: its calls. The controls (hold, transfer …)
are frames of /ws/desk (channels/chat/endpoints.py), carried out by the SIP worker."""

from __future__ import annotations

from fastapi import APIRouter

from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.paging import Page
from lianluo.voice.schemas import DeskCallOut
from lianluo.voice.service import voice_desk_service

router = APIRouter(prefix="/api/v1/voice", tags=["voice"])


@router.get("/desk", response_model=Page[DeskCallOut])
def desk_calls(principal: CurrentPrincipal, session: DbSession) -> Page[DeskCallOut]:
    """The caller's voice calls: ringing, connected (with hold and consultation) or in
    wrap-up. Bounded by the agent's voice capacity, so one page holds them all."""
    items = [DeskCallOut(**call) for call in voice_desk_service.calls(session, principal)]
    return Page(items=items, total=len(items), page=1, page_size=max(1, len(items)))
