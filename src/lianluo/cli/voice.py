"""`lianluo voice`: run a SIP voice worker; give agents their SIP phones."""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="Voice channel: SIP worker and agent phones.", no_args_is_help=True)
console = Console()


def _context(tenant: str, username: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from lianluo.auth.principal import Principal
    from lianluo.config import get_settings
    from lianluo.db.engine import make_engine, make_sessionmaker
    from lianluo.events.service import BUS_KEY, install_publisher
    from lianluo.models import Tenant, User
    from lianluo.runtime.bus import EventBus
    from lianluo.runtime.router import RoutingRuntime
    from lianluo.voice.service import VoiceService

    settings = get_settings()
    sessions = make_sessionmaker(make_engine(settings.database_url))
    # the worker's own routing (a caller queued, an agent answering) is published here after
    # commit, so waiting calls wake at once instead of polling; with Redis or NATS configured
    # it also reaches the web processes (the desk's screen pop) and their desk controls (hold,
    # answer, transfer) reach this worker the same way
    bus = EventBus(redis_url=settings.redis_url, nats_url=settings.nats_url)
    sessions.configure(info={BUS_KEY: bus})
    install_publisher(sessions)
    with sessions() as session:
        row = session.execute(
            select(Tenant, User)
            .join(User, User.tenant_id == Tenant.id)
            .where(Tenant.slug == tenant, User.username == username)
        ).one_or_none()
        if row is None:
            raise typer.BadParameter(f"no user {username!r} in tenant {tenant!r}")
        tenant_row, user = row
        principal = Principal(
            user.id, tenant_row.id, user.partner_id, frozenset(user.roles), username=username
        )
    return sessions, VoiceService(sessions, RoutingRuntime(sessions)), principal, bus


@app.command("serve")
def serve(
    tenant: str = typer.Option(..., help="tenant slug this worker answers for"),
    user: str = typer.Option(..., help="the service user the worker acts as (role agent/admin)"),
    host: str = typer.Option("127.0.0.1", help="address for SIP and RTP"),
    port: int = typer.Option(5070, help="SIP port (UDP and TCP)"),
    flows: Path = typer.Option(None, help="directory of flow YAML files and numbers.yaml"),
    recordings: Path = typer.Option(Path("recordings"), help="where call recordings go"),
    prompts: Path = typer.Option(Path("prompt-cache"), help="synthesised prompts cache"),
    agent_proxy: str = typer.Option("", help="host:port of the proxy agents register at"),
    realtime_priority: int = typer.Option(
        0,
        help="run the media loop under SCHED_FIFO at this priority (1-99; 0 = off), so "
        "other processes on the machine cannot delay the 20 ms clock",
    ),
) -> None:
    """Answer calls: numbers → flows → queues → agents' phones."""
    from lianluo.channels.voice.app import (
        FLOWS_DIR,
        DbVoicePlatform,
        NumberMap,
        VoiceApp,
        load_flows,
    )
    from lianluo.channels.voice.prompts import PromptCache
    from lianluo.channels.voice.server import (
        install_uvloop,
        normal_priority,
        tune_gc,
    )
    from lianluo.channels.voice.server import (
        realtime_priority as set_realtime_priority,
    )

    directory = flows or FLOWS_DIR
    _, service, principal, bus = _context(tenant, user)
    proxy = None
    if agent_proxy:
        proxy_host, _, proxy_port = agent_proxy.rpartition(":")
        proxy = (proxy_host, int(proxy_port))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(initializer=normal_priority))
        rt_line = set_realtime_priority(realtime_priority)
        platform = DbVoicePlatform(service, principal)
        await platform.refresh_phones()
        voice = VoiceApp(
            platform, load_flows(directory), NumberMap.load(directory / "numbers.yaml"),
            PromptCache(prompts), recordings, host=host, agent_proxy=proxy,
        )  # fmt: skip
        bus.subscribe(voice.on_event)
        await voice.start(port)
        tune_gc()  # after the prompts are synthesised and cached
        console.print(
            f"voice worker on udp+tcp:{host}:{voice.endpoint.port} (uvloop: {uvloop}, "
            f"media clock: {voice.endpoint.clock.timer}; {rt_line})"
        )
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 30)
            except TimeoutError:
                await platform.refresh_phones()  # new or changed phones
        await voice.close()
        platform.close()

    uvloop = install_uvloop()
    try:
        asyncio.run(run())
    finally:
        bus.close()


@app.command("phone")
def phone(
    tenant: str = typer.Option(...),
    agent_user: str = typer.Option(..., help="username of the agent"),
    sip_user: str = typer.Option(..., help="the SIP user the phone registers as"),
    password: str = typer.Option(..., prompt=True, hide_input=True),
    realm: str = typer.Option("lianluo"),
) -> None:
    """Give an agent a SIP phone (only the digest HA1 is stored)."""
    from sqlalchemy import select

    from lianluo.models import Agent

    sessions, service, principal, _ = _context(tenant, agent_user)
    with sessions() as session:
        agent = session.execute(
            select(Agent).where(
                Agent.tenant_id == principal.tenant_id, Agent.user_id == principal.user_id
            )
        ).scalar_one_or_none()
        if agent is None:
            raise typer.BadParameter(f"{agent_user!r} has no agent profile")
        agent_id = agent.id
    service.set_phone(principal.tenant_id, agent_id, sip_user, realm, password)
    console.print(f"phone {sip_user}@{realm} set for {agent_user}")
