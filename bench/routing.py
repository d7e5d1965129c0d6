"""Routing engine benchmark: decisions per second, latency per operation, scaling.

A saturated contact centre (every agent busy, tens of thousands waiting) runs a realistic mix
of operations on a virtual clock: contacts completing (the agent frees up and the tick offers
it the best waiting contact), arrivals, abandons, agents going on break and back, offers
accepted or rejected, relaxation steps and overflow falling due. After every operation the
caller ticks, as the simulator and the live server do.

Baseline, in the same run: `ScanRouter`, which sorts the waiting contacts and scans every
agent for every contact (Asterisk app_queue style) and makes the same decisions.

    python bench/routing.py            # full run (a few minutes)
    python bench/routing.py --quick    # seconds; checks that it still works

A decision is an Offer (a contact assigned to an agent). Throughput = offers / engine time
over the whole mix (all operations timed, not only the ticks).
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lianluo.domain.routing import (  # noqa: E402
    AgentProfile,
    AgentState,
    ChannelMixing,
    ContactRequest,
    ContactState,
    Offer,
    OfferExpired,
    QueueConfig,
    RelaxationStep,
    RoutingEngine,
    ScanRouter,
    SelectionPolicy,
)

N_SKILLS = 200
N_PRODUCT_SKILLS = 150  # skills 0..149 are products / problems, 150..199 languages & others
N_LANGUAGE_SKILLS = 10
SETUP_HISTORY_S = 600.0
LANGUAGES = ("zh", "yue", "en", "wuu", "min")


@dataclass
class World:
    n_agents: int
    n_queues: int
    queues: list[QueueConfig]
    agents: list[AgentProfile]
    rng: random.Random
    next_contact: int = 0


def make_world(n_agents: int, seed: int) -> World:
    rng = random.Random(seed)
    n_queues = max(10, min(200, n_agents // 50))
    queues = []
    for q in range(n_queues):
        neighbour = f"q{(q + 1) % n_queues}"
        queues.append(
            QueueConfig(
                queue_id=f"q{q}",
                priority=float(rng.choice((0, 0, 1, 2))),
                policy=rng.choice(list(SelectionPolicy)),
                ageing_per_s=rng.choice((0.0, 0.01, 0.02)),
                tier_weight=2.0,
                skills={f"s{q % N_PRODUCT_SKILLS}": 1},
                expression="agent.region == contact.region or contact.region == null"
                if q % 10 == 0
                else None,
                preference="agent.lang == contact.lang" if q % 4 == 0 else None,
                relaxation=(
                    RelaxationStep(after_s=30.0, lower_levels_by=2, drop_preference=q % 4 == 0),
                    RelaxationStep(after_s=90.0, overflow_to=(neighbour,)),
                ),
                offer_timeout_s=15.0,
                not_ready_on_reject=False,
                not_ready_on_timeout=False,
            )
        )
    agents = []
    for a in range(n_agents):
        served = rng.sample(range(n_queues), k=2)
        skills = {f"s{q % N_PRODUCT_SKILLS}": rng.randint(2, 10) for q in served}
        for _ in range(rng.randint(1, 3)):
            skills[f"s{N_PRODUCT_SKILLS + rng.randrange(N_LANGUAGE_SKILLS)}"] = rng.randint(1, 10)
        for _ in range(rng.randint(1, 4)):
            skills[f"s{rng.randrange(N_SKILLS)}"] = rng.randint(1, 10)
        kind = rng.random()
        if kind < 0.7:
            capacity, mixing = {"voice": 1}, ChannelMixing.SHARED
        elif kind < 0.9:
            capacity, mixing = {"chat": 3}, ChannelMixing.SHARED
        else:
            capacity, mixing = {"voice": 1, "email": 5}, ChannelMixing.EXCLUSIVE
        agents.append(
            AgentProfile(
                agent_id=f"a{a}",
                queues=frozenset(f"q{q}" for q in served),
                skills=skills,
                capacity=capacity,
                attributes={
                    "lang": rng.choice(LANGUAGES),
                    "region": rng.choice(("north", "south")),
                },
                mixing=mixing,
            )
        )
    return World(n_agents, n_queues, queues, agents, rng)


def new_contact(world: World, now: float, waited_s: float = 0.0) -> ContactRequest:
    rng = world.rng
    q = min(int(rng.paretovariate(1.2)) - 1, world.n_queues - 1)  # a few big queues
    q = (q * 7919) % world.n_queues
    channel = rng.choices(("voice", "chat", "email"), weights=(70, 22, 8))[0]
    skills = {f"s{q % N_PRODUCT_SKILLS}": rng.choice((1, 2, 3, 4, 5))}
    if rng.random() < 0.2:  # a language or dialect skill
        skills[f"s{N_PRODUCT_SKILLS + rng.randrange(N_LANGUAGE_SKILLS)}"] = 1
    world.next_contact += 1
    return ContactRequest(
        contact_id=f"c{world.next_contact}",
        queue_id=f"q{q}",
        arrived_at=now - waited_s,
        channel=channel,
        skills=skills,
        attributes={"lang": rng.choice(LANGUAGES), "region": rng.choice(("north", "south"))},
        tier=rng.choices((0, 1, 2), weights=(85, 12, 3))[0],
    )


@dataclass
class Timings:
    ns: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    offers: int = 0
    total_ns: int = 0


def setup(router_cls: type, world: World, n_waiting: int) -> tuple[object, list[str], float]:
    """All agents busy, `n_waiting` contacts waiting; returns router, connected ids, now."""
    router = router_cls(world.queues)
    now = SETUP_HISTORY_S  # contacts in the initial line arrived over the last SETUP_HISTORY_S
    for profile in world.agents:
        router.add_agent(profile, now, AgentState.AVAILABLE)
    connected: list[str] = []
    # first fill the agents (until few offers still come), then the line
    batch = max(500, world.n_agents // 4)
    while router.waiting_count() < n_waiting:
        for _ in range(batch):
            waited = world.rng.uniform(0.0, SETUP_HISTORY_S)
            router.enqueue(new_contact(world, now, waited), now)
        offers = [c for c in router.tick(now) if isinstance(c, Offer)]
        for offer in offers:
            router.accept(offer.contact_id, offer.agent_id, now)
            connected.append(offer.contact_id)
        if len(offers) < batch // 20:
            break
    for _ in range(n_waiting - router.waiting_count()):
        waited = world.rng.uniform(0.0, SETUP_HISTORY_S)
        router.enqueue(new_contact(world, now, waited), now)
    router.tick(now)
    return router, connected, now


def run_mix(router, world: World, connected: list[str], now: float, n_ops: int) -> Timings:
    """The operation mix; every operation is followed by a tick, both timed together."""
    rng = world.rng
    timings = Timings()
    busy = set(connected)
    waiting_ids: list[str] = [cid for cid in router.contact_ids() if cid not in busy]
    on_break: list[str] = []
    agent_ids = [a.agent_id for a in world.agents]
    perf = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for _ in range(n_ops):
            now += 0.005
            r = rng.random()
            if r < 0.40 and connected:
                i = rng.randrange(len(connected))
                connected[i], connected[-1] = connected[-1], connected[i]
                cid = connected.pop()
                kind = "complete"
                t0 = perf()
                commands = router.complete(cid, now) + router.tick(now)
            elif r < 0.80:
                request = new_contact(world, now)
                waiting_ids.append(request.contact_id)
                kind = "enqueue"
                t0 = perf()
                commands = router.enqueue(request, now) + router.tick(now)
            elif r < 0.95 and waiting_ids:
                i = rng.randrange(len(waiting_ids))
                waiting_ids[i], waiting_ids[-1] = waiting_ids[-1], waiting_ids[i]
                cid = waiting_ids.pop()
                if router.contact_state(cid) is not ContactState.WAITING:
                    continue
                kind = "abandon"
                t0 = perf()
                commands = router.cancel(cid, now) + router.tick(now)
            elif on_break and (r < 0.975 or len(on_break) > 20):
                agent_id = on_break.pop(rng.randrange(len(on_break)))
                kind = "agent_available"
                t0 = perf()
                commands = router.set_agent_state(
                    agent_id, AgentState.AVAILABLE, now
                ) + router.tick(now)
            else:
                agent_id = rng.choice(agent_ids)
                if router.agent_state(agent_id) is not AgentState.AVAILABLE:
                    continue
                on_break.append(agent_id)
                kind = "agent_break"
                t0 = perf()
                commands = router.set_agent_state(
                    agent_id, AgentState.BREAK, now, "lunch"
                ) + router.tick(now)
            t1 = perf()
            timings.ns[kind].append(t1 - t0)
            timings.total_ns += t1 - t0
            for command in commands:
                if isinstance(command, Offer):
                    timings.offers += 1
                    # the agent answers at once: mostly accept, sometimes reject
                    t0 = perf()
                    if rng.random() < 0.03:
                        follow = router.reject(command.contact_id, command.agent_id, now)
                        follow += router.tick(now)
                        name = "reject"
                        waiting_ids.append(command.contact_id)
                    else:
                        follow = router.accept(command.contact_id, command.agent_id, now)
                        name = "accept"
                        connected.append(command.contact_id)
                    t1 = perf()
                    timings.ns[name].append(t1 - t0)
                    timings.total_ns += t1 - t0
                    timings.offers += sum(isinstance(c, Offer) for c in follow)
                    for c in follow:
                        if isinstance(c, Offer):
                            t0 = perf()
                            router.accept(c.contact_id, c.agent_id, now)
                            t1 = perf()
                            timings.ns["accept"].append(t1 - t0)
                            timings.total_ns += t1 - t0
                            connected.append(c.contact_id)
                elif isinstance(command, OfferExpired):
                    waiting_ids.append(command.contact_id)
    finally:
        gc.enable()
    return timings


def pct(values: list[int], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def report(title: str, timings: Timings) -> float:
    rate = timings.offers / (timings.total_ns / 1e9) if timings.total_ns else 0.0
    n_ops = sum(len(v) for v in timings.ns.values())
    print(
        f"\n{title}: {timings.offers} decisions in {n_ops} operations, "
        f"{timings.total_ns / 1e9:.2f} s engine time -> {rate:,.0f} decisions/s, "
        f"{n_ops / (timings.total_ns / 1e9):,.0f} operations/s"
    )
    print(f"  {'operation':<16}{'count':>8}{'p50 us':>10}{'p99 us':>10}{'mean us':>10}")
    for kind in sorted(timings.ns):
        values = timings.ns[kind]
        print(
            f"  {kind:<16}{len(values):>8}{pct(values, 0.5):>10.1f}{pct(values, 0.99):>10.1f}"
            f"{statistics.fmean(values) / 1000:>10.1f}"
        )
    return rate


def measure(router_cls: type, n_agents: int, n_waiting: int, n_ops: int, seed: int) -> Timings:
    world = make_world(n_agents, seed)
    router, connected, now = setup(router_cls, world, n_waiting)
    return run_mix(router, world, connected, now, n_ops)


def decision_cost_us(t: Timings) -> float:
    """Engine time per decision (all operations of the mix included)."""
    return (t.total_ns / max(1, t.offers)) / 1000.0


def robust_decision_cost_us(t: Timings) -> float:
    """Engine time per decision from each operation's median latency times its count."""
    total_ns = sum(statistics.median(values) * len(values) for values in t.ns.values())
    return total_ns / max(1, t.offers) / 1000.0


