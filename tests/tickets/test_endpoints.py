"""Tickets through the API on SQLite and PostgreSQL: both ownership models end to end (a contact
becomes a ticket, is kept or escalated, resolved and rated), SLA breach escalation by the sweep,
complaint flags, notes versus replies, attachments, merges, call-backs and metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from lianluo.db.base import utcnow
from lianluo.models import Agent, AgentSkill, Event, Skill, Ticket
from lianluo.tickets.tasks import sweep_once
from tests.factories import make_contact, make_user

API = "/api/v1"


@pytest.fixture
def floor(world: Any, session: Session) -> dict[str, Any]:
    """Tenant A with a tiered category whose second tier (支撑) needs network skill 5, a
    second agent without it and a third agent holding it."""
    w = world.a
    network = Skill(tenant_id=w.tenant.id, name="network")
    session.add(network)
    session.flush()
    users = {}
    for name, level in (("agent2", None), ("expert", 6)):
        user = make_user(session, w.tenant, f"ta-{name}", ["agent"])
        agent = Agent(tenant_id=w.tenant.id, user_id=user.id, capacity={"chat": 2})
        session.add(agent)
        session.flush()
        if level:
            session.add(
                AgentSkill(
                    tenant_id=w.tenant.id, agent_id=agent.id, skill_id=network.id, level=level
                )
            )
        users[name] = user
    session.commit()
    return {"w": w, **users}


def h(world: Any, user: Any) -> dict[str, str]:
    return world.headers(user)


def create_category(client: Any, world: Any, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"{API}/ticket-categories", json=body, headers=h(world, world.a.users["admin"])
    )
    assert response.status_code == 201, response.text
    return response.json()


def file_ticket(client: Any, world: Any, user: Any, **body: Any) -> dict[str, Any]:
    body.setdefault("subject", "宽带断线")
    response = client.post(f"{API}/tickets", json=body, headers=h(world, user))
    assert response.status_code == 201, response.text
    return response.json()


def move(client: Any, world: Any, user: Any, ticket_id: str, status: str) -> Any:
    return client.post(
        f"{API}/tickets/{ticket_id}/status", json={"status": status}, headers=h(world, user)
    )


def event_types(session: Session, ticket_id: str) -> list[str]:
    session.expire_all()
    rows = session.execute(select(Event).where(Event.type.like("ticket.%")).order_by(Event.id))
    return [e.type for e in rows.scalars() if (e.payload or {}).get("ticket_id") == ticket_id]


class TestFirstContactOwnership:
    def test_kept_by_the_first_agent_to_the_end(
        self, client: Any, world: Any, floor: dict[str, Any], session: Session
    ) -> None:
        w = world.a
        agent, agent2 = w.users["agent"], floor["agent2"]
        category = create_category(client, world, name="话费争议", is_complaint=True)
        ticket = file_ticket(
            client, world, agent, category_id=category["id"], contact_id=w.contacts["general"].id
        )
        assert ticket["ownership_model"] == "first_contact"
        assert ticket["owner_id"] == agent.id == ticket["first_owner_id"]
        assert ticket["customer_id"] == w.customers["general"].id
        assert ticket["status"] == "in_progress"
        assert ticket["sla"]["state"] in ("ok", "warning")
        tid = ticket["id"]

        # another agent cannot take it over: 首问负责
        taken = client.post(f"{API}/tickets/{tid}/assign", json={}, headers=h(world, agent2))
        assert taken.status_code == 403
        assert "first-contact" in taken.json()["error"]["message"]
        # nor change its status
        assert move(client, world, agent2, tid, "resolved").status_code == 403

        # escalating alerts a supervisor; the owner keeps the ticket in the first tier
        escalated = client.post(
            f"{API}/tickets/{tid}/escalate",
            json={"reason": "需要计费部核实"},
            headers=h(world, agent),
        ).json()
        assert (escalated["tier"], escalated["owner_id"]) == (0, agent.id)
        assert escalated["escalations"] == 1

        # consulting others: an internal note by a colleague, a reply to the customer
        note = client.post(
            f"{API}/tickets/{tid}/entries",
            json={"kind": "note", "body": "计费部确认多扣 30 元"},
            headers=h(world, agent2),
        )
        assert note.status_code == 201
        client.post(
            f"{API}/tickets/{tid}/entries",
            json={"kind": "reply", "body": "您好，多扣的 30 元将在三个工作日内退回。"},
            headers=h(world, agent),
        )
        assert move(client, world, agent, tid, "resolved").status_code == 200
        rated = client.post(
            f"{API}/tickets/{tid}/rating", json={"score": 5}, headers=h(world, agent)
        ).json()
        assert rated["csat_score"] == 5
        assert move(client, world, agent, tid, "closed").json()["status"] == "closed"

        detail = client.get(f"{API}/tickets/{tid}", headers=h(world, agent)).json()
        # the escalation's reason is kept as an internal note (not in the event log)
        assert [(e["kind"], e["body"][:3]) for e in detail["entries"]] == [
            ("note", "需要计"),
            ("note", "计费部"),
            ("reply", "您好，"),
        ]
        assert [x["type"] for x in detail["history"]] == [
            "ticket.created",
            "ticket.escalated",
            "ticket.note_added",
            "ticket.replied",
            "ticket.status_changed",
            "ticket.rated",
            "ticket.status_changed",
        ]
        assert detail["history"][1]["payload"]["kind"] == "supervisor_alert"

        metrics = client.get(
            f"{API}/tickets/metrics", headers=h(world, w.users["supervisor"])
        ).json()
        first = next(m for m in metrics["models"] if m["ownership_model"] == "first_contact")
        # the world's two seeded first-contact tickets per customer are unresolved
        assert first["resolved"] == 1
        assert first["effectiveness"] == 1.0
        assert first["mean_csat"] == 5
        assert first["follow_up_staff"] == 0

    def test_a_supervisor_may_hand_it_over(
        self, client: Any, world: Any, floor: dict[str, Any]
    ) -> None:
        w = world.a
        category = create_category(client, world, name="改套餐")
        ticket = file_ticket(
            client,
            world,
            w.users["agent"],
            category_id=category["id"],
            customer_id=w.customers["general"].id,
        )
        moved = client.post(
            f"{API}/tickets/{ticket['id']}/assign",
            json={"owner_id": floor["agent2"].id},
            headers=h(world, w.users["supervisor"]),
        )
        assert moved.status_code == 200
        assert moved.json()["owner_id"] == floor["agent2"].id
        assert moved.json()["first_owner_id"] == w.users["agent"].id


class TestTieredOwnership:
    def test_escalated_to_the_next_tier_and_resolved_there(
        self, client: Any, world: Any, floor: dict[str, Any], session: Session
    ) -> None:
        w = world.a
        agent, agent2, expert = w.users["agent"], floor["agent2"], floor["expert"]
        support_queue = w.queues["general"]
        category = create_category(
            client,
            world,
            name="宽带故障",
            ownership_model="tiered",
            tiers=[
                {"name": "升级", "queue_id": support_queue.id},
                {"name": "支撑", "queue_id": support_queue.id, "required_skills": {"network": 5}},
            ],
        )
        ticket = file_ticket(
            client,
            world,
            agent,
            category_id=category["id"],
            contact_id=w.contacts["general"].id,
            priority="high",
        )
        tid = ticket["id"]
        assert (ticket["tier"], ticket["tier_name"]) == (0, "首问")

        first = client.post(
            f"{API}/tickets/{tid}/escalate", json={}, headers=h(world, agent)
        ).json()
        assert (first["tier"], first["tier_name"], first["owner_id"]) == (1, "升级", None)
        assert first["queue_id"] == support_queue.id
        # tier 1 needs no skill: agent2 takes it, then escalates to 支撑
        taken = client.post(f"{API}/tickets/{tid}/assign", json={}, headers=h(world, agent2))
        assert taken.json()["owner_id"] == agent2.id
        client.post(f"{API}/tickets/{tid}/escalate", json={}, headers=h(world, agent2))
        # 支撑 needs network >= 5: agent2 lacks it, the expert holds it
        refused = client.post(f"{API}/tickets/{tid}/assign", json={}, headers=h(world, agent2))
        assert refused.status_code == 403
        assert "network>=5" in refused.json()["error"]["message"]
        unassigned = client.get(
            f"{API}/tickets", params={"unassigned": True, "tier": 2}, headers=h(world, expert)
        ).json()
        assert [t["id"] for t in unassigned["items"]] == [tid]
        assert (
            client.post(
                f"{API}/tickets/{tid}/assign", json={}, headers=h(world, expert)
            ).status_code
            == 200
        )
        assert move(client, world, expert, tid, "resolved").status_code == 200
        rated = client.post(
            f"{API}/tickets/{tid}/rating", json={"score": 3}, headers=h(world, expert)
        )
        assert rated.json()["csat_score"] == 3
        # past the last tier, escalating only alerts a supervisor (after a re-open here)
        reopened = move(client, world, expert, tid, "in_progress").json()
        assert reopened["reopens"] == 1
        last = client.post(
            f"{API}/tickets/{tid}/escalate", json={}, headers=h(world, expert)
        ).json()
        assert (last["tier"], last["owner_id"]) == (2, expert.id)
        move(client, world, expert, tid, "resolved")

        metrics = client.get(
            f"{API}/tickets/metrics", headers=h(world, w.users["supervisor"])
        ).json()
        tiered = next(m for m in metrics["models"] if m["ownership_model"] == "tiered")
        assert tiered["tickets"] == 1
        assert tiered["resolved"] == 1
        assert tiered["effectiveness"] == 0.0
        assert tiered["reopened_tickets"] == 1
        assert tiered["follow_up_staff"] == 2  # agent2 and the expert
        types = event_types(session, tid)
        assert types.count("ticket.escalated") == 3
        assert "ticket.reopened" in types


class TestSlaSweep:
    def test_breach_escalates_tiered_and_alerts_for_first_contact(
        self,
        client: Any,
        world: Any,
        floor: dict[str, Any],
        sessions: sessionmaker[Session],
        session: Session,
    ) -> None:
        w = world.a
        agent = w.users["agent"]
        tiered = create_category(
            client,
            world,
            name="故障",
            ownership_model="tiered",
            tiers=[{"name": "升级", "queue_id": w.queues["general"].id}],
        )
        owned = create_category(client, world, name="咨询")
        t1 = file_ticket(
            client,
            world,
            agent,
            category_id=tiered["id"],
            customer_id=w.customers["general"].id,
            priority="urgent",
        )
        t2 = file_ticket(
            client,
            world,
            agent,
            category_id=owned["id"],
            customer_id=w.customers["general"].id,
            priority="urgent",
        )
        t3 = file_ticket(
            client,
            world,
            agent,
            category_id=owned["id"],
            customer_id=w.customers["general"].id,
            priority="low",
        )
        move(client, world, agent, t3["id"], "waiting_customer")  # paused: never breaches
        # filed a month ago (business hours make "late" depend on the calendar, not the clock)
        month_ago = utcnow() - timedelta(days=30)
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_([t1["id"], t2["id"]]))
            .values(
                sla_started_at=month_ago,
                sla_warn_at=month_ago + timedelta(hours=3),
                sla_due_at=month_ago + timedelta(hours=4),
            )
        )
        session.execute(  # filed a month ago and waiting on the customer ever since
            update(Ticket)
            .where(Ticket.id == t3["id"])
            .values(sla_started_at=month_ago, sla_paused_since=month_ago)
        )
        session.commit()
        result = sweep_once(sessions, tenant_id=w.tenant.id)
        assert (result.breached, result.escalated, result.supervisor_alerts) == (2, 1, 1)

        one = client.get(f"{API}/tickets/{t1['id']}", headers=h(world, agent)).json()
        assert one["tier"] == 1
        assert one["owner_id"] is None
        assert one["sla"]["breaches"] == 1
        assert [x["type"] for x in one["history"]][-4:] == [
            "ticket.created",
            "ticket.sla_warning",
            "ticket.sla_breached",
            "ticket.escalated",
        ]
        assert one["history"][-1]["payload"]["automatic"] is True
        two = client.get(f"{API}/tickets/{t2['id']}", headers=h(world, agent)).json()
        assert (two["tier"], two["owner_id"]) == (0, agent.id)
        assert two["sla"]["state"] == "breached"
        three = client.get(f"{API}/tickets/{t3['id']}", headers=h(world, agent)).json()
        assert three["sla"]["state"] == "paused"
        assert three["sla"]["breaches"] == 0

        # each clock warns and breaches once: a second sweep at the same moment does nothing
        again = sweep_once(sessions, tenant_id=w.tenant.id)
        assert (again.warned, again.breached) == (0, 0)
        # red on the list
        breached = client.get(f"{API}/tickets", params={"sla": "breached"}, headers=h(world, agent))
        assert t2["id"] in [t["id"] for t in breached.json()["items"]]

    def test_sweep_through_the_api_is_for_tenant_supervisors(self, client: Any, world: Any) -> None:
        ok = client.post(f"{API}/tickets/sweep", headers=h(world, world.a.users["supervisor"]))
        assert ok.status_code == 200
        assert ok.json()["breached"] == 0  # the world's tickets are on time
        assert (
            client.post(
                f"{API}/tickets/sweep", headers=h(world, world.a.users["agent"])
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"{API}/tickets/sweep", headers=h(world, world.a.users["p_admin"])
            ).status_code
            == 403
        )


class TestComplaints:
    def test_repeat_complaint_within_the_window(
        self, client: Any, world: Any, session: Session
    ) -> None:
        w = world.a
        agent = w.users["agent"]
        customer = client.post(
            f"{API}/customers", json={"name": "李四"}, headers=h(world, agent)
        ).json()
        complaint = create_category(client, world, name="服务投诉", is_complaint=True)
        plain = create_category(client, world, name="业务咨询")
        first = file_ticket(
            client, world, agent, category_id=complaint["id"], customer_id=customer["id"]
        )
        assert first["repeat_complaint"] is False
        # another category is not a repeat; queries never are
        other = file_ticket(
            client, world, agent, category_id=plain["id"], customer_id=customer["id"]
        )
        assert other["repeat_complaint"] is False
        second = file_ticket(
            client, world, agent, category_id=complaint["id"], customer_id=customer["id"]
        )
        assert second["repeat_complaint"] is True
        assert second["repeat_of_id"] == first["id"]
        flagged = client.get(
            f"{API}/tickets",
            params={"repeat_complaint": True, "customer_id": customer["id"]},
            headers=h(world, agent),
        ).json()
        assert [t["id"] for t in flagged["items"]] == [second["id"]]
        assert "ticket.repeat_complaint" in event_types(session, second["id"])

    def test_window_is_a_tenant_setting(self, client: Any, world: Any) -> None:
        w = world.a
        agent, admin = w.users["agent"], w.users["admin"]
        put = client.put(
            f"{API}/tickets/settings", json={"repeat_window_days": 0}, headers=h(world, admin)
        )
        assert put.status_code == 200
        assert put.json()["repeat_window_days"] == 0
        customer = client.post(
            f"{API}/customers", json={"name": "赵六"}, headers=h(world, agent)
        ).json()
        complaint = create_category(client, world, name="网速投诉", is_complaint=True)
        first = file_ticket(
            client, world, agent, category_id=complaint["id"], customer_id=customer["id"]
        )
        # still open: an open complaint makes a repeat whatever the window
        assert file_ticket(
            client, world, agent, category_id=complaint["id"], customer_id=customer["id"]
        )["repeat_complaint"]
        for tid in (first["id"],):
            move(client, world, agent, tid, "resolved")

    def test_over_the_head(self, client: Any, world: Any) -> None:
        w = world.a
        category = create_category(client, world, name="越级")
        flagged = file_ticket(
            client,
            world,
            w.users["agent"],
            category_id=category["id"],
            customer_id=w.customers["general"].id,
            over_the_head=True,
        )
        by_source = file_ticket(
            client,
            world,
            w.users["agent"],
            category_id=category["id"],
            customer_id=w.customers["general"].id,
            source="regulator",
        )
        plain = file_ticket(
            client,
            world,
            w.users["agent"],
            category_id=category["id"],
            customer_id=w.customers["general"].id,
        )
        assert (flagged["over_the_head"], by_source["over_the_head"], plain["over_the_head"]) == (
            True,
            True,
            False,
        )


class TestTicketLife:
    def test_status_machine_refuses_with_the_allowed_moves(self, client: Any, world: Any) -> None:
        tid = world.a.tickets["general"].id
        agent = world.a.users["agent"]
        assert move(client, world, agent, tid, "resolved").status_code == 200
        refused = move(client, world, agent, tid, "waiting_customer")
        assert refused.status_code == 409
        assert "allowed: closed, in_progress" in refused.json()["error"]["message"]
        assert move(client, world, agent, tid, "merged").status_code == 422
        assert move(client, world, agent, tid, "lost").status_code == 422

    def test_waiting_on_the_customer_pauses_the_clock(self, client: Any, world: Any) -> None:
        tid = world.a.tickets["general"].id
        agent = world.a.users["agent"]
        paused = move(client, world, agent, tid, "waiting_customer").json()
        assert paused["sla"]["state"] == "paused"
        resumed = move(client, world, agent, tid, "in_progress").json()
        assert resumed["sla"]["state"] in ("ok", "warning")

    def test_attachments_are_stored_and_limited(
        self, client: Any, world: Any, session: Session
    ) -> None:
        tid = world.a.tickets["general"].id
        headers = h(world, world.a.users["agent"])
        body = "发票 invoice".encode()
        up = client.post(
            f"{API}/tickets/{tid}/attachments",
            files={"file": ("发票.txt", body, "text/plain")},
            headers=headers,
        )
        assert up.status_code == 201, up.text
        meta = up.json()
        assert meta["size_bytes"] == len(body)
        down = client.get(f"{API}/tickets/{tid}/attachments/{meta['id']}", headers=headers)
        assert down.content == body
        assert down.headers["content-type"] == "application/octet-stream"
        too_big = client.post(
            f"{API}/tickets/{tid}/attachments",
            files={"file": ("big.bin", b"x" * (5 * 1024 * 1024 + 1), "application/octet-stream")},
            headers=headers,
        )
        assert too_big.status_code == 422
        assert client.post(f"{API}/tickets/{tid}/attachments", headers=headers).status_code == 400

    def test_merging_a_duplicate_moves_its_notes(self, client: Any, world: Any) -> None:
        w = world.a
        headers = h(world, w.users["agent"])
        dup, keep = w.tickets["general2"].id, w.tickets["general"].id
        client.post(
            f"{API}/tickets/{dup}/entries",
            json={"kind": "note", "body": "重复来电"},
            headers=headers,
        )
        merged = client.post(f"{API}/tickets/{dup}/merge", json={"into_id": keep}, headers=headers)
        assert merged.status_code == 200
        assert merged.json()["id"] == keep
        survivor = client.get(f"{API}/tickets/{keep}", headers=headers).json()
        assert [e["body"] for e in survivor["entries"]] == ["重复来电"]
        assert len(survivor["attachments"]) == 1
        gone = client.get(f"{API}/tickets/{dup}", headers=headers).json()
        assert (gone["status"], gone["merged_into_id"]) == ("merged", keep)
        # other customer's tickets never merge
        other = w.tickets["p"].id
        refused = client.post(
            f"{API}/tickets/{keep}/merge",
            json={"into_id": other},
            headers=h(world, w.users["admin"]),
        )
        assert refused.status_code == 409

    def test_we_will_call_you_back(
        self, client: Any, world: Any, sessions: sessionmaker[Session], session: Session
    ) -> None:
        w = world.a
        tid = w.tickets["general"].id
        agent = w.users["agent"]
        made = client.post(
            f"{API}/tickets/{tid}/callback",
            json={"in_business_s": 3600, "note": "查明后回电"},
            headers=h(world, agent),
        )
        assert made.status_code == 201
        followup = made.json()
        assert followup["owner_id"] == agent.id
        mine = client.get(f"{API}/tickets/followups", headers=h(world, agent)).json()
        assert followup["id"] in [f["id"] for f in mine["items"]]
        # when they fall due, the sweep tells the owners, once: tenant A's three seeded
        # call-backs and this one
        later = utcnow() + timedelta(days=40)
        assert sweep_once(sessions, now=later, tenant_id=w.tenant.id).callbacks_due == 4
        assert sweep_once(sessions, now=later, tenant_id=w.tenant.id).callbacks_due == 0
        assert event_types(session, tid).count("ticket.callback_due") == 2
        done = client.post(
            f"{API}/tickets/followups/{followup['id']}/done", headers=h(world, agent)
        )
        assert done.json()["done_at"] is not None
        assert (
            client.post(
                f"{API}/tickets/followups/{followup['id']}/done", headers=h(world, agent)
            ).status_code
            == 409
        )
        past = client.post(
            f"{API}/tickets/{tid}/callback",
            json={"due_at": "2020-01-01T00:00:00Z"},
            headers=h(world, agent),
        )
        assert past.status_code == 422

    def test_the_360_view_shows_the_customers_tickets(self, client: Any, world: Any) -> None:
        w = world.a
        view = client.get(
            f"{API}/customers/{w.customers['general'].id}/360", headers=h(world, w.users["agent"])
        ).json()
        ids = {t["id"] for t in view["tickets"]}
        assert ids == {w.tickets["general"].id, w.tickets["general2"].id}
        # the agent desktop's question: open tickets of this customer
        listed = client.get(
            f"{API}/tickets",
            params={"customer_id": w.customers["general"].id, "open": True},
            headers=h(world, w.users["agent"]),
        ).json()
        assert {t["id"] for t in listed["items"]} == ids

    def test_partner_users_see_only_their_partners_tickets(self, client: Any, world: Any) -> None:
        w = world.a
        listed = client.get(f"{API}/tickets", headers=h(world, w.users["p_agent"])).json()
        assert {t["id"] for t in listed["items"]} == {w.tickets["p"].id, w.tickets["p2"].id}
        view = client.get(
            f"{API}/customers/{w.customers['p'].id}/360", headers=h(world, w.users["p_agent"])
        ).json()
        assert {t["id"] for t in view["tickets"]} == {w.tickets["p"].id, w.tickets["p2"].id}

    def test_filing_from_a_partner_contact_gives_the_ticket_to_that_partner(
        self, client: Any, world: Any, session: Session
    ) -> None:
        w = world.a
        category = create_category(client, world, name="外包工单")
        ticket = file_ticket(
            client,
            world,
            w.users["p_agent"],
            category_id=category["id"],
            contact_id=w.contacts["p"].id,
        )
        assert ticket["partner_id"] == w.partners["p"].id
        assert ticket["source"] == "chat"
        # a tenant agent filing from the same partner's contact also gives it to the partner
        contact = make_contact(session, w.tenant, w.customers["p"], w.queues["p"])
        session.commit()
        again = file_ticket(
            client, world, w.users["agent"], category_id=category["id"], contact_id=contact.id
        )
        assert again["partner_id"] == w.partners["p"].id

    def test_bad_input_is_a_4xx(self, client: Any, world: Any, session: Session) -> None:
        w = world.a
        admin, agent = h(world, w.users["admin"]), h(world, w.users["agent"])
        bad_hours = client.put(
            f"{API}/tickets/settings",
            json={"business_hours": {"mon": [["18:00", "09:00"]]}},
            headers=admin,
        )
        assert bad_hours.status_code == 422
        never = client.put(f"{API}/tickets/settings", json={"business_hours": {}}, headers=admin)
        assert never.status_code == 422
        assert client.put(f"{API}/tickets/settings", json={}, headers=agent).status_code == 403
        no_tiers = client.post(
            f"{API}/ticket-categories",
            json={"name": "x", "ownership_model": "tiered"},
            headers=admin,
        )
        assert no_tiers.status_code == 422
        unknown_queue = client.post(
            f"{API}/ticket-categories",
            json={
                "name": "y",
                "ownership_model": "tiered",
                "tiers": [{"name": "升级", "queue_id": "nope"}],
            },
            headers=admin,
        )
        assert unknown_queue.status_code == 422
        dup = client.post(f"{API}/ticket-categories", json={"name": "账单投诉"}, headers=admin)
        assert dup.status_code == 409
        nobody = client.post(
            f"{API}/tickets",
            json={"category_id": w.tickets["category:first"].id, "subject": "x"},
            headers=agent,
        )
        assert nobody.status_code == 422
        nul = client.post(
            f"{API}/tickets",
            json={
                "category_id": w.tickets["category:first"].id,
                "subject": "a\x00b",
                "customer_id": w.customers["general"].id,
            },
            headers=agent,
        )
        assert nul.status_code == 422
        assert (
            client.get(f"{API}/tickets", params={"sla": "purple"}, headers=agent).status_code == 422
        )
        assert (
            client.get(
                f"{API}/tickets/metrics",
                params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
                headers=admin,
            ).status_code
            == 422
        )
        assert client.get(f"{API}/tickets/metrics", headers=agent).status_code == 403
