import pytest

from lianluo.domain.routing import (
    AgentConfigError,
    AgentProfile,
    AgentState,
    ChannelMixing,
    ExpressionError,
    QueueConfig,
    QueueConfigError,
    RelaxationStep,
    validate_queue,
    validate_queues,
)
from lianluo.domain.routing.rules import (
    AgentRuntime,
    add_load,
    can_take,
    effective_skills,
    order_key,
    static_priority,
)


def test_bad_expression_is_rejected_when_the_queue_is_saved_with_its_position():
    config = QueueConfig("sales", expression='language in ["yue" "zh"]')
    with pytest.raises(ExpressionError) as info:
        validate_queue(config, set())
    assert info.value.position == 19
    assert info.value.queue_id == "sales"
    assert info.value.field == "expression"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (QueueConfig("q", skills={"billing": 11}), "skills.billing"),
        (QueueConfig("q", skills={"billing": 0}), "skills.billing"),
        (
            QueueConfig("q", relaxation=(RelaxationStep(60), RelaxationStep(30))),
            "relaxation[1].after_s",
        ),
        (QueueConfig("q", relaxation=(RelaxationStep(0),)), "relaxation[0].after_s"),
        (
            QueueConfig("q", relaxation=(RelaxationStep(10, overflow_to=("nowhere",)),)),
            "relaxation[0].overflow_to",
        ),
        (
            QueueConfig("q", relaxation=(RelaxationStep(10, overflow_to=("q",)),)),
            "relaxation[0].overflow_to",
        ),
        (
            QueueConfig("q", relaxation=(RelaxationStep(10, lower_levels_by=-1),)),
            "relaxation[0].lower_levels_by",
        ),
        (
            QueueConfig("q", relaxation=(RelaxationStep(10, drop_preference=True),)),
            "relaxation[0].drop_preference",
        ),
        (QueueConfig("q", offer_timeout_s=0), "offer_timeout_s"),
        (QueueConfig("q", ageing_per_s=float("nan")), "ageing_per_s"),
    ],
)
def test_invalid_queue_configs_are_rejected(config, field):
    with pytest.raises(QueueConfigError) as info:
        validate_queue(config, {"other"})
    assert info.value.field == field
    assert info.value.queue_id == "q"


def test_queues_may_overflow_to_each_other_when_validated_together():
    a = QueueConfig("a", relaxation=(RelaxationStep(10, overflow_to=("b",)),))
    b = QueueConfig("b", relaxation=(RelaxationStep(10, overflow_to=("a",)),))
    compiled = validate_queues([a, b])
    assert compiled["a"].lines_by_stage == (("a",), ("a", "b"))


def test_relaxation_stages_lower_levels_cumulatively_and_never_below_one():
    config = QueueConfig(
        "q",
        skills={"billing": 5, "mandarin": 2},
        preference="agent.lang == contact.lang",
        relaxation=(
            RelaxationStep(20, lower_levels_by=2),
            RelaxationStep(40, lower_levels_by=2, drop_preference=True),
        ),
    )
    queue = validate_queue(config, set())
    assert effective_skills(queue, {"billing": 7}, 0) == (("billing", 7), ("mandarin", 2))
    assert effective_skills(queue, {"billing": 7}, 1) == (("billing", 5), ("mandarin", 1))
    assert effective_skills(queue, {"billing": 7}, 2) == (("billing", 3), ("mandarin", 1))
    assert len(queue.expressions_by_stage[1]) == 1
    assert queue.expressions_by_stage[2] == ()


def agent(capacity, mixing):
    profile = AgentProfile("a", capacity=capacity, mixing=mixing)
    return AgentRuntime(profile, AgentState.AVAILABLE, None, 0.0)


def test_shared_capacity_counts_each_contact_as_a_fraction_of_the_agent():
    a = agent({"voice": 1, "chat": 3, "email": 5}, ChannelMixing.SHARED)
    add_load(a, "chat", 1)
    assert not can_take(a, "voice")
    assert can_take(a, "chat")
    assert can_take(a, "email")
    add_load(a, "chat", 1)
    add_load(a, "email", 1)  # 2/3 + 1/5 < 1
    assert not can_take(a, "chat")  # 2/3 + 1/5 + 1/3 > 1
    assert not can_take(a, "email")  # 2/3 + 2/5 > 1


def test_exclusive_capacity_serves_one_channel_at_a_time():
    a = agent({"voice": 1, "chat": 3}, ChannelMixing.EXCLUSIVE)
    add_load(a, "chat", 2)
    assert can_take(a, "chat")
    assert not can_take(a, "voice")


def test_independent_capacity_keeps_channels_apart():
    a = agent({"voice": 1, "chat": 3}, ChannelMixing.INDEPENDENT)
    add_load(a, "chat", 3)
    assert can_take(a, "voice")
    assert not can_take(a, "chat")


def test_agent_levels_outside_one_to_ten_are_rejected():
    with pytest.raises(AgentConfigError):
        AgentRuntime(AgentProfile("a", skills={"x": 11}), AgentState.OFFLINE, None, 0.0)
    with pytest.raises(AgentConfigError):
        AgentRuntime(AgentProfile("a", capacity={"voice": -1}), AgentState.OFFLINE, None, 0.0)


def test_static_priority_orders_like_effective_priority_at_any_time():
    # two contacts of one queue: base 5 arriving at 100 vs base 0 arriving at 50, rate 0.1
    a = static_priority(5.0, 0.1, 100.0)
    b = static_priority(0.0, 0.1, 50.0)
    for now in (100.0, 130.0, 1000.0):
        eff_a = 5.0 + 0.1 * (now - 100.0)
        eff_b = 0.0 + 0.1 * (now - 50.0)
        assert (order_key(a, 0.1, now, 100.0, 1) < order_key(b, 0.1, now, 50.0, 0)) == (
            eff_a > eff_b
        )
