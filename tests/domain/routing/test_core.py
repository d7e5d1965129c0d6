"""Unit tests per routing rule and operation, run on the engine and the scan alike."""

import pytest

from lianluo.domain.routing import (
    AgentProfile,
    AgentState,
    AgentStateChanged,
    CallbackDue,
    ClockError,
    ContactOverflowed,
    ContactRelaxed,
    ContactRequest,
    ContactState,
    DuplicateIdError,
    InvalidStateError,
    Offer,
    OfferExpired,
    OfferRescinded,
    QueueConfig,
    RelaxationStep,
    RoutingEngine,
    ScanRouter,
    SelectionPolicy,
    UnknownQueueError,
)

AVAILABLE = AgentState.AVAILABLE


@pytest.fixture(params=[RoutingEngine, ScanRouter], ids=["engine", "scan"])
def router_cls(request):
    return request.param


def offers(commands):
    return [(c.contact_id, c.agent_id) for c in commands if isinstance(c, Offer)]


def make(router_cls, *queues, agents=()):
    router = router_cls(queues or [QueueConfig("q")])
    for profile in agents:
        router.add_agent(profile, 0.0, AVAILABLE)
    return router


def voice_agent(agent_id, queues=("q",), **skills):
    return AgentProfile(agent_id, frozenset(queues), skills, {"voice": 1})


def test_contact_is_offered_only_to_an_agent_with_every_skill_at_level(router_cls):
    router = make(router_cls, agents=[voice_agent("low", billing=3), voice_agent("hi", billing=6)])
    router.enqueue(ContactRequest("c", "q", 0.0, skills={"billing": 5}), 0.0)
    assert offers(router.tick(0.0)) == [("c", "hi")]


def test_higher_effective_priority_first_then_fifo(router_cls):
    router = make(router_cls, QueueConfig("q", tier_weight=10.0))
    router.enqueue(ContactRequest("first", "q", 0.0), 0.0)
    router.enqueue(ContactRequest("second", "q", 0.0), 0.0)
    router.enqueue(ContactRequest("vip", "q", 1.0, tier=1), 1.0)
    router.add_agent(voice_agent("a"), 1.0, AVAILABLE)
    assert offers(router.tick(1.0)) == [("vip", "a")]
    router.accept("vip", "a", 1.0)
    router.complete("vip", 2.0)
    assert offers(router.tick(2.0)) == [("first", "a")]


def test_ageing_lets_an_old_contact_overtake_a_higher_base_priority(router_cls):
    slow = QueueConfig("slow", priority=0.0, ageing_per_s=1.0)
    fast = QueueConfig("fast", priority=10.0, ageing_per_s=0.0)
    router = make(router_cls, slow, fast)
    router.enqueue(ContactRequest("old", "slow", 0.0), 0.0)
    router.enqueue(ContactRequest("new", "fast", 5.0), 5.0)
    router.add_agent(voice_agent("a", ("slow", "fast")), 5.0, AVAILABLE)
    assert offers(router.tick(5.0)) == [("new", "a")]  # 10 > 5
    router.cancel("new", 6.0)
    router.enqueue(ContactRequest("new2", "fast", 6.0), 6.0)
    router.set_agent_state("a", AgentState.BREAK, 6.0)
    router.set_agent_state("a", AVAILABLE, 12.0)
    assert offers(router.tick(12.0)) == [("old", "a")]  # 12 > 10


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (SelectionPolicy.LONGEST_IDLE, "idle_long"),
        (SelectionPolicy.BEST_PROFICIENCY, "expert"),
        (SelectionPolicy.LEAST_LOADED, "empty"),
    ],
)
def test_queue_policy_picks_among_eligible_agents(router_cls, policy, expected):
    router = router_cls([QueueConfig("q", policy=policy, skills={"billing": 1})])
    chat = {"chat": 4}
    for agent_id, level in (("idle_long", 2), ("expert", 9), ("empty", 3)):
        router.add_agent(AgentProfile(agent_id, frozenset({"q"}), {"billing": level}, chat), 0.0)
    # idle_long gets a chat at 4 (changed longest ago), expert one at 4.5,
    # empty has no chat but became available last, at 5
    for agent_id, at in (("idle_long", 4.0), ("expert", 4.5)):
        router.set_agent_state(agent_id, AVAILABLE, at)
        router.enqueue(ContactRequest(f"for_{agent_id}", "q", at, channel="chat"), at)
        router.transfer(f"for_{agent_id}", at, to_agent=agent_id)
        assert offers(router.tick(at)) == [(f"for_{agent_id}", agent_id)]
        router.accept(f"for_{agent_id}", agent_id, at)
    router.set_agent_state("empty", AVAILABLE, 5.0)
    router.enqueue(ContactRequest("next", "q", 6.0, channel="chat"), 6.0)
    assert offers(router.tick(6.0)) == [("next", expected)]


