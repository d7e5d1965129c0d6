"""API throughput: customers created per second and customer-360 views served per second.

Seeds a fresh database (PostgreSQL `lianluo_bench_<pid>`: 100,000 customers, ~200,000
conversations and contacts, 1,000,000 messages; `--quick`: 1,000 customers and 10,000 messages,
on SQLite when PostgreSQL is unreachable), starts `lianluo serve` as a subprocess, logs in and
drives HTTP load from a separate process (wrk when installed, else an asyncio httpx client).

Baseline, measured in the same run: GET /healthz, the framework's floor; the ratio says what a
360 view costs on top of it. The 360 view is measured after `--warmup` seconds of unmeasured
views (a serving database is warm). Prints a table and ends with `api_360_view: N req/s`.

    python bench/api.py [--quick] [--duration 20] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed_bulk import BENCH_ADMIN, SeedResult, seed_bulk  # noqa: E402
from lianluo.db import migrate  # noqa: E402
from lianluo.db.engine import make_engine  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "LIANLUO_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
GOAL_360_RPS = 500


@dataclass
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    tool: str
    server_cpu_ms: float = float("nan")  # CPU of the server's processes per ok request
    db_cpu_ms: float = float("nan")  # CPU of PostgreSQL's processes per ok request

    @property
    def ok_per_s(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


# -- database ---------------------------------------------------------------------------------


def pg_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def create_database(quick: bool, workdir: Path) -> tuple[str, str | None]:
    """(url, name of the PostgreSQL database to drop at the end, or None for SQLite)."""
    if pg_reachable():
        name = f"lianluo_bench_{os.getpid()}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name
    if not quick:
        sys.exit(f"PostgreSQL at {PG_ADMIN_URL} is unreachable; the full run needs it")
    print("PostgreSQL unreachable: --quick runs on SQLite")
    return f"sqlite:///{workdir / 'bench.db'}", None


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# -- server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LIANLUO_DATABASE_URL": url,
        "LIANLUO_SECRET_KEY": "bench-" + "k" * 40,
        "LIANLUO_LOG_LEVEL": "warning",
        "LIANLUO_DATABASE_POOL_SIZE": "20",
    }
    command = [
        sys.executable,
        "-m",
        "lianluo.cli.main",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-upgrade",
    ]
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 180  # a loaded 2-core machine starts slowly
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
    sys.exit("server did not answer /healthz within 180 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- CPU per request: load-independent, unlike req/s on a shared 2-core machine -----------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pgid: int) -> tuple[float, float]:
    """(CPU seconds of the server's process group, of all `postgres` processes) so far."""
    server = database = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text_ = stat.read_text()
        except OSError:
            continue  # exited meanwhile
        comm = text_[text_.index("(") + 1 : text_.rindex(")")]
        fields = text_[text_.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
        if int(fields[2]) == server_pgid:  # pgrp
            server += used
        elif comm == "postgres":
            database += used
    return server, database


# -- load: wrk --------------------------------------------------------------------------------

WRK_360 = """
local ids = {}
local token = os.getenv("BENCH_TOKEN")
function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end
function request()
  local path = "/api/v1/customers/" .. ids[math.random(#ids)] .. "/360"
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
"""

WRK_CREATE = """
local token = os.getenv("BENCH_TOKEN")
local threads = 0
local counter = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end
-- globals: thread_id set by setup(); run differs per run, so a reused database takes new phones
function init(args)
  thread_id = tonumber(thread_id) or 0
  run = tonumber(os.getenv("BENCH_RUN")) or 0
end
function request()
  counter = counter + 1
  -- 19x mobiles: the seeded customers use 13x/15x/18x, so every POST is a new identity
  local phone = string.format("+86 19%d%03d%05d", thread_id, run, counter)
  local body = string.format(
    '{"name":"压测客户%d_%d","phones":["%s"],"value_tier":"silver","region":"广东",' ..
    '"tags":["bench"]}', thread_id, counter, phone)
  return wrk.format("POST", "/api/v1/customers",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""

WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(
    name: str,
    url: str,
    script: str | None,
    duration_s: int,
    connections: int,
    threads: int,
    env: dict[str, str],
    workdir: Path,
) -> LoadResult:
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration_s}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        path = workdir / f"{name}.lua"
        path.write_text(script)
        command += ["-s", str(path)]
    output = subprocess.run(
        command + [url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=duration_s + 60,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    seconds_text = re.search(r"requests in ([\d.]+)(m|s)", output)
    assert seconds_text is not None, output
    seconds = float(seconds_text.group(1)) * (60 if seconds_text.group(2) == "m" else 1)
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), "
        r"timeout (\d+)",
        output,
    )
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    latency = {p: float(v) * WRK_UNITS_MS[u] for p, v, u in WRK_LATENCY.findall(output)}
    return LoadResult(
        name,
        requests,
        errors,
        seconds,
        latency.get("50", float("nan")),
        latency.get("99", float("nan")),
        "wrk",
    )


# -- load: httpx fallback (in its own process) -------------------------------------------------


async def _httpx_load(
    base: str, kind: str, duration_s: float, connections: int, token: str, ids: list[str]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    counter = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=10
    ) as client:
        stop_at = time.perf_counter() + duration_s

        async def worker() -> None:
            nonlocal errors, counter
            rng = random.Random()
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    if kind == "healthz":
                        response = await client.get("/healthz")
                    elif kind == "view_360":
                        response = await client.get(f"/api/v1/customers/{rng.choice(ids)}/360")
                    else:
                        counter += 1
                        response = await client.post(
                            "/api/v1/customers",
                            json={
                                "name": f"压测客户{os.getpid()}_{counter}",
                                "phones": [f"+8619{os.getpid() % 10}{counter:08d}"],
                                "value_tier": "silver",
                                "tags": ["bench"],
                            },
                        )
                    ok = response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.perf_counter() - began
    latencies.sort()

    def pick(q: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000.0
            if latencies
            else float("nan")
        )

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": seconds,
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
    }


def httpx_worker_main(arguments: str) -> None:
    args = json.loads(arguments)
    result = asyncio.run(_httpx_load(**args))
    print(json.dumps(result))


def run_httpx(
    name: str,
    base: str,
    kind: str,
    duration_s: int,
    connections: int,
    token: str,
    ids: list[str],
    workdir: Path,
) -> LoadResult:
    ids_path = workdir / "ids.json"
    ids_path.write_text(json.dumps(ids))
    arguments = json.dumps(
        {
            "base": base,
            "kind": kind,
            "duration_s": duration_s,
            "connections": connections,
            "token": token,
            "ids": ids,
        }
    )
    output = subprocess.run(
        [sys.executable, __file__, "--httpx-worker", arguments],
        capture_output=True,
        text=True,
        timeout=duration_s + 120,
        check=True,
    ).stdout
    data = json.loads(output.strip().splitlines()[-1])
    return LoadResult(
        name,
        data["requests"],
        data["errors"],
        data["seconds"],
        data["p50_ms"],
        data["p99_ms"],
        "httpx",
    )


# -- main -------------------------------------------------------------------------------------


def seeded_before(engine: Any) -> SeedResult:
    """What `seed_bulk` returned when it filled this database (a --keep-db run)."""
    with engine.connect() as connection:
        tenant_id, username = connection.execute(
            text("SELECT tenant_id, username FROM users WHERE username LIKE :u"),
            {"u": BENCH_ADMIN[0] + ".%"},
        ).one()
        ids = connection.execute(
            text("SELECT id FROM customers WHERE tenant_id = :t ORDER BY id"), {"t": tenant_id}
        )
        return SeedResult(tenant_id, [row[0] for row in ids], username, BENCH_ADMIN[1], {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long check that it works")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--duration", type=int, default=None, help="seconds per measurement")
    parser.add_argument(
        "--warmup", type=int, default=None, help="seconds of unmeasured 360 views first (10)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--no-wrk", action="store_true", help="use the httpx client")
    parser.add_argument(
        "--keep-db", action="store_true", help="keep the seeded PostgreSQL database; print its name"
    )
    parser.add_argument(
        "--reuse-db", metavar="NAME", help="measure on a database a --keep-db run left (no seeding)"
    )
    parser.add_argument("--httpx-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.httpx_worker:
        httpx_worker_main(args.httpx_worker)
        return
    customers = args.customers or (1_000 if args.quick else 100_000)
    messages = args.messages or (10_000 if args.quick else 1_000_000)
    duration_s = args.duration or (3 if args.quick else 20)
    warmup_s = args.warmup if args.warmup is not None else (1 if args.quick else 10)
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk

    workdir = Path(tempfile.mkdtemp(prefix="lianluo_bench_api_"))
    if args.reuse_db:
        url, pg_name = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + args.reuse_db, args.reuse_db
    else:
        url, pg_name = create_database(args.quick, workdir)
    server = None
    try:
        backend = "postgresql" if pg_name else "sqlite"
        migrate.upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        if args.reuse_db:
            seeded = seeded_before(engine)
            print(f"reusing {args.reuse_db}: {len(seeded.customer_ids):,} customers")
        else:
            seeded = seed_bulk(engine, customers=customers, messages=messages)
            seed_s = time.perf_counter() - started
            print(
                f"seeded {backend} in {seed_s:.1f} s: "
                + ", ".join(f"{v:,} {k}" for k, v in seeded.rows.items())
            )
        engine.dispose()

        port = free_port()
        server = start_server(url, port, args.workers, workdir)
        base = f"http://127.0.0.1:{port}"
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            timeout=30,
            json={"username": seeded.username, "password": seeded.password},
        )
        login.raise_for_status()
        token = login.json()["access_token"]
        probe = httpx.get(
            f"{base}/api/v1/customers/{seeded.customer_ids[0]}/360",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
        probe.raise_for_status()
        timeline = probe.json()["timeline"]
        print(
            f"360 view probe: {len(timeline)} conversations, "
            f"{sum(len(c['messages']) for c in timeline)} messages, {len(probe.content)} bytes"
        )

        ids_path = workdir / "ids.txt"
        ids_path.write_text("\n".join(seeded.customer_ids) + "\n")
        env = {
            "BENCH_TOKEN": token,
            "BENCH_IDS": str(ids_path),
            "BENCH_RUN": str(random.randrange(1000)),
        }
        threads = 2
        results = []
        plan = (
            ("healthz (baseline)", "healthz", f"{base}/healthz", None),
            ("customer 360 view", "view_360", base, WRK_360),
            ("create customer", "create", base, WRK_CREATE),
        )
        for name, kind, target, script in plan:
            if kind == "view_360" and use_wrk and warmup_s > 0:
                # not measured: a freshly seeded database's first reads fill the caches and set
                # hint bits (PostgreSQL CPU per view 2-3x that of a warm one), which a serving
                # database has long done
                run_wrk(kind, target, script, warmup_s, args.connections, threads, env, workdir)
            cpu_before = cpu_seconds(server.pid)
            if use_wrk:
                result = run_wrk(
                    kind, target, script, duration_s, args.connections, threads, env, workdir
                )
            else:
                result = run_httpx(
                    kind,
                    base,
                    kind,
                    duration_s,
                    args.connections,
                    token,
                    seeded.customer_ids,
                    workdir,
                )
            cpu_after = cpu_seconds(server.pid)
            ok = max(result.requests - result.errors, 1)
            result.server_cpu_ms = (cpu_after[0] - cpu_before[0]) * 1000 / ok
            result.db_cpu_ms = (cpu_after[1] - cpu_before[1]) * 1000 / ok
            result.name = name
            results.append(result)
    finally:
        if server is not None:
            stop_server(server)
        if pg_name and (args.keep_db or args.reuse_db):
            print(f"database kept: --reuse-db {pg_name}")
        elif pg_name:
            drop_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)

    baseline = results[0].ok_per_s
    print(
        f"\nbackend {backend}, {customers:,} customers, {messages:,} messages; "
        f"{args.connections} connections, {args.workers} server workers, "
        f"{duration_s} s per row, load by {results[0].tool}"
    )
    print(
        f"{'endpoint':<22}{'ok req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}"
        f"{'errors':>8}{'vs healthz':>12}{'server CPU ms':>15}{'db CPU ms':>11}"
    )
    for result in results:
        ratio = result.ok_per_s / baseline if baseline else float("nan")
        print(
            f"{result.name:<22}{result.ok_per_s:>10.0f}{result.p50_ms:>9.1f}"
            f"{result.p99_ms:>9.1f}{result.requests:>10}{result.errors:>8}{ratio:>12.2f}"
            f"{result.server_cpu_ms:>15.2f}{result.db_cpu_ms:>11.2f}"
        )
    print(
        "CPU ms = CPU time per successful request, of the server's processes and of all "
        "PostgreSQL processes (load-independent; 2 cores give 2,000 ms of CPU per second)"
    )
    view = results[1]
    if view.errors:
        print(f"WARNING: {view.errors} failed 360 views")
    print(
        f"goal: {GOAL_360_RPS} req/s for the 360 view "
        f"({'met' if view.ok_per_s >= GOAL_360_RPS else 'NOT met'})"
    )
    print(f"customers_created: {results[2].ok_per_s:.0f} req/s")
    print(f"api_360_view: {view.ok_per_s:.0f} req/s")


if __name__ == "__main__":
    main()
