"""Random routing scenarios for property tests: a small world and a stream of operations.

Values are dyadic (times in quarter seconds, ageing rates 0/0.5/1/2) so that priority
arithmetic is exact and the fast engine and the scan cannot differ by rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from lianluo.domain.routing import (
    AgentProfile,
    AgentState,
    ChannelMixing,
    ContactRequest,
    QueueConfig,
    RelaxationStep,
    RoutingError,
    SelectionPolicy,
)

SKILLS = ("billing", "tech", "cantonese")
CHANNELS = ("voice", "chat", "email")
LANGS = ("zh", "yue", "en")
QUEUE_IDS = ("q0", "q1", "q2")
STATES = (AgentState.AVAILABLE, AgentState.AVAILABLE, AgentState.BREAK, AgentState.OFFLINE)

EXPRESSIONS = (
    None,
    None,
    "agent.lang == contact.lang or contact.lang == null",
    'lang in ["zh", "yue"]',
    "agent.senior == true or contact.vip != true",
)
PREFERENCES = (None, "agent.lang == contact.lang", "agent.region == contact.region")


@st.composite
def queue_configs(draw: st.DrawFn) -> tuple[QueueConfig, ...]:
    configs = []
    for index, qid in enumerate(QUEUE_IDS):
        preference = draw(st.sampled_from(PREFERENCES))
        steps = []
        after = 0.0
        for _ in range(draw(st.integers(0, 3))):
            after += draw(st.sampled_from((1.0, 2.5, 4.0, 8.0)))
            others = [q for q in QUEUE_IDS if q != qid]
            steps.append(
                RelaxationStep(
                    after_s=after,
                    lower_levels_by=draw(st.integers(0, 2)),
                    drop_preference=preference is not None and draw(st.booleans()),
                    overflow_to=tuple(draw(st.lists(st.sampled_from(others), max_size=1))),
                )
            )
        configs.append(
            QueueConfig(
                queue_id=qid,
                priority=draw(st.sampled_from((0.0, 1.0, 2.0))),
                policy=draw(st.sampled_from(list(SelectionPolicy))),
                ageing_per_s=draw(st.sampled_from((0.0, 0.5, 1.0, 2.0))),
                tier_weight=draw(st.sampled_from((0.0, 1.0, 4.0))),
                skills=draw(
                    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 4), max_size=1)
                ),
                expression=draw(st.sampled_from(EXPRESSIONS)) if index else None,
                preference=preference,
                relaxation=tuple(steps),
                offer_timeout_s=draw(st.sampled_from((2.0, 5.0))),
                not_ready_on_reject=draw(st.booleans()),
                not_ready_on_timeout=draw(st.booleans()),
            )
        )
    return tuple(configs)


@st.composite
def agent_profiles(draw: st.DrawFn, agent_id: str) -> AgentProfile:
    return AgentProfile(
        agent_id=agent_id,
        queues=frozenset(draw(st.lists(st.sampled_from(QUEUE_IDS), min_size=1, max_size=3))),
        skills=draw(
            st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 6), min_size=2, max_size=3)
        ),
        capacity=draw(
            st.fixed_dictionaries(
                {"voice": st.integers(1, 2)},
                optional={"chat": st.integers(1, 3), "email": st.integers(1, 3)},
            )
        ),
        attributes={
            "lang": draw(st.sampled_from(LANGS)),
            "senior": draw(st.booleans()),
            "region": draw(st.sampled_from(("north", "south"))),
        },
        mixing=draw(st.sampled_from(list(ChannelMixing))),
    )


@dataclass
class Op:
    kind: str
    dt: float
    args: dict[str, Any]


@st.composite
def operations(draw: st.DrawFn, n_agents: int, max_ops: int = 60) -> list[Op]:
    ops = []
    n_contacts = 0
    for _ in range(draw(st.integers(1, max_ops))):
        dt = draw(st.sampled_from((0.0, 0.0, 0.25, 0.5, 1.0, 2.5, 6.0)))
        kind = draw(
            st.sampled_from(
                (
                    "enqueue",
                    "enqueue",
                    "enqueue",
                    "tick",
                    "tick",
                    "tick",
                    "state",
                    "accept",
                    "accept",
                    "reject",
                    "complete",
                    "complete",
                    "cancel",
                    "transfer",
                    "callback",
                    "update",
                    "readd",
                    "all_available",
                    "complete_all",
                )
            )
        )
        args: dict[str, Any] = {}
        if kind == "enqueue":
            args = {
                "contact_id": f"c{n_contacts}",
                "queue_id": draw(st.sampled_from(QUEUE_IDS)),
                "channel": draw(st.sampled_from(("voice", "voice", "chat", "email"))),
                "skills": draw(
                    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=1)
                ),
                "attributes": {
                    "lang": draw(st.sampled_from((*LANGS, None))),
                    "vip": draw(st.booleans()),
                    "region": draw(st.sampled_from(("north", "south"))),
                },
                "tier": draw(st.integers(0, 2)),
                "priority": draw(st.sampled_from((0.0, 0.0, 1.0, 3.0))),
                "ago": draw(st.sampled_from((0.0, 0.0, 1.0, 3.0))),
            }
            n_contacts += 1
        elif kind == "state":
            args = {
                "agent": draw(st.integers(0, n_agents - 1)),
                "state": draw(st.sampled_from(STATES)),
            }
        elif kind in ("accept", "reject", "complete", "cancel", "callback"):
            args = {"pick": draw(st.integers(0, 10**6)), "later": draw(st.booleans())}
            args["delay"] = draw(st.sampled_from((0.0, 1.5, 4.0)))
        elif kind == "transfer":
            args = {
                "pick": draw(st.integers(0, 10**6)),
                "to_queue": draw(st.sampled_from((*QUEUE_IDS, None))),
                "to_agent": draw(st.sampled_from((None, 0, 1, 2))),
            }
        elif kind == "readd":
            args = {"agent": draw(st.integers(0, n_agents - 1))}
        elif kind == "update":
            args = {
                "agent": draw(st.integers(0, n_agents - 1)),
                "skills": draw(
                    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 6), max_size=3)
                ),
                "lang": draw(st.sampled_from(LANGS)),
            }
        ops.append(Op(kind, dt, args))
    return ops


def _pick(ids: list[str], pick: int) -> str | None:
    return ids[pick % len(ids)] if ids else None


def apply(
    router: Any,
    op: Op,
    now: float,
    profiles: list[AgentProfile],
    contact_states: Callable[[], dict[str, tuple[str, str | None]]],
) -> tuple[str, Any]:
    """Apply one operation; return ("ok", commands) or ("error", exception type name).

    contact_states() -> {contact_id: (state, agent_id)} as seen before the operation; it must
    be computed from the same router state for both routers so they get the same choice.
    """
    a = op.args
    try:
        if op.kind == "tick":
            return "ok", router.tick(now)
        if op.kind == "enqueue":
            request = ContactRequest(
                contact_id=a["contact_id"],
                queue_id=a["queue_id"],
                arrived_at=now - a["ago"],
                channel=a["channel"],
                skills=a["skills"],
                attributes=a["attributes"],
                tier=a["tier"],
                priority=a["priority"],
                context={"n": a["contact_id"]},
            )
            return "ok", router.enqueue(request, now)
        if op.kind == "state":
            agent_id = profiles[a["agent"]].agent_id
            return "ok", router.set_agent_state(agent_id, a["state"], now, "test")
        if op.kind == "all_available":
            out: list[Any] = []
            for profile in profiles:
                out += router.set_agent_state(profile.agent_id, AgentState.AVAILABLE, now)
            return "ok", out
        if op.kind == "readd":
            # removed and registered again under the same id: nothing of the old agent may
            # linger in an index (an agent with contacts cannot be removed: an error for both)
            base = profiles[a["agent"]]
            commands = router.remove_agent(base.agent_id, now)
            return "ok", commands + router.add_agent(base, now, AgentState.AVAILABLE)
        if op.kind == "update":
            base = profiles[a["agent"]]
            profile = AgentProfile(
                agent_id=base.agent_id,
                queues=base.queues,
                skills=a["skills"],
                capacity=base.capacity,
                attributes={**base.attributes, "lang": a["lang"]},
                mixing=base.mixing,
            )
            return "ok", router.update_agent(profile, now)
        states = contact_states()
        if op.kind in ("accept", "reject"):
            ids = sorted(cid for cid, (s, _) in states.items() if s == "offered")
            cid = _pick(ids, a["pick"])
            if cid is None:
                return "ok", []
            agent_id = states[cid][1]
            if op.kind == "accept":
                return "ok", router.accept(cid, agent_id, now)
            return "ok", router.reject(cid, agent_id, now)
        if op.kind == "complete":
            ids = sorted(cid for cid, (s, _) in states.items() if s == "connected")
            cid = _pick(ids, a["pick"])
            return "ok", [] if cid is None else router.complete(cid, now)
        if op.kind == "complete_all":
            out = []
            for cid in sorted(cid for cid, (s, _) in states.items() if s == "connected"):
                out += router.complete(cid, now)
            return "ok", out
        if op.kind == "cancel":
            ids = sorted(cid for cid, (s, _) in states.items() if s != "connected")
            cid = _pick(ids, a["pick"])
            return "ok", [] if cid is None else router.cancel(cid, now)
        if op.kind == "callback":
            ids = sorted(cid for cid, (s, _) in states.items() if s == "waiting")
            cid = _pick(ids, a["pick"])
            if cid is None:
                return "ok", []
            at = now + a["delay"] if a["later"] else None
            return "ok", router.request_callback(cid, now, at)
        if op.kind == "transfer":
            ids = sorted(states)
            cid = _pick(ids, a["pick"])
            if cid is None:
                return "ok", []
            to_agent = None if a["to_agent"] is None else profiles[a["to_agent"]].agent_id
            to_queue = a["to_queue"]
            if to_queue is None and to_agent is None:
                to_queue = "q0"
            return "ok", router.transfer(
                cid, now, to_queue=to_queue, to_agent=to_agent, context={"moved": True}
            )
    except RoutingError as error:
        return "error", type(error).__name__
    raise AssertionError(op.kind)


def states_of(router: Any) -> dict[str, tuple[str, str | None]]:
    out = {}
    for cid in router.contact_ids():
        snap = router.contact_snapshot(cid)
        out[cid] = (str(snap.state), snap.agent_id)
    return out
