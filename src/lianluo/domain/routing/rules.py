"""The routing rules, shared word for word by the indexed engine and the brute-force scan.

Eligibility, capacity, the order of waiting contacts and the order of agents live here and
nowhere else, so the two routers can only differ in *how* they find a match, never in *which*.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from lianluo.domain.routing.errors import AgentConfigError, ExpressionError, QueueConfigError
from lianluo.domain.routing.expressions import CompiledExpression, compile_expression, freeze
from lianluo.domain.routing.model import (
    AgentProfile,
    AgentState,
    ChannelMixing,
    QueueConfig,
    SelectionPolicy,
)

MIN_LEVEL = 1
MAX_LEVEL = 10

_AVAILABLE = AgentState.AVAILABLE
_SHARED = ChannelMixing.SHARED
_EXCLUSIVE = ChannelMixing.EXCLUSIVE


# ---- queues -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class CompiledQueue:
    """A validated queue with everything per relaxation stage precomputed.

    Stage k means k relaxation steps have taken effect (0 <= k <= len(steps)).
    """

    config: QueueConfig
    skill_names: tuple[str, ...]
    step_times_s: tuple[float, ...]
    lines_by_stage: tuple[tuple[str, ...], ...]
    expressions_by_stage: tuple[tuple[CompiledExpression, ...], ...]
    lower_levels_by_stage: tuple[int, ...]
    contact_attributes_by_stage: tuple[tuple[str, ...], ...]

    @property
    def queue_id(self) -> str:
        return self.config.queue_id


def _check_level(level: object, *, queue_id: str, field_name: str) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise QueueConfigError(
            f"level must be an integer 1-10, got {level!r}", queue_id=queue_id, field=field_name
        )
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise QueueConfigError(
            f"level {level} outside {MIN_LEVEL}-{MAX_LEVEL}", queue_id=queue_id, field=field_name
        )
    return level


def _finite(value: float, *, queue_id: str, field_name: str, minimum: float = 0.0) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise QueueConfigError(f"{value!r} is not a number", queue_id=queue_id, field=field_name)
    if not math.isfinite(value) or value < minimum:
        raise QueueConfigError(
            f"{value!r} must be a finite number >= {minimum}", queue_id=queue_id, field=field_name
        )


def validate_queue(config: QueueConfig, known_queue_ids: Collection[str]) -> CompiledQueue:
    """Validate a queue before it is saved and precompile it.

    Raises `QueueConfigError` (levels outside 1-10, relaxation steps out of order, unknown or
    self overflow queue, bad numbers) or `ExpressionError` with the position of the error.
    `known_queue_ids` are the queues overflow steps may name (the queue's own id excluded).
    Semantics: Genesys Cloud bullseye routing (rings widen with wait); Twilio TaskRouter
    workflow targets with timeouts; Amazon Connect routing-profile queues.
    """
    qid = config.queue_id
    if not isinstance(qid, str) or not qid:
        raise QueueConfigError("queue_id must be a non-empty string")
    if not isinstance(config.policy, SelectionPolicy):
        raise QueueConfigError(f"unknown policy {config.policy!r}", queue_id=qid, field="policy")
    for name in ("priority", "tier_weight"):
        _finite(getattr(config, name), queue_id=qid, field_name=name, minimum=-math.inf)
    for name in ("ageing_per_s", "service_level_s", "offer_timeout_s"):
        _finite(getattr(config, name), queue_id=qid, field_name=name)
    if config.offer_timeout_s <= 0:
        raise QueueConfigError("must be > 0", queue_id=qid, field="offer_timeout_s")
    _finite(config.service_level_pct, queue_id=qid, field_name="service_level_pct")
    if config.service_level_pct > 100:
        raise QueueConfigError("must be <= 100", queue_id=qid, field="service_level_pct")
    for skill, level in config.skills.items():
        _check_level(level, queue_id=qid, field_name=f"skills.{skill}")

    compiled: dict[str, CompiledExpression | None] = {}
    for name in ("expression", "preference"):
        text = getattr(config, name)
        if text is None or (isinstance(text, str) and not text.strip()):
            compiled[name] = None
            continue
        try:
            compiled[name] = compile_expression(text)
        except ExpressionError as error:
            raise error.located(queue_id=qid, field=name) from None

    previous_after = 0.0
    previous_lower = 0
    dropped = False
    lines: list[str] = [qid]
    lines_by_stage = [tuple(lines)]
    lower_by_stage = [0]
    drop_by_stage = [False]
    for index, step in enumerate(config.relaxation):
        where = f"relaxation[{index}]"
        _finite(step.after_s, queue_id=qid, field_name=f"{where}.after_s")
        if step.after_s <= previous_after:
            raise QueueConfigError(
                f"after_s {step.after_s} must be greater than the previous step's "
                f"{previous_after} (steps in order of time, the first after more than 0 s)",
                queue_id=qid,
                field=f"{where}.after_s",
            )
        if isinstance(step.lower_levels_by, bool) or not isinstance(step.lower_levels_by, int):
            raise QueueConfigError(
                "must be an integer", queue_id=qid, field=f"{where}.lower_levels_by"
            )
        if step.lower_levels_by < 0:
            raise QueueConfigError(
                f"{step.lower_levels_by} is negative; relaxation only widens",
                queue_id=qid,
                field=f"{where}.lower_levels_by",
            )
        if step.drop_preference and compiled["preference"] is None:
            raise QueueConfigError(
                "drops a preference the queue does not have",
                queue_id=qid,
                field=f"{where}.drop_preference",
            )
        for target in step.overflow_to:
            if target == qid:
                raise QueueConfigError(
                    "a queue cannot overflow to itself", queue_id=qid, field=f"{where}.overflow_to"
                )
            if target not in known_queue_ids:
                raise QueueConfigError(
                    f"unknown overflow queue {target!r}",
                    queue_id=qid,
                    field=f"{where}.overflow_to",
                )
            if target not in lines:
                lines.append(target)
        previous_after = float(step.after_s)
        previous_lower = min(MAX_LEVEL - MIN_LEVEL, previous_lower + step.lower_levels_by)
        dropped = dropped or step.drop_preference
        lines_by_stage.append(tuple(lines))
        lower_by_stage.append(previous_lower)
        drop_by_stage.append(dropped)

    expressions_by_stage: list[tuple[CompiledExpression, ...]] = []
    attributes_by_stage: list[tuple[str, ...]] = []
    for drop in drop_by_stage:
        active = [compiled["expression"]] + ([] if drop else [compiled["preference"]])
        exprs = tuple(e for e in active if e is not None)
        expressions_by_stage.append(exprs)
        names: set[str] = set()
        for e in exprs:
            names |= e.contact_attributes
        attributes_by_stage.append(tuple(sorted(names)))

    return CompiledQueue(
        config=config,
        skill_names=tuple(sorted(config.skills)),
        step_times_s=tuple(float(s.after_s) for s in config.relaxation),
        lines_by_stage=tuple(lines_by_stage),
        expressions_by_stage=tuple(expressions_by_stage),
        lower_levels_by_stage=tuple(lower_by_stage),
        contact_attributes_by_stage=tuple(attributes_by_stage),
    )


def validate_queues(configs: Collection[QueueConfig]) -> dict[str, CompiledQueue]:
    """Validate a set of queues that may overflow to each other (see `validate_queue`)."""
    ids = [c.queue_id for c in configs]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise QueueConfigError("duplicate queue id", queue_id=duplicate)
    known = set(ids)
    return {c.queue_id: validate_queue(c, known) for c in configs}


def validate_skill_levels(skills: Mapping[str, int], what: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for skill, level in skills.items():
        if isinstance(level, bool) or not isinstance(level, int):
            raise AgentConfigError(f"{what}: level of {skill!r} must be an integer, got {level!r}")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise AgentConfigError(
                f"{what}: level {level} of {skill!r} outside {MIN_LEVEL}-{MAX_LEVEL}"
            )
        out[str(skill)] = level
    return out


# ---- agents -------------------------------------------------------------------------------


class AgentRuntime:
    """An agent as the routers hold it (mutable; internal)."""

    __slots__ = (
        "agent_id",
        "queues",
        "skills",
        "attributes",
        "capacity",
        "mixing",
        "units",
        "total_units",
        "state",
        "reason",
        "load",
        "used_units",
        "total_load",
        "ready_since",
        "version",
        "profile",
        "open",
    )

    def __init__(self, profile: AgentProfile, state: AgentState, reason: str | None, now: float):
        self.agent_id = profile.agent_id
        self.state = state
        self.reason = reason
        self.ready_since = now
        self.version = 0
        # the channels `open_channels` gave when the indexed engine last re-indexed the agent
        self.open: tuple[str, ...] = ()
        self.load: dict[str, int] = {}
        self.used_units = 0
        self.total_load = 0
        self.set_profile(profile)

    def set_profile(self, profile: AgentProfile) -> None:
        if not isinstance(profile.agent_id, str) or not profile.agent_id:
            raise AgentConfigError("agent_id must be a non-empty string")
        what = f"agent {profile.agent_id!r}"
        skills = validate_skill_levels(profile.skills, what)
        capacity: dict[str, int] = {}
        for channel, cap in profile.capacity.items():
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
                raise AgentConfigError(f"{what}: capacity of {channel!r} must be an integer >= 0")
            if cap > 0:
                capacity[str(channel)] = cap
        if not isinstance(profile.mixing, ChannelMixing):
            raise AgentConfigError(f"{what}: unknown channel mixing {profile.mixing!r}")
        self.profile = profile
        self.queues = frozenset(profile.queues)
        self.skills = skills
        self.attributes = dict(profile.attributes)
        self.capacity = capacity
        self.mixing = profile.mixing
        total = math.lcm(*capacity.values()) if capacity else 1
        self.total_units = total
        self.units = {channel: total // cap for channel, cap in capacity.items()}
        self.used_units = sum(self.units.get(ch, total) * n for ch, n in self.load.items())


def can_take(agent: AgentRuntime, channel: str) -> bool:
    """Free capacity on `channel` under the agent's mixing rule (state not considered)."""
    cap = agent.capacity.get(channel, 0)
    if cap <= 0:
        return False
    current = agent.load.get(channel, 0)
    if current >= cap:
        return False
    mixing = agent.mixing
    if mixing is _SHARED:
        return agent.used_units + agent.units[channel] <= agent.total_units
    if mixing is _EXCLUSIVE:
        return agent.total_load == current
    return True


def open_channels(agent: AgentRuntime) -> tuple[str, ...]:
    """Channels the agent could take a contact on now (empty unless AVAILABLE)."""
    if agent.state is not _AVAILABLE:
        return ()
    return tuple([channel for channel in agent.capacity if can_take(agent, channel)])


def add_load(agent: AgentRuntime, channel: str, delta: int) -> None:
    agent.load[channel] = agent.load.get(channel, 0) + delta
    if agent.load[channel] == 0:
        del agent.load[channel]
    agent.used_units += agent.units.get(channel, agent.total_units) * delta
    agent.total_load += delta


def selection_key(queue: CompiledQueue, agent: AgentRuntime) -> tuple[float | str, ...]:
    """Order of agents under the queue's policy: smaller is picked first (SelectionPolicy)."""
    policy = queue.config.policy
    if policy is SelectionPolicy.LONGEST_IDLE:
        return (agent.ready_since, agent.agent_id)
    if policy is SelectionPolicy.BEST_PROFICIENCY:
        skills = agent.skills
        total = 0
        for name in queue.skill_names:
            total += skills.get(name, 0)
        return (-total, agent.ready_since, agent.agent_id)
    return (agent.used_units / agent.total_units, agent.ready_since, agent.agent_id)


# ---- contacts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an agent must satisfy to take a contact; contacts with equal requirements see
    exactly the same agents. `values` are the contact attributes the expressions read."""

    channel: str
    skills: tuple[tuple[str, int], ...]
    expressions: tuple[CompiledExpression, ...]
    frozen_values: tuple[tuple[str, object], ...]
    excluded_agents: frozenset[str]
    target_agent: str | None
    values: Mapping[str, object] = field(compare=False, hash=False)
    # computed once: a requirement is hashed on every step of a contact through the classes
    _hash: int = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        key = (
            self.channel,
            self.skills,
            self.expressions,
            self.frozen_values,
            self.excluded_agents,
            self.target_agent,
        )
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash


def effective_skills(
    queue: CompiledQueue, own_skills: Mapping[str, int], stage: int
) -> tuple[tuple[str, int], ...]:
    """The queue's and the contact's skills (higher level wins), lowered by the stage's
    relaxation, never below 1; sorted by skill name."""
    merged = dict(queue.config.skills)
    for skill, level in own_skills.items():
        if level > merged.get(skill, 0):
            merged[skill] = level
    lower = queue.lower_levels_by_stage[stage]
    return tuple(sorted((s, max(MIN_LEVEL, lvl - lower)) for s, lvl in merged.items()))


def make_requirement(
    queue: CompiledQueue,
    stage: int,
    channel: str,
    own_skills: Mapping[str, int],
    attributes: Mapping[str, object],
    excluded_agents: frozenset[str],
    target_agent: str | None,
) -> Requirement:
    names = queue.contact_attributes_by_stage[stage]
    values = {name: attributes.get(name) for name in names}
    return Requirement(
        channel=channel,
        skills=effective_skills(queue, own_skills, stage),
        expressions=queue.expressions_by_stage[stage],
        frozen_values=tuple((name, freeze(values[name])) for name in names),
        excluded_agents=excluded_agents,
        target_agent=target_agent,
        values=values,
    )


def is_eligible(agent: AgentRuntime, requirement: Requirement) -> bool:
    """DESIGN.md, "Routing semantics": right state, free capacity on the channel, every
    required skill at or above its level, the attribute expressions hold. A contact
    transferred to a named agent needs only that agent's state and capacity. Agents that
    rejected or missed the contact are excluded. (Queue membership is checked by the caller.)
    """
    if agent.state is not _AVAILABLE:
        return False
    if requirement.target_agent is not None:
        return agent.agent_id == requirement.target_agent and can_take(agent, requirement.channel)
    # can_take, inlined: this is the innermost loop of matching
    channel = requirement.channel
    cap = agent.capacity.get(channel, 0)
    if cap <= 0:
        return False
    current = agent.load.get(channel, 0)
    if current >= cap:
        return False
    mixing = agent.mixing
    if mixing is _SHARED:
        if agent.used_units + agent.units[channel] > agent.total_units:
            return False
    elif mixing is _EXCLUSIVE and agent.total_load != current:
        return False
    return meets(agent, requirement)


def meets(agent: AgentRuntime, requirement: Requirement) -> bool:
    """The part of `is_eligible` that does not change with the agent's state and load: not
    excluded, every required skill at or above its level, the attribute expressions hold
    (a requirement sent to a named agent is not checked here)."""
    if requirement.excluded_agents and agent.agent_id in requirement.excluded_agents:
        return False
    skills = agent.skills
    for skill, level in requirement.skills:
        if skills.get(skill, 0) < level:
            return False
    if requirement.expressions:
        attributes = agent.attributes
        values = requirement.values
        for expression in requirement.expressions:
            if not expression.matches(attributes, values):
                return False
    return True


def base_priority(queue: CompiledQueue, tier: int, contact_priority: float) -> float:
    config = queue.config
    return config.priority + contact_priority + config.tier_weight * tier


def static_priority(base: float, ageing_per_s: float, waiting_since: float) -> float:
    """base + rate*(now - since) == static + rate*now: with a common rate, the order of
    waiting contacts never changes as time passes, so it is kept in a heap once."""
    return base - ageing_per_s * waiting_since


def order_key(
    static: float, ageing_per_s: float, now: float, waiting_since: float, seq: int
) -> tuple[float, float, int]:
    """Order of waiting contacts at `now` (smaller first): higher effective priority, then
    earlier start of wait, then earlier enqueue (FIFO)."""
    return (-(static + ageing_per_s * now), waiting_since, seq)
