"""Random sequences of ticket operations through the API keep the ticket's invariants."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from lianluo.domain.tickets.states import ALLOWED, DONE, OPEN, TicketStatus
from lianluo.models import Ticket

API = "/api/v1"
ACTORS = ("agent", "supervisor", "p_agent")
OPERATIONS = st.one_of(
    st.tuples(st.just("status"), st.sampled_from([str(x) for x in TicketStatus])),
    st.tuples(st.just("escalate"), st.just("")),
    st.tuples(st.just("assign"), st.sampled_from(["self", "agent", "supervisor"])),
    st.tuples(st.just("note"), st.sampled_from(["note", "reply"])),
    st.tuples(st.just("callback"), st.just("")),
    st.tuples(st.just("rate"), st.sampled_from(["1", "5"])),
)


def test_operation_sequences_keep_ticket_invariants(
    client: Any, world: Any, session: Session
) -> None:
    w = world.a
    admin = world.headers(w.users["admin"])
    tiered = client.post(
        f"{API}/ticket-categories",
        json={
            "name": "属性测试",
            "ownership_model": "tiered",
            "tiers": [
                {"name": "升级", "queue_id": w.queues["general"].id},
                {"name": "支撑", "queue_id": w.queues["general"].id},
            ],
        },
        headers=admin,
    ).json()
    categories = {"first_contact": w.tickets["category:first"].id, "tiered": tiered["id"]}

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        model=st.sampled_from(sorted(categories)),
        operations=st.lists(st.tuples(st.sampled_from(ACTORS[:2]), OPERATIONS), max_size=12),
    )
    def run(model: str, operations: list[tuple[str, tuple[str, str]]]) -> None:
        filer = w.users["agent"]
        created = client.post(
            f"{API}/tickets",
            json={
                "category_id": categories[model],
                "subject": "property",
                "contact_id": w.contacts["general"].id,
            },
            headers=world.headers(filer),
        )
        assert created.status_code == 201, created.text
        ticket = created.json()
        tid, first_owner = ticket["id"], ticket["first_owner_id"]
        status, reopens, tier = TicketStatus.in_progress, 0, 0
        for actor, (kind, arg) in operations:
            headers = world.headers(w.users[actor])
            if kind == "status":
                response = client.post(
                    f"{API}/tickets/{tid}/status", json={"status": arg}, headers=headers
                )
            elif kind == "escalate":
                response = client.post(f"{API}/tickets/{tid}/escalate", json={}, headers=headers)
            elif kind == "assign":
                body = {} if arg == "self" else {"owner_id": w.users[arg].id}
                response = client.post(f"{API}/tickets/{tid}/assign", json=body, headers=headers)
            elif kind == "note":
                response = client.post(
                    f"{API}/tickets/{tid}/entries", json={"kind": arg, "body": "x"}, headers=headers
                )
            elif kind == "callback":
                response = client.post(f"{API}/tickets/{tid}/callback", json={}, headers=headers)
            else:
                response = client.post(
                    f"{API}/tickets/{tid}/rating", json={"score": int(arg)}, headers=headers
                )
            assert response.status_code < 500, response.text
            if kind == "status":
                target = TicketStatus(arg)
                allowed = target in ALLOWED[status] and target != TicketStatus.merged
                if response.status_code == 200:
                    assert allowed
                    reopens += status in DONE and target in OPEN
                    status = target
                elif response.status_code == 409:
                    assert not allowed
            if kind == "escalate" and response.status_code == 200:
                assert status in OPEN
                if model == "tiered" and tier < 2:
                    tier += 1  # a new tier takes it up: no longer waiting on the customer
                    if status == TicketStatus.waiting_customer:
                        status = TicketStatus.in_progress
            body = client.get(f"{API}/tickets/{tid}", headers=world.headers(filer)).json()
            assert body["status"] == status
            assert body["reopens"] == reopens
            assert body["tier"] == tier
            assert body["first_owner_id"] == first_owner
            paused = body["sla"]["state"] == "paused"
            assert paused == (status == TicketStatus.waiting_customer)
            assert (body["sla"]["state"] is None) == (status not in OPEN)
        session.expire_all()
        row = session.get(Ticket, tid)
        assert row is not None
        assert row.owner_id is None or row.owner_id in row.owners
        assert row.tier_changes == row.tier
        assert (row.sla_due_at is None) == (
            status not in (TicketStatus.new, TicketStatus.in_progress)
        )

    run()
