"""Property tests of the indexed engine over random operation sequences.

The brute-force `ScanRouter` is the oracle: given the same operations, both must return the
same commands (and raise the same errors). Invariants are checked on the engine after every
operation, independently of the oracle.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianluo.domain.routing import (
    AgentState,
    CallbackDue,
    ChannelMixing,
    ContactRelaxed,
    ContactState,
    Offer,
    RoutingEngine,
    ScanRouter,
    validate_queues,
)
from lianluo.domain.routing.rules import effective_skills, is_eligible

from .scenario import Op, agent_profiles, apply, operations, queue_configs, states_of

N_AGENTS = 5


@st.composite
def worlds(draw: st.DrawFn, max_ops: int = 60):
    queues = draw(queue_configs())
    profiles = [draw(agent_profiles(f"a{i}")) for i in range(N_AGENTS)]
    initial = [
        draw(st.sampled_from((AgentState.AVAILABLE,) * 3 + (AgentState.OFFLINE,))) for _ in profiles
    ]
    ops = draw(operations(N_AGENTS, max_ops))
    return queues, profiles, initial, ops


def build(cls, queues, profiles, initial):
    router = cls(queues)
    for profile, state in zip(profiles, initial, strict=True):
        router.add_agent(profile, 0.0, state)
    return router


def check_invariants(engine, compiled, now, expected_ids, result, before_states):
    # no contact lost, none invented
    assert set(engine.contact_ids()) == expected_ids
    snaps = {cid: engine.contact_snapshot(cid) for cid in expected_ids}
    # load follows from offered/connected contacts; never above capacity
    held = Counter()
    for snap in snaps.values():
        if snap.state in (ContactState.OFFERED, ContactState.CONNECTED):
            held[(snap.agent_id, snap.request.channel)] += 1
    for agent_id in engine.agent_ids():
        profile = engine.agent_snapshot(agent_id).profile
        load = engine.agent_load(agent_id)
        assert load == {ch: n for (a, ch), n in held.items() if a == agent_id}
        caps = {ch: c for ch, c in profile.capacity.items() if c > 0}
        for channel, n in load.items():
            assert n <= caps.get(channel, 0), (agent_id, channel, load, caps)
        if profile.mixing is ChannelMixing.SHARED and load:
            assert sum(n / caps[ch] for ch, n in load.items()) <= 1 + 1e-9
        if profile.mixing is ChannelMixing.EXCLUSIVE:
            assert len(load) <= 1
    # relaxation never before its time
    for snap in snaps.values():
        queue = compiled[snap.request.queue_id]
        due = sum(1 for t in queue.step_times_s if snap.waiting_since + t <= now)
        assert snap.stage <= due
    status, commands = result
    if status != "ok":
        return
    previous_key = None
    called_back = {c.contact_id for c in commands if isinstance(c, CallbackDue)}
    for command in commands:
        if isinstance(command, ContactRelaxed):
            assert command.at <= now
            snap = snaps.get(command.contact_id)
            if snap is not None and command.contact_id not in called_back:
                step_time = compiled[command.queue_id].step_times_s[command.step_index]
                assert command.at == snap.waiting_since + step_time
        if not isinstance(command, Offer):
            continue
        snap = snaps[command.contact_id]
        assert snap.state is ContactState.OFFERED
        assert snap.agent_id == command.agent_id
        agent = engine.agent_snapshot(command.agent_id)
        assert agent.state is AgentState.AVAILABLE
        queue = compiled[snap.request.queue_id]
        if snap.target_agent_id is not None:
            assert command.agent_id == snap.target_agent_id
        else:
            assert command.agent_id not in snap.excluded_agents
            assert command.via_queue_id in queue.lines_by_stage[snap.stage]
            assert command.via_queue_id in agent.profile.queues
            for skill, level in effective_skills(queue, snap.request.skills, snap.stage):
                assert agent.profile.skills.get(skill, 0) >= level
            for expression in queue.expressions_by_stage[snap.stage]:
                assert expression.matches(agent.profile.attributes, snap.request.attributes)
        # offers of one tick go out in priority order: higher effective priority first,
        # FIFO (start of wait, then sequence) among equals
        config = queue.config
        effective = (
            config.priority
            + snap.request.priority
            + config.tier_weight * snap.request.tier
            + config.ageing_per_s * (now - snap.waiting_since)
        )
        key = (-effective, snap.waiting_since, snap.seq)
        assert previous_key is None or previous_key <= key
        previous_key = key


def check_maximal(engine):
    """After a tick, no waiting contact has an eligible agent left."""
    for contact in engine._contacts.values():
        if contact.state is not ContactState.WAITING:
            continue
        for agent in engine._agents.values():
            serves = contact.requirement.target_agent is not None or any(
                line in agent.queues for line in contact.lines
            )
            assert not (serves and is_eligible(agent, contact.requirement)), (
                contact.contact_id,
                agent.agent_id,
            )


def run_pair(queues, profiles, initial, ops: list[Op], restore_at: int | None = None):
    engine = build(RoutingEngine, queues, profiles, initial)
    scan = build(ScanRouter, queues, profiles, initial)
    compiled = validate_queues(queues)
    expected: set[str] = set()
    now = 0.0
    for index, op in enumerate(ops):
        if restore_at == index:
            engine = RoutingEngine.restore(engine.snapshot())
        now += op.dt
        before = states_of(engine)
        assert before == states_of(scan)
        got = apply(engine, op, now, profiles, lambda b=before: b)
        want = apply(scan, op, now, profiles, lambda b=before: b)
        assert got == want, (index, op)
        status, commands = got
        if status == "ok":
            if op.kind == "enqueue":
                expected.add(op.args["contact_id"])
            elif op.kind in ("cancel", "complete", "complete_all") and set(before) != set(
                engine.contact_ids()
            ):
                expected -= set(before) - set(engine.contact_ids())
        check_invariants(engine, compiled, now, expected, got, before)
        if op.kind == "tick" and status == "ok":
            check_maximal(engine)
            wake = engine.next_wakeup(now)
            assert wake is None or wake > now
            assert wake == scan.next_wakeup(now)
    # drain: everything still due happens, and both agree to the end
    for _ in range(3):
        wake = engine.next_wakeup(now)
        assert wake == scan.next_wakeup(now)
        if wake is None:
            break
        now = max(now, wake)
        assert engine.tick(now) == scan.tick(now)
        check_maximal(engine)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(worlds())
def test_engine_decides_like_the_brute_force_scan(world):
    queues, profiles, initial, ops = world
    run_pair(queues, profiles, initial, ops)


@FAST
@given(worlds(), st.integers(0, 60))
def test_restored_engine_makes_the_same_future_decisions(world, restore_at):
    queues, profiles, initial, ops = world
    run_pair(queues, profiles, initial, ops, restore_at=restore_at % (len(ops) + 1))


@pytest.mark.slow
@THOROUGH
@given(worlds(max_ops=120))
def test_engine_decides_like_the_brute_force_scan_long_runs(world):
    queues, profiles, initial, ops = world
    run_pair(queues, profiles, initial, ops)


@pytest.mark.slow
@THOROUGH
@given(worlds(), st.integers(0, 60))
def test_restored_engine_makes_the_same_future_decisions_thoroughly(world, restore_at):
    queues, profiles, initial, ops = world
    run_pair(queues, profiles, initial, ops, restore_at=restore_at % (len(ops) + 1))