def test_attribute_expression_filters_agents(router_cls):
    queue = QueueConfig("q", expression="agent.lang == contact.lang")
    router = router_cls([queue])
    router.add_agent(
        AgentProfile("zh", frozenset({"q"}), attributes={"lang": "zh"}), 0.0, AVAILABLE
    )
    router.add_agent(AgentProfile("yue", frozenset({"q"}), attributes={"lang": "yue"}), 0.0)
    router.set_agent_state("yue", AVAILABLE, 0.5)
    router.enqueue(ContactRequest("c", "q", 1.0, attributes={"lang": "yue"}), 1.0)
    assert offers(router.tick(1.0)) == [("c", "yue")]


def test_relaxation_lowers_levels_drops_preference_and_overflows_never_early(router_cls):
    home = QueueConfig(
        "home",
        skills={"billing": 5},
        preference="agent.lang == contact.lang",
        relaxation=(
            RelaxationStep(10.0, lower_levels_by=2),
            RelaxationStep(20.0, drop_preference=True),
            RelaxationStep(30.0, overflow_to=("other",)),
        ),
    )
    router = make(router_cls, home, QueueConfig("other"))
    router.add_agent(
        AgentProfile("l3", frozenset({"home"}), {"billing": 3}, attributes={"lang": "zh"}),
        0.0,
        AVAILABLE,
    )  # noqa: E501
    router.add_agent(
        AgentProfile("l3en", frozenset({"home"}), {"billing": 3}, attributes={"lang": "en"}),
        0.0,
        AVAILABLE,
    )  # noqa: E501
    router.add_agent(
        AgentProfile("ov", frozenset({"other"}), {"billing": 5}, attributes={"lang": "en"}),
        0.0,
        AVAILABLE,
    )  # noqa: E501
    router.enqueue(ContactRequest("c", "home", 0.0, attributes={"lang": "en"}), 0.0)
    assert router.tick(0.0) == []
    assert router.next_wakeup(0.0) == 10.0
    assert router.tick(9.99) == []
    got = router.tick(10.0)  # levels 3 now, but preference (lang en) still applies
    assert got == [
        ContactRelaxed("c", "home", 0, 10.0),
        Offer("c", "l3en", "home", "home", "voice", 10.0, 30.0, False, {}),
    ]


def test_overflow_reaches_other_queue_agents_after_its_time(router_cls):
    home = QueueConfig("home", relaxation=(RelaxationStep(30.0, overflow_to=("other",)),))
    router = make(router_cls, home, QueueConfig("other"))
    router.add_agent(voice_agent("ov", ("other",)), 0.0, AVAILABLE)
    router.enqueue(ContactRequest("c", "home", 0.0), 0.0)
    assert router.tick(29.0) == []
    got = router.tick(31.0)
    assert got[:2] == [
        ContactRelaxed("c", "home", 0, 30.0),
        ContactOverflowed("c", "home", ("other",), 30.0),
    ]
    assert isinstance(got[2], Offer)
    assert got[2].via_queue_id == "other"


