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

import numpy as np
import simpy

from lianluo.domain.kpi import average_speed_of_answer_s, service_level
from lianluo.sim.distributions import lognormal_params
from lianluo.sim.engine import simulate
from lianluo.sim.router import engine_available
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


def run_lianluo(sc: Scenario) -> tuple[float, int, int, float | None, float | None]:
    t0 = time.perf_counter()
    result = simulate(sc, 0)
    wall = time.perf_counter() - t0
    cols = result.outcomes
    return (
        wall,
        result.events,
        len(cols),
        service_level(cols, 20.0, 0.0),
        average_speed_of_answer_s(cols),
    )


def run_simpy(
    agents: int, contacts_per_day: float, hours: int, seed: int
) -> tuple[float, int, float, float]:
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

    t0 = time.perf_counter()
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
    wall = time.perf_counter() - t0
    return wall, n, in_time[0] / n, float(np.mean(waits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        agents, per_day, hours, repeats = 100, 50_000.0, 1, 1
    else:
        agents, per_day, hours, repeats = 1000, 500_000.0, 24, args.repeats

    sc = scenario(agents, per_day, hours)
    print(f"model: {agents} agents, {per_day:,.0f} contacts/day, {hours} h, AHT {AHT_S:.0f} s")
    print(f"routing: {'lianluo.domain.routing' if engine_available() else 'interim router'}")
    lianluo_walls, simpy_walls = [], []
    events = contacts = 0
    for _ in range(repeats):
        wall, events, contacts, sl, asa = run_lianluo(sc)
        lianluo_walls.append(wall)
        print(
            f"lianluo: {wall:7.2f} s  {events:,} events  {contacts:,} contacts  "
            f"SL {sl:.3f}  ASA {asa:.1f} s"
        )
        s_wall, s_contacts, s_sl, s_asa = run_simpy(agents, per_day, hours, 2026)
        simpy_walls.append(s_wall)
        print(
            f"simpy:   {s_wall:7.2f} s  {s_contacts:,} contacts  SL {s_sl:.3f}  ASA {s_asa:.1f} s"
        )
    lianluo_s = statistics.median(lianluo_walls)
    simpy_s = statistics.median(simpy_walls)
    print(f"median wall: lianluo {lianluo_s:.2f} s, simpy {simpy_s:.2f} s")
    print(f"ratio lianluo/simpy wall time: {lianluo_s / simpy_s:.2f} (same model, same run)")
    print(f"contacts per second: {contacts / lianluo_s:,.0f}")
    print(f"sim_events: {events / lianluo_s:.0f} events/s")


if __name__ == "__main__":
    main()
