"""State machine, ownership models, complaint flags and per-model metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianluo.domain.tickets.complaints import EarlierTicket, is_over_the_head, repeat_of
from lianluo.domain.tickets.metrics import TicketFacts, compare_models
from lianluo.domain.tickets.ownership import (
    EscalationKind,
    OwnershipModel,
    escalate,
    may_reassign,
    resolved_end_to_end,
)
from lianluo.domain.tickets.states import (
    ALLOWED,
    TicketStatus,
    TransitionError,
    is_reopen,
    transition,
)

S = TicketStatus
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


class TestStateMachine:
    def test_happy_path(self) -> None:
        status = S.new
        for target in (S.in_progress, S.waiting_customer, S.in_progress, S.resolved, S.closed):
            status = transition(status, target)
        assert status == S.closed

    def test_reopen(self) -> None:
        assert transition(S.closed, S.in_progress) == S.in_progress
        assert is_reopen(S.resolved, S.in_progress)
        assert not is_reopen(S.waiting_customer, S.in_progress)

    def test_refusal_names_what_is_allowed(self) -> None:
        with pytest.raises(TransitionError, match="allowed: closed, in_progress"):
            transition(S.resolved, S.waiting_customer)
        with pytest.raises(TransitionError, match="final"):
            transition(S.merged, S.in_progress)

    @given(st.lists(st.sampled_from(list(S)), max_size=30))
    def test_random_walks_stay_in_the_graph(self, targets: list[TicketStatus]) -> None:
        status, merged = S.new, False
        for target in targets:
            try:
                new = transition(status, target)
            except TransitionError:
                assert target not in ALLOWED[status]
                continue
            assert new in ALLOWED[status]
            assert not merged
            merged = new == S.merged
            status = new


class TestOwnership:
    def test_tiered_moves_to_the_next_tier_then_alerts(self) -> None:
        first = escalate(OwnershipModel.tiered, 0, 2)
        assert (first.kind, first.to_tier, first.keeps_owner) == (
            EscalationKind.next_tier,
            1,
            False,
        )
        assert escalate(OwnershipModel.tiered, 1, 2).to_tier == 2
        last = escalate(OwnershipModel.tiered, 2, 2)
        assert last.kind == EscalationKind.supervisor_alert
        assert last.keeps_owner

    def test_first_contact_owner_keeps_it(self) -> None:
        decision = escalate(OwnershipModel.first_contact, 0, 0)
        assert decision.kind == EscalationKind.supervisor_alert
        assert decision.to_tier == 0

    def test_reassignment_rules(self) -> None:
        fc, tiered = OwnershipModel.first_contact, OwnershipModel.tiered
        assert not may_reassign(fc, by_supervisor=False, taking_it_oneself=True, owned=True)
        assert may_reassign(fc, by_supervisor=False, taking_it_oneself=True, owned=False)
        assert may_reassign(fc, by_supervisor=True, taking_it_oneself=False, owned=True)
        assert may_reassign(tiered, by_supervisor=False, taking_it_oneself=True, owned=True)
        assert not may_reassign(tiered, by_supervisor=False, taking_it_oneself=False, owned=True)

    def test_end_to_end(self) -> None:
        assert resolved_end_to_end("u1", "u1", 0)
        assert not resolved_end_to_end("u1", "u2", 0)
        assert not resolved_end_to_end("u1", "u1", 1)
        assert not resolved_end_to_end(None, None, 0)


class TestComplaints:
    def test_open_earlier_complaint_makes_a_repeat(self) -> None:
        old_open = EarlierTicket("t1", NOW - timedelta(days=90), None)
        assert repeat_of([old_open], NOW, 30) == old_open

    def test_recent_resolved_is_a_repeat_old_is_not(self) -> None:
        recent = EarlierTicket("t1", NOW - timedelta(days=40), NOW - timedelta(days=10))
        old = EarlierTicket("t2", NOW - timedelta(days=90), NOW - timedelta(days=60))
        assert repeat_of([recent, old], NOW, 30) == recent
        assert repeat_of([old], NOW, 30) is None
        assert repeat_of([], NOW, 30) is None

    def test_over_the_head(self) -> None:
        assert is_over_the_head(True, None)
        assert is_over_the_head(False, "regulator")
        assert not is_over_the_head(False, "chat")


def test_metrics_per_model() -> None:
    def facts(model: OwnershipModel, **kw: object) -> TicketFacts:
        base: dict = dict(
            model=model,
            created_at=NOW,
            resolved_at=NOW + timedelta(hours=4),
            first_owner="a",
            resolver="a",
            tier_changes=0,
            reopens=0,
            repeat_complaint=False,
            workers=frozenset({"a"}),
        )
        base.update(kw)
        return TicketFacts(**base)

    fc, tiered = OwnershipModel.first_contact, OwnershipModel.tiered
    rows = [
        facts(fc, resolved_at=NOW + timedelta(hours=10)),
        facts(fc, resolved_at=None),
        facts(tiered, resolver="b", tier_changes=1, workers=frozenset({"a", "b"})),
        facts(
            tiered,
            first_owner="c",
            resolver="d",
            tier_changes=2,
            reopens=1,
            repeat_complaint=True,
            is_complaint=True,
            workers=frozenset({"c", "d", "e"}),
        ),
    ]
    metrics = compare_models(rows)
    assert metrics[fc].tickets == 2
    assert metrics[fc].resolved == 1
    assert metrics[fc].effectiveness == 1.0
    assert metrics[fc].mean_duration_s == 10 * 3600
    assert metrics[fc].follow_up_staff == 0
    assert metrics[tiered].effectiveness == 0.0
    assert metrics[tiered].reopen_rate == 0.5
    assert metrics[tiered].complaints == 1
    assert metrics[tiered].repeat_complaint_rate == 1.0
    assert metrics[tiered].follow_up_staff == 3  # b, d, e