def test_offer_timeout_returns_contact_to_its_place_and_agent_not_ready(router_cls):
    router = make(
        router_cls,
        QueueConfig("q", offer_timeout_s=5.0),
        agents=[voice_agent("a"), voice_agent("b")],
    )
    router.set_agent_state("b", AgentState.BREAK, 0.0)
    router.enqueue(ContactRequest("c1", "q", 0.0), 0.0)
    router.enqueue(ContactRequest("c2", "q", 1.0), 1.0)
    assert offers(router.tick(1.0)) == [("c1", "a")]
    assert router.next_wakeup(1.0) == 6.0
    router.set_agent_state("b", AVAILABLE, 5.0)
    assert offers(router.tick(5.0)) == [("c2", "b")]
    got = router.tick(6.0)
    assert got[:2] == [
        OfferExpired("c1", "a", 6.0),
        AgentStateChanged("a", AgentState.BREAK, "missed", 6.0),
    ]
    with pytest.raises(InvalidStateError):
        router.accept("c1", "a", 6.0)
    snap = router.contact_snapshot("c1")
    assert snap.state is ContactState.WAITING
    assert snap.waiting_since == 0.0
    assert "a" in snap.excluded_agents


def test_reject_returns_contact_and_it_goes_to_the_next_agent(router_cls):
    router = make(
        router_cls, QueueConfig("q", not_ready_on_reject=False), agents=[voice_agent("a")]
    )
    router.enqueue(ContactRequest("c", "q", 0.0), 0.0)
    assert offers(router.tick(0.0)) == [("c", "a")]
    assert router.reject("c", "a", 1.0) == []
    assert router.tick(1.0) == []  # never back to the agent who declined
    router.add_agent(voice_agent("b"), 2.0, AVAILABLE)
    assert offers(router.tick(2.0)) == [("c", "b")]


def test_transfer_to_agent_carries_context_and_frees_the_first_agent(router_cls):
    router = make(
        router_cls,
        QueueConfig("q"),
        QueueConfig("t2"),
        agents=[voice_agent("a"), voice_agent("b", ("t2",))],
    )
    router.enqueue(ContactRequest("c", "q", 0.0, context={"ivr": "billing"}), 0.0)
    router.tick(0.0)
    router.accept("c", "a", 0.0)
    router.set_agent_state("b", AgentState.BUSY, 0.0)
    assert router.transfer("c", 5.0, to_agent="b", context={"note": "wants refund"}) == []
    assert router.agent_load("a") == {}
    assert router.tick(5.0) == []  # b is busy: waits for b only, not for a
    router.set_agent_state("b", AVAILABLE, 6.0)
    (offer,) = router.tick(6.0)
    assert (offer.agent_id, offer.queue_id) == ("b", "q")
    assert offer.context == {"ivr": "billing", "note": "wants refund"}


def test_transfer_to_queue_rescinds_a_pending_offer(router_cls):
    router = make(router_cls, QueueConfig("q"), QueueConfig("t2"), agents=[voice_agent("a")])
    router.enqueue(ContactRequest("c", "q", 0.0), 0.0)
    router.tick(0.0)
    assert router.transfer("c", 1.0, to_queue="t2") == [OfferRescinded("c", "a", 1.0)]
    snap = router.contact_snapshot("c")
    assert (snap.request.queue_id, snap.waiting_since, snap.state) == ("t2", 1.0, "waiting")


def test_virtual_hold_keeps_the_place_and_offers_a_callback(router_cls):
    router = make(router_cls)
    router.enqueue(ContactRequest("c1", "q", 0.0), 0.0)
    router.enqueue(ContactRequest("c2", "q", 1.0), 1.0)
    router.request_callback("c1", 2.0)
    router.add_agent(voice_agent("a"), 3.0, AVAILABLE)
    (offer,) = router.tick(3.0)
    assert (offer.contact_id, offer.callback) == ("c1", True)