def growth_verdict(axis: str, sizes: list[int], costs: list[float]) -> bool:
    """Does the cost grow no faster than logarithmically over three sizes?

    A logarithmic cost a + b*log(n) adds the same amount per tenfold step: fitted on the first
    two sizes, it predicts the third; the verdict allows 25 % over that for noise.
    """
    (n1, n2, n3), (c1, c2, c3) = sizes, costs
    step = max(c2 - c1, 0.0) / math.log(n2 / n1)
    predicted = c2 + step * math.log(n3 / n2)
    exponent = math.log(c3 / c1) / math.log(n3 / n1) if c1 > 0 and c3 > 0 else float("nan")
    ok = c3 <= 1.25 * predicted
    verdict = "no faster than logarithmic" if ok else "FASTER than logarithmic"
    print(
        f"  {axis:<8} {n1:,} -> {n2:,} -> {n3:,}: {c1:.1f} -> {c2:.1f} -> {c3:.1f} us; "
        f"log model predicts {predicted:.1f}; power-law exponent {exponent:.2f} "
        f"(1 = linear): {verdict}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    quick = args.quick

    n_agents, n_waiting = (500, 2_000) if quick else (10_000, 50_000)
    n_ops = 2_000 if quick else 60_000
    baseline_ops = 30 if quick else 60
    print(
        f"routing benchmark: {n_agents} agents, {N_SKILLS} skills, {n_waiting} waiting, "
        f"{'quick' if quick else 'full'} run"
    )

    t_setup = time.perf_counter()
    engine_t = measure(RoutingEngine, n_agents, n_waiting, n_ops, args.seed)
    print(f"(setup and run {time.perf_counter() - t_setup:.1f} s)")
    rate = report("RoutingEngine", engine_t)

    # the scan costs agents x waiting per tick: it runs on a smaller centre, and the engine
    # runs the very same operations there for the ratio
    base_agents, base_waiting = (200, 1_000) if quick else (1_000, 5_000)
    print(
        f"\nbaseline comparison at {base_agents} agents, {base_waiting} waiting, "
        f"{baseline_ops} operations, same seed:"
    )
    scan_t = measure(ScanRouter, base_agents, base_waiting, baseline_ops, args.seed)
    scan_rate = report("ScanRouter (scans every agent for every contact)", scan_t)
    same_t = measure(RoutingEngine, base_agents, base_waiting, baseline_ops, args.seed)
    same_rate = report("RoutingEngine, same operations", same_t)
    assert same_t.offers == scan_t.offers, "engine and scan disagree"
    print(
        f"speed-up over the scan at {base_agents} agents: {same_rate / scan_rate:,.0f}x "
        f"(decisions/s ratio; the scan grows with agents x waiting)"
    )

    print(
        "\nscaling: engine time per decision (all operations of the mix), as the mean and as"
        "\nthe sum of each operation's median x its count (robust to preemption on a busy box)"
    )
    print(
        f"  {'agents':>8}{'waiting':>9}{'mean us':>9}{'median us':>11}{'p50 complete':>14}"
        f"{'p99 complete':>14}{'p50 enqueue':>13}"
    )
    if quick:
        agent_axis = [(200, 2_000), (500, 2_000), (2_000, 2_000)]
        waiting_axis = [(500, 500), (500, 2_000), (500, 8_000)]
    else:
        agent_axis = [(1_000, 50_000), (10_000, 50_000), (100_000, 50_000)]
        waiting_axis = [(10_000, 5_000), (10_000, 50_000), (10_000, 200_000)]
    scale_ops = 1_000 if quick else 20_000
    costs: dict[tuple[int, int], float] = {}
    for agents, waiting in dict.fromkeys(agent_axis + waiting_axis):
        t = measure(RoutingEngine, agents, waiting, scale_ops, args.seed)
        complete = t.ns["complete"]
        costs[(agents, waiting)] = robust_decision_cost_us(t)
        print(
            f"  {agents:>8}{waiting:>9}{decision_cost_us(t):>9.1f}"
            f"{costs[(agents, waiting)]:>11.1f}{pct(complete, 0.5):>14.1f}"
            f"{pct(complete, 0.99):>14.1f}{pct(t.ns['enqueue'], 0.5):>13.1f}"
        )
    print("growth of the cost of a decision (median-based):")
    growth_verdict("agents", [a for a, _ in agent_axis], [costs[s] for s in agent_axis])
    growth_verdict("waiting", [w for _, w in waiting_axis], [costs[s] for s in waiting_axis])

    print(f"routing: {rate:.0f} decisions/s")


if __name__ == "__main__":
    main()
