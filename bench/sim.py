"""Simulator speed: a 1,000-agent, 24-hour day (~500,000 contacts) through the Lianluo simulator
(routing by the router `lianluo.sim.router.make_router` returns), and the same model written
directly in SimPy in the same run, for the ratio.

Model: one queue, Poisson arrivals at 500,000/day, lognormal handle time (mean 175 s, cv 0.8:
offered load 101 % of the agents, so a queue forms and abandonment holds it), exponential
patience (mean 180 s), 1,000 agents all day. Both report the same KPIs, so the
comparison is like for like.

    python bench/sim.py            # full day, median of 3 runs each
    python bench/sim.py --quick    # a 1-hour, 100-agent day: checks that it still works

Last line: `sim_events: N events/s` (calendar events of the Lianluo simulator per second).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from lianluo.domain.kpi import average_speed_of_answer_s, service_level
from lianluo.sim.distributions import lognormal_params
from lianluo.sim.engine import simulate
from lianluo.sim.router import QueueSpec, SimRouter, make_router
from lianluo.sim.scenario import Scenario, scenario_from_dict

AHT_S = 175.0
AHT_CV = 0.8
PATIENCE_S = 180.0


def scenario(agents: int, contacts_per_day: float, hours: int) -> Scenario:
    return scenario_from_dict(
        {
            "name": "bench",
            "interval_minutes": 30,
            "intervals": hours * 2,
            "seed": 2026,
            "kpi": {"short_abandon_s": 0},
            "queues": [
                {
                    "name": "general",
                    "arrivals": {"kind": "poisson", "per_hour": contacts_per_day / 24},
                    "handle_time": {"kind": "lognormal", "mean_s": AHT_S, "cv": AHT_CV},
                    "patience": {"kind": "exponential", "mean_s": PATIENCE_S},
                }
            ],
            "agents": [{"group": "all", "skills": {"general": 1}, "per_interval": [agents]}],
        }
    )


def run_lianluo(sc: Scenario) -> tuple[float, float, int, int, float | None, float | None]:
    t0, c0 = time.perf_counter(), time.process_time()
    result = simulate(sc, 0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    cols = result.outcomes
    return (
        wall,
        cpu,
        result.events,
        len(cols),
        service_level(cols, 20.0, 0.0),
        average_speed_of_answer_s(cols),
    )


class TimedRouter:
    """Wraps the simulator's router and adds up the wall time spent inside routing per
    operation, so the report can say where a day's seconds go (costs ~1 µs per call)."""

    def __init__(self, inner: SimRouter) -> None:
        self.inner = inner
        self.has_timers = inner.has_timers
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        for name in (
            "add_agent",
            "agent_available",
            "agent_unavailable",
            "enqueue",
            "cancel",
            "keep_as_callback",
            "release",
            "dispatch",
            "next_wakeup",
        ):
            setattr(self, name, self._timed(name, getattr(inner, name)))

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        clock = time.perf_counter
        self.seconds[name] = 0.0
        self.calls[name] = 0

        def call(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += clock() - t0
                self.calls[name] += 1

        return call


def routing_breakdown(sc: Scenario) -> None:
    specs = [
        QueueSpec(q.name, q.channel, float(q.priority), float(q.vip_priority)) for q in sc.queues
    ]
    timed = TimedRouter(make_router(specs, sc.routing))
    t0 = time.perf_counter()
    simulate(sc, 0, router=timed)  # type: ignore[arg-type]
    wall = time.perf_counter() - t0
    inside = sum(timed.seconds.values())
    print(
        f"breakdown run (timers on): {wall:.2f} s wall, {inside:.2f} s inside routing "
        f"({inside / wall:.0%})"
    )
    for name, seconds in sorted(timed.seconds.items(), key=lambda kv: -kv[1]):
        if timed.calls[name]:
            print(
                f"  {name:18s} {timed.calls[name]:>9,} calls  {seconds:6.2f} s  "
                f"{seconds / timed.calls[name] * 1e6:6.1f} µs/call"
            )


def run_simpy(
    agents: int, contacts_per_day: float, hours: int, seed: int
) -> tuple[float, float, int, float, float]:
    """The same model as a plain SimPy process model (the textbook 'bank renege' pattern)."""
    rng = np.random.default_rng(seed)
    horizon_s = hours * 3600.0
    rate = contacts_per_day / 86_400.0
    n = rng.poisson(rate * horizon_s)
    arrivals = np.sort(rng.random(n) * horizon_s)
    mu, sigma = lognormal_params(AHT_S, AHT_CV)
    handle = rng.lognormal(mu, sigma, n)
    patience = rng.exponential(PATIENCE_S, n)
    waits: list[float] = []
    in_time = [0]

    t0, c0 = time.perf_counter(), time.process_time()
    env = simpy.Environment()
    staff = simpy.Resource(env, capacity=agents)

    def customer(i: int):  # type: ignore[no-untyped-def]
        arrived = env.now
        with staff.request() as req:
            got = yield req | env.timeout(patience[i])
            if req in got:
                wait = env.now - arrived
                waits.append(wait)
                if wait <= 20.0:
                    in_time[0] += 1
                yield env.timeout(handle[i])

    def source():  # type: ignore[no-untyped-def]
        last = 0.0
        for i in range(n):
            yield env.timeout(arrivals[i] - last)
            last = arrivals[i]
            env.process(customer(i))

    env.process(source())
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, n, in_time[0] / n, float(np.mean(waits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-breakdown", action="store_true", help="skip the extra run that times routing calls"
    )
    parser.add_argument(
        "--engine",
        choices=["indexed", "scan"],
        default="indexed",
        help="routing engine class (scan: the engine's brute-force reference; slow)",
    )
    args = parser.parse_args()
    if args.quick:
        agents, per_day, hours, repeats = 100, 50_000.0, 1, 1
    else:
        agents, per_day, hours, repeats = 1000, 500_000.0, 24, args.repeats

    sc = scenario(agents, per_day, hours)
    sc = sc.model_copy(update={"routing": {"engine": args.engine}})
    print(f"model: {agents} agents, {per_day:,.0f} contacts/day, {hours} h, AHT {AHT_S:.0f} s")
    print(f"routing: lianluo.domain.routing.{args.engine} (the production engine, unchanged)")
    # CPU time is printed beside wall time: on a shared machine it is the steadier figure.
    lianluo_walls, simpy_walls, lianluo_cpus, simpy_cpus = [], [], [], []
    events = contacts = 0
    for _ in range(repeats):
        wall, cpu, events, contacts, sl, asa = run_lianluo(sc)
        lianluo_walls.append(wall)
        lianluo_cpus.append(cpu)
        print(
            f"lianluo: {wall:7.2f} s ({cpu:.2f} s CPU)  {events:,} events  {contacts:,} contacts  "
            f"SL {sl:.3f}  ASA {asa:.1f} s"
        )
        s_wall, s_cpu, s_contacts, s_sl, s_asa = run_simpy(agents, per_day, hours, 2026)
        simpy_walls.append(s_wall)
        simpy_cpus.append(s_cpu)
        print(
            f"simpy:   {s_wall:7.2f} s ({s_cpu:.2f} s CPU)  {s_contacts:,} contacts  "
            f"SL {s_sl:.3f}  ASA {s_asa:.1f} s"
        )
    lianluo_s = statistics.median(lianluo_walls)
    simpy_s = statistics.median(simpy_walls)
    lianluo_cpu = statistics.median(lianluo_cpus)
    simpy_cpu = statistics.median(simpy_cpus)
    if not args.no_breakdown:
        routing_breakdown(sc)
    print(f"median wall: lianluo {lianluo_s:.2f} s, simpy {simpy_s:.2f} s")
    print(f"median CPU:  lianluo {lianluo_cpu:.2f} s, simpy {simpy_cpu:.2f} s")
    print(f"ratio lianluo/simpy wall time: {lianluo_s / simpy_s:.2f} (same model, same run)")
    print(f"ratio lianluo/simpy CPU time:  {lianluo_cpu / simpy_cpu:.2f}")
    print(f"contacts per second: {contacts / lianluo_s:,.0f}")
    print(f"sim_events: {events / lianluo_s:.0f} events/s")


if __name__ == "__main__":
    main()