def test_scheduled_callback_reenters_at_its_time_with_its_priority(router_cls):
    router = make(router_cls, QueueConfig("q", tier_weight=5.0))
    router.enqueue(ContactRequest("vip", "q", 0.0, tier=1), 0.0)
    router.request_callback("vip", 1.0, at=100.0)
    assert router.next_wakeup(1.0) == 100.0
    router.enqueue(ContactRequest("plain", "q", 50.0), 50.0)
    assert router.tick(99.0) == []
    router.add_agent(voice_agent("a"), 99.5, AVAILABLE)
    assert offers(router.tick(99.5)) == [("plain", "a")]
    router.enqueue(ContactRequest("plain2", "q", 99.5), 99.5)
    router.add_agent(voice_agent("b"), 99.6, AVAILABLE)
    router.set_agent_state("b", AgentState.BREAK, 99.6)
    router.set_agent_state("b", AVAILABLE, 100.0)
    got = router.tick(100.0)
    assert got[0] == CallbackDue("vip", "q", 100.0)
    assert offers(got) == [("vip", "b")]  # tier 1 beats plain2 although plain2 waited longer


def test_capacity_per_channel_is_respected(router_cls):
    router = make(router_cls)
    router.add_agent(AgentProfile("a", frozenset({"q"}), capacity={"chat": 2}), 0.0, AVAILABLE)
    for i in range(3):
        router.enqueue(ContactRequest(f"c{i}", "q", 0.0, channel="chat"), 0.0)
    router.enqueue(ContactRequest("v", "q", 0.0, channel="voice"), 0.0)
    assert offers(router.tick(0.0)) == [("c0", "a"), ("c1", "a")]
    router.accept("c0", "a", 1.0)
    router.complete("c0", 2.0)
    assert offers(router.tick(2.0)) == [("c2", "a")]


def test_operations_reject_bad_input(router_cls):
    router = make(router_cls)
    router.enqueue(ContactRequest("c", "q", 0.0), 1.0)
    with pytest.raises(DuplicateIdError):
        router.enqueue(ContactRequest("c", "q", 0.0), 1.0)
    with pytest.raises(UnknownQueueError):
        router.enqueue(ContactRequest("d", "nope", 0.0), 1.0)
    with pytest.raises(InvalidStateError):
        router.complete("c", 1.0)
    with pytest.raises(ClockError):
        router.tick(0.5)


def test_next_wakeup_is_none_when_nothing_is_pending(router_cls):
    router = make(router_cls)
    assert router.next_wakeup(0.0) is None
    router.enqueue(ContactRequest("c", "q", 0.0), 0.0)
    assert router.next_wakeup(0.0) is None  # no relaxation, no offers: only new input helps


def test_a_better_contact_joining_a_waiting_group_goes_first():
    # two groups of equal requirements compete for one agent; the second group's head is
    # replaced by a higher-priority newcomer after both were blocked
    router = RoutingEngine([QueueConfig("q", tier_weight=10.0)])
    router.add_agent(AgentProfile("a", frozenset({"q"}), {"x": 5, "y": 5}), 0.0)
    router.enqueue(ContactRequest("x_old", "q", 0.0, skills={"x": 1}), 0.0)
    router.enqueue(ContactRequest("y_old", "q", 1.0, skills={"y": 1}), 1.0)
    assert router.tick(1.0) == []
    router.enqueue(ContactRequest("y_vip", "q", 2.0, skills={"y": 1}, tier=1), 2.0)
    assert router.tick(2.0) == []
    router.set_agent_state("a", AVAILABLE, 3.0)
    assert offers(router.tick(3.0)) == [("y_vip", "a")]


def test_new_contact_finds_an_idle_agent_that_just_gained_the_skill(router_cls):
    # the engine remembers that no idle agent of the queue had the skill; a change of agent
    # must undo that before a new contact with the same needs looks again
    router = make(router_cls, agents=[voice_agent("idle", billing=1)])
    router.enqueue(ContactRequest("c1", "q", 0.0, skills={"billing": 5}), 0.0)
    assert offers(router.tick(0.0)) == []
    router.cancel("c1", 1.0)
    router.enqueue(ContactRequest("c2", "q", 1.0, skills={"billing": 5}), 1.0)
    assert offers(router.tick(1.0)) == []
    router.cancel("c2", 2.0)
    router.update_agent(voice_agent("idle", billing=6), 2.0)
    router.enqueue(ContactRequest("c3", "q", 2.0, skills={"billing": 5}), 2.0)
    assert offers(router.tick(2.0)) == [("c3", "idle")]
