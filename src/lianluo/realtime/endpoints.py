"""The wallboard's snapshot (GET) and its pushed stream (WebSocket /ws/wall)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from lianluo.auth.principal import Principal
from lianluo.deps import Context, CurrentPrincipal, get_principal
from lianluo.errors import AppError
from lianluo.realtime.schemas import WallOut
from lianluo.realtime.service import WALL_READERS, realtime_of

router = APIRouter(prefix="/api/v1/realtime", tags=["realtime"])
socket_router = APIRouter()

HEARTBEAT_S = 10.0  # a fresh snapshot at least this often (longest waits grow)
DEBOUNCE_S = 0.15  # a burst of events makes one push


@router.get("/wall", response_model=WallOut)
def wall(principal: CurrentPrincipal, ctx: Context) -> dict[str, Any]:
    """Per queue: waiting now, longest wait, today's offered / answered / abandoned, service
    level against the queue's target, ASA and AHT (domain/kpi definitions), 15-minute series
    of the last hours; agents by state and each agent's current work and time in state.
    The same document is pushed over the WebSocket /ws/wall whenever it changes."""
    return realtime_of(ctx).snapshot(principal)


def _authenticate(websocket: WebSocket) -> Principal:
    ctx = websocket.app.state.ctx
    with ctx.sessions() as session:
        # a WebSocket carries headers and cookies like a request: bearer token or session cookie
        principal = get_principal(websocket, session, ctx)  # type: ignore[arg-type]
    principal.require(WALL_READERS, "reading the wallboard")
    return principal


@socket_router.websocket("/ws/wall")
async def wall_socket(websocket: WebSocket) -> None:
    """Pushes {"type": "snapshot", "data": <GET /api/v1/realtime/wall>} on connect, after
    every change (events of the caller's tenant) and every HEARTBEAT_S. Authenticated by the
    session cookie or an Authorization header; closes with 1008 otherwise."""
    try:
        principal = await asyncio.to_thread(_authenticate, websocket)
    except AppError:
        await websocket.close(code=1008)
        return
    service = realtime_of(websocket.app.state.ctx)
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def on_change(tenant_id: str) -> None:
        if tenant_id == principal.tenant_id:
            loop.call_soon_threadsafe(changed.set)

    stop_listening = service.listen(on_change)
    await websocket.accept()
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        while not closed.done():
            changed.clear()
            data = await asyncio.to_thread(service.snapshot, principal)
            await websocket.send_json({"type": "snapshot", "data": data})
            waiter = asyncio.create_task(changed.wait())
            await asyncio.wait(
                {closed, waiter}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
            )
            waiter.cancel()
            if not closed.done():
                await asyncio.sleep(DEBOUNCE_S)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away mid-send
    finally:
        stop_listening()
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await closed


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
