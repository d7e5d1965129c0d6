"""Routing engine work per decision, counted (deterministic, unlike time on a shared box).

Runs the mix of `bench/routing.py` and counts, per decision, the eligibility checks
(`is_eligible`) and agent/contact heap operations of the engine, split by where they happen:
`_search_line` (a new class searching an agent heap), `_nominate` (a freed agent looking for
the best class it can take), `_agent_reindex`, the rest of `_match`, and outside a tick.

    python bench/routing_checks.py                       # 10,000 agents, 50,000 waiting
    python bench/routing_checks.py --agents 100000
    python bench/routing_checks.py --src /other/checkout/src   # compare another version
"""

from __future__ import annotations

import argparse
import heapq
import importlib.util
import sys
import time
import types
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
WRAPPED = ("_match", "_search_line", "_nominate", "_agent_reindex")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default=str(HERE.parent / "src"), help="lianluo to measure")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--waiting", type=int, default=50_000)
    parser.add_argument("--ops", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="1,000 agents, 5,000 waiting")
    args = parser.parse_args()
    if args.quick:
        args.agents, args.waiting, args.ops = 1_000, 5_000, 1_000

    sys.path.insert(0, args.src)
    import lianluo.domain.routing.engine as engine

    spec = importlib.util.spec_from_file_location("bench_routing", HERE / "routing.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_routing"] = bench
    spec.loader.exec_module(bench)  # its sys.path entry comes after ours: ours is imported
    assert bench.RoutingEngine is engine.RoutingEngine

    counts: Counter[str] = Counter()
    where = ["outside a tick"]
    checks = engine.is_eligible
    meets = getattr(engine, "meets", None)

    def counted_is_eligible(agent, requirement):
        counts["checks " + where[0]] += 1
        return checks(agent, requirement)

    def heappush(heap, entry):
        counts["heap ops " + where[0]] += 1
        heapq.heappush(heap, entry)

    def heappop(heap):
        counts["heap ops " + where[0]] += 1
        return heapq.heappop(heap)

    def counted_meets(agent, requirement):
        counts["checks " + where[0]] += 1
        return meets(agent, requirement)

    engine.is_eligible = counted_is_eligible
    if hasattr(engine, "meets"):
        engine.meets = counted_meets
    engine.heapq = types.SimpleNamespace(heappush=heappush, heappop=heappop, heapify=heapq.heapify)
    for name in WRAPPED:
        method = getattr(engine.RoutingEngine, name)

        def wrapper(self, *a, _method=method, _name=name, **kw):
            outer = where[0]
            where[0] = _name
            try:
                return _method(self, *a, **kw)
            finally:
                where[0] = outer

        setattr(engine.RoutingEngine, name, wrapper)

    world = bench.make_world(args.agents, args.seed)
    t0 = time.process_time()
    router, connected, now = bench.setup(engine.RoutingEngine, world, args.waiting)
    setup_s = time.process_time() - t0
    counts.clear()
    timings = bench.run_mix(router, world, connected, now, args.ops)
    decisions = max(1, timings.offers)
    print(
        f"{engine.__file__}\n{args.agents} agents, {args.waiting} waiting, "
        f"{sum(len(v) for v in timings.ns.values())} operations, {timings.offers} decisions "
        f"(setup {setup_s:.1f} s CPU); per decision:"
    )
    for key in sorted(counts):
        print(f"  {key:<32}{counts[key] / decisions:>8.2f}")
    total = sum(n for key, n in counts.items() if key.startswith("checks"))
    print(f"routing_checks: {total / decisions:.2f} eligibility checks/decision")


if __name__ == "__main__":
    main()
