"""Wallboard push cost: one event folded into the live board, and the snapshot pushed after it,
against the naive baseline of replaying the day's event log into a fresh board for each push.

A synthetic day for one tenant: 20 queues, 500 agents and N contacts offered since midnight
(answered after an exponential wait, some abandoned, talk and wrap-up times), as the events
contacts/service.py and runtime/router.py publish. Prints events/s of `apply`, the p50 and p99
of `snapshot` (all queues, all agents, 15-minute series), and the p50 of the replay baseline.

    python bench/wall.py            # 50,000 contacts today
    python bench/wall.py --quick    # 3,000 contacts (CI)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lianluo.realtime.board import LiveAgent, QueueInfo, TenantBoard  # noqa: E402
from lianluo.realtime.service import day_start  # noqa: E402

TZ = "Asia/Shanghai"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def day_events(contacts: int, queues: int, now: float, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    start = day_start(now, TZ)
    events: list[tuple[float, int, dict[str, object]]] = []
    for k in range(contacts):
        cid, qid, agent = f"c{k}", f"q{k % queues}", f"a{rng.randrange(500)}"
        at = rng.uniform(start, now - 1)
        base = {"tenant_id": "t", "contact_id": cid, "queue_id": qid}

        def add(
            t: float,
            kind: str,
            agent_id: str | None = None,
            base: dict[str, object] = base,
            **payload: object,
        ) -> None:
            events.append(
                (
                    t,
                    len(events),
                    base
                    | {
                        "type": kind,
                        "occurred_at": _iso(t),
                        "agent_id": agent_id,
                        "payload": {"channel": "voice", **payload},
                    },
                )
            )

        add(at, "contact.queued")
        wait = rng.expovariate(1 / 25)
        if rng.random() < 0.08:
            add(min(at + wait, now), "contact.abandoned", wait_s=wait)
            continue
        answered = min(at + wait, now)
        add(answered, "contact.offered", agent)
        add(answered, "contact.answered", agent)
        talk, acw = rng.expovariate(1 / 240), rng.expovariate(1 / 30)
        if answered + talk + acw < now:
            add(answered + talk, "contact.completed", agent)
            add(answered + talk + acw, "contact.ended", agent, talk_s=talk, hold_s=0.0, acw_s=acw)
    events.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in events]


def empty_board(queues: int) -> TenantBoard:
    board = TenantBoard("t", TZ)
    for q in range(queues):
        board.queues[f"q{q}"] = QueueInfo(f"q{q}", f"队列 {q}", None, ["voice"], 20, 0.8, 5)
    for a in range(500):
        board.agents[f"a{a}"] = LiveAgent(f"a{a}", f"座席 {a}", "A", None, "available", "", 0.0)
    return board


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small day, for CI")
    parser.add_argument("--contacts", type=int, default=None)
    args = parser.parse_args()
    contacts = args.contacts or (3_000 if args.quick else 50_000)
    queues, repeats = 20, (5 if args.quick else 20)
    now = day_start(time.time(), TZ) + 17 * 3600.0  # 17:00 local: most of a day behind
    events = day_events(contacts, queues, now)
    print(f"contacts today: {contacts:,}  events: {len(events):,}  queues: {queues}  agents: 500")

    board = empty_board(queues)
    t0 = time.perf_counter()
    for event in events:
        board.apply(event)
    apply_s = time.perf_counter() - t0
    print(
        f"apply: {len(events) / apply_s:,.0f} events/s ({apply_s * 1e6 / len(events):.1f} µs each)"
    )

    snaps = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        snapshot = board.snapshot(now, day_start(now, TZ))
        snaps.append(time.perf_counter() - t0)
    assert snapshot["totals"]["offered"] == contacts
    p50, p99 = statistics.median(snaps), max(snaps)
    print(f"snapshot (incremental board): p50 {p50 * 1e3:.1f} ms, max {p99 * 1e3:.1f} ms")

    replays = []
    for _ in range(max(3, repeats // 4)):
        t0 = time.perf_counter()
        fresh = empty_board(queues)
        for event in events:
            fresh.apply(event)
        baseline = fresh.snapshot(now, day_start(now, TZ))
        replays.append(time.perf_counter() - t0)
    assert baseline["totals"] == snapshot["totals"]
    base50 = statistics.median(replays)
    print(f"baseline (replay the day's log per push): p50 {base50 * 1e3:.1f} ms")
    print(f"push cost ratio baseline / incremental: {base50 / p50:.1f}x")
    print(f"wall_snapshot_p50: {p50 * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
