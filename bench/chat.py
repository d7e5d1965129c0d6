"""Chat round trips: N customers on WebSockets, agents answering each message.

Seeds a fresh SQLite database (a tenant, a chat queue, agents with enough chat capacity for
everyone), starts `lianluo serve` (one process: the chat hub is in-process) and, from this
process, opens N customer chats through the widget's API (/api/v1/chat/sessions), has the
agents accept them and join on /ws/desk, then opens the N customer sockets (/ws/chat). Under
load (customers send `--rate` messages per second in total, at random), each agent socket
answers every customer message at once. Load starts once every customer socket is open and
every agent has joined all its chats. Measured per message:

- round trip: the customer sends, the server stores and acknowledges it and pushes it to the
  agent, the agent's answer is stored and pushed back; from send to the answer's arrival;
- ack: from send to the customer's acknowledgement (the message is stored);
- baseline, the same run and sockets: a ping frame's round trip (socket + server loop floor);
- CPU seconds of the server process and of this (client) process over the load window.

Ends with `chat_p99: X ms` (the round trip). Goal of issue #4: 2,000 chats, p99 < 100 ms.

    python bench/chat.py [--quick] [--chats 2000] [--agents 40] [--rate 100] [--duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop
from websockets.asyncio.client import connect

from lianluo.auth.passwords import hash_password
from lianluo.db import migrate
from lianluo.db.engine import make_engine, make_sessionmaker
from lianluo.models import Agent, Queue, Tenant, User

PASSWORD = "bench chat password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(url: str, agents: int, capacity: int) -> tuple[str, str]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        tenant = Tenant(slug="bench-chat", name="Bench chat")
        session.add(tenant)
        session.flush()
        queue = Queue(tenant_id=tenant.id, name="chat", channels=["chat"], offer_timeout_s=600)
        session.add(queue)
        password = hash_password(PASSWORD)
        for k in range(agents):
            user = User(
                tenant_id=tenant.id,
                username=f"agent{k}",
                display_name=f"Agent {k}",
                password_hash=password,
                roles=["agent"],
            )
            session.add(user)
            session.flush()
            session.add(Agent(tenant_id=tenant.id, user_id=user.id, capacity={"chat": capacity}))
        session.commit()
        ids = (tenant.slug, queue.id)
    engine.dispose()
    return ids


def start_server(url: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LIANLUO_DATABASE_URL": url,
        "LIANLUO_SECRET_KEY": "bench-" + "k" * 40,
        "LIANLUO_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "lianluo.cli.main", "serve", "--port", str(port)]
    command += ["--workers", "1", "--no-upgrade"]
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited: {(workdir / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(process)
    sys.exit("server did not answer /healthz within 60 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(p / 100 * len(ordered))) - 1)]


async def gather_limited(limit: int, coros: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def run(
    args: argparse.Namespace, base: str, slug: str, queue_id: str, server_pid: int
) -> dict[str, Any]:
    ws_base = base.replace("http", "ws")
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        tokens = []
        for k in range(args.agents):
            r = await http.post(
                "/api/v1/auth/login", json={"username": f"agent{k}", "password": PASSWORD}
            )
            r.raise_for_status()
            tokens.append(r.json()["access_token"])
        for token in tokens:
            r = await http.post(
                "/api/v1/routing/me/state",
                json={"state": "available"},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()

        async def start(k: int) -> dict[str, Any]:
            r = await http.post(
                "/api/v1/chat/sessions",
                json={
                    "tenant": slug,
                    "queue_id": queue_id,
                    "name": f"Customer {k}",
                    "email": f"c{k}@bench.example.com",
                },
            )
            r.raise_for_status()
            return r.json()

        t0 = time.perf_counter()
        chats = await gather_limited(8, [start(k) for k in range(args.chats)])
        setup_s = time.perf_counter() - t0
        conversations_of: list[list[str]] = []
        for token in tokens:
            headers = {"Authorization": f"Bearer {token}"}
            desk = (await http.get("/api/v1/chat/desk", headers=headers)).json()["items"]
            mine = []
            for item in desk:
                if item["state"] == "offered":
                    r = await http.post(
                        f"/api/v1/contacts/{item['contact_id']}/accept", headers=headers
                    )
                    r.raise_for_status()
                mine.append(item["conversation_id"])
            conversations_of.append(mine)
    accepted = sum(len(m) for m in conversations_of)
    if accepted != args.chats:
        sys.exit(f"only {accepted} of {args.chats} chats reached an agent")

    sent_at: dict[str, float] = {}
    round_trips: list[float] = []
    acks: list[float] = []
    pings: list[float] = []
    stop = asyncio.Event()
    joined = [0]

    async def agent(token: str, conversations: list[str]) -> None:
        async with connect(
            f"{ws_base}/ws/desk?token={token}", max_queue=None, open_timeout=60
        ) as ws:
            await ws.recv()  # hello
            for conversation_id in conversations:
                await ws.send(json.dumps({"type": "join", "conversation_id": conversation_id}))
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "joined":
                    joined[0] += 1
                elif frame.get("type") == "message" and frame.get("sender") == "customer":
                    await ws.send(
                        json.dumps(
                            {
                                "type": "message",
                                "conversation_id": frame["conversation_id"],
                                "client_msg_id": "re-" + frame["client_msg_id"],
                                "body": "收到",
                            }
                        )
                    )

    customers: list[Any] = []

    opening = asyncio.Semaphore(32)

    async def customer(chat: dict[str, Any]) -> None:
        async with opening:
            ws = await connect(
                f"{ws_base}/ws/chat?token={chat['token']}", max_queue=None, open_timeout=60
            )
            await ws.recv()  # hello
            await ws.recv()  # status
        customers.append(ws)
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            now = time.perf_counter()
            if kind == "ack" and not frame.get("duplicate"):
                began = sent_at.get(frame["client_msg_id"])
                if began is not None:
                    acks.append(now - began)
            elif kind == "message" and frame.get("sender") == "agent":
                began = sent_at.pop(frame["client_msg_id"].removeprefix("re-"), None)
                if began is not None and not stop.is_set():
                    round_trips.append(now - began)
            elif kind == "pong":
                began = sent_at.pop(f"ping-{id(ws)}", None)
                if began is not None:
                    pings.append(now - began)

    agent_tasks = [
        asyncio.create_task(agent(t, c)) for t, c in zip(tokens, conversations_of, strict=True)
    ]
    customer_tasks = [asyncio.create_task(customer(c)) for c in chats]
    deadline = time.monotonic() + 600
    while (len(customers) < len(chats) or joined[0] < accepted) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    if joined[0] < accepted:
        sys.exit(f"only {joined[0]} of {accepted} joins were answered")
    await asyncio.sleep(1.0)  # the last hellos and status frames settle

    sent = 0
    rng = random.Random(4)
    server_cpu0, client_cpu0 = cpu_s(server_pid), time.process_time()
    begin = time.perf_counter()
    end = begin + args.duration
    interval = 1.0 / args.rate
    next_at = begin
    while time.perf_counter() < end:
        ws = rng.choice(customers)
        if rng.random() < 0.1:  # the baseline, on the same sockets
            sent_at[f"ping-{id(ws)}"] = time.perf_counter()
            await ws.send(json.dumps({"type": "ping"}))
        else:
            sent += 1
            client_msg_id = f"m{sent}"
            sent_at[client_msg_id] = time.perf_counter()
            await ws.send(
                json.dumps({"type": "message", "client_msg_id": client_msg_id, "body": "你好"})
            )
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.sleep(3.0)  # the last answers arrive
    stop.set()
    server_cpu = cpu_s(server_pid) - server_cpu0
    client_cpu = time.process_time() - client_cpu0
    for task in agent_tasks + customer_tasks:
        task.cancel()
    for ws in customers:
        await ws.close()
    await asyncio.gather(*agent_tasks, *customer_tasks, return_exceptions=True)
    return {
        "setup_s": setup_s,
        "sent": sent,
        "answered": len(round_trips),
        "round_trips": round_trips,
        "acks": acks,
        "pings": pings,
        "elapsed_s": args.duration,
        "server_cpu_s": server_cpu,
        "client_cpu_s": client_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 chats for 3 s (CI)")
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--rate", type=float, default=100.0, help="customer messages per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    args = parser.parse_args()
    if args.quick:
        args.chats, args.agents, args.rate, args.duration = 20, 2, 20.0, 3.0
    capacity = math.ceil(args.chats / args.agents)
    workdir = Path(tempfile.mkdtemp(prefix="lianluo-bench-chat-"))
    url = f"sqlite:///{workdir / 'lianluo.db'}"
    migrate.upgrade(url)
    slug, queue_id = seed(url, args.agents, capacity)
    port = free_port()
    server = start_server(url, port, workdir)
    try:
        result = uvloop.run(run(args, f"http://127.0.0.1:{port}", slug, queue_id, server.pid))
    finally:
        stop_server(server)
    ms = 1000.0
    rt, ack, ping = result["round_trips"], result["acks"], result["pings"]
    print(
        f"chats: {args.chats} on {args.agents} agents, {args.rate:g} msg/s for "
        f"{args.duration:g} s (SQLite, one server process); setup {result['setup_s']:.1f} s"
    )
    print(f"sent {result['sent']}, answered {result['answered']}")
    window_s = args.duration + 3.0
    print(
        f"CPU over the {window_s:g} s load window: server {result['server_cpu_s']:.1f} s "
        f"({result['server_cpu_s'] / window_s:.0%}), client {result['client_cpu_s']:.1f} s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'':24}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, values in (("round trip", rt), ("ack (stored)", ack), ("ping (baseline)", ping)):
        print(
            f"{name:24}{pct(values, 50) * ms:10.1f}{pct(values, 99) * ms:10.1f}"
            f"{(max(values) if values else math.nan) * ms:10.1f}"
        )
    if rt and ping:
        print(f"round trip p50 / ping p50: {statistics.median(rt) / statistics.median(ping):.1f}x")
    print(f"chat_p99: {pct(rt, 99) * ms:.1f} ms")


if __name__ == "__main__":
    main()
