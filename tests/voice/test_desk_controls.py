"""The desk's controls of a voice call (VoiceDeskService and the 'call' frame of /ws/desk):
only the agent on the call may use them, each is an event, hold time lands on the leg, bad
requests are refused with a clear error and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import Principal
from lianluo.contacts.schemas import ContactIn
from lianluo.contacts.service import contact_service
from lianluo.errors import Conflict, Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Agent, Contact, Event, Leg, Queue, Tenant, VoiceControl
from lianluo.routing.schemas import StateChangeIn
from lianluo.routing.service import routing_service
from lianluo.runtime.router import RoutingRuntime, runtime_of
from lianluo.voice.service import VoiceService, voice_desk_service
from tests.factories import make_customer, make_user


class Floor:
    def __init__(self, session: Session, sessions: sessionmaker[Session], slug: str) -> None:
        self.sessions = sessions
        self.tenant = Tenant(slug=slug, name=slug)
        session.add(self.tenant)
        session.flush()
        admin = make_user(session, self.tenant, f"{slug}-admin", ["admin"])
        self.users = {
            name: make_user(session, self.tenant, f"{slug}-{name}", ["agent"])
            for name in ("alice", "bob", "carol")
        }
        self.queue = Queue(tenant_id=self.tenant.id, name="Line", channels=["voice"])
        session.add(self.queue)
        self.agents = {
            name: Agent(tenant_id=self.tenant.id, user_id=user.id, capacity={"voice": 1})
            for name, user in self.users.items()
        }
        session.add_all(self.agents.values())
        self.customer = make_customer(session, self.tenant, "客户", phone="+8613900139000")
        session.commit()
        self.admin = Principal(admin.id, self.tenant.id, None, frozenset({"admin"}))
        self.router = RoutingRuntime(sessions)
        VoiceService(sessions, self.router).set_phone(
            self.tenant.id, self.agents["bob"].id, f"{slug}-2002", "lianluo", "pw"
        )

    def agent(self, name: str) -> Principal:
        user = self.users[name]
        return Principal(user.id, self.tenant.id, None, frozenset({"agent"}), username=name)

    def connected_call(self) -> str:
        """A voice contact alice has answered."""
        routing_service.change_state(
            self.router, self.agent("alice"), None, StateChangeIn(state="available")
        )
        contact_id = contact_service.create(
            self.router,
            self.admin,
            ContactIn(customer_id=self.customer.id, queue_id=self.queue.id, channel="voice"),
        )
        contact_service.accept(self.router, self.agent("alice"), contact_id)
        return contact_id

    def ringing_call(self, name: str = "bob") -> str:
        """A voice contact offered to (ringing at) `name`, the only available agent."""
        routing_service.change_state(
            self.router, self.agent(name), None, StateChangeIn(state="available")
        )
        contact_id = contact_service.create(
            self.router,
            self.admin,
            ContactIn(customer_id=self.customer.id, queue_id=self.queue.id, channel="voice"),
        )
        return contact_id

    def control(self, name: str, contact_id: str, action: str, **kw: Any) -> None:
        voice_desk_service.control(
            self.sessions, self.router, self.agent(name), contact_id, action, **kw
        )


@pytest.fixture
def floor(session: Session, sessions: sessionmaker[Session]) -> Floor:
    return Floor(session, sessions, "vd-a")


def _events(session: Session, contact_id: str) -> list[str]:
    session.expire_all()
    return list(
        session.execute(
            select(Event.type).where(Event.contact_id == contact_id).order_by(Event.occurred_at)
        ).scalars()
    )


class TestControl:
    def test_hold_and_resume_are_events_and_hold_time_lands_on_the_leg(
        self, floor: Floor, session: Session
    ) -> None:
        contact_id = floor.connected_call()
        floor.control("alice", contact_id, "hold")
        with pytest.raises(Conflict, match="already on hold"):
            floor.control("alice", contact_id, "hold")
        control = session.execute(
            select(VoiceControl).where(VoiceControl.contact_id == contact_id)
        ).scalar_one()
        assert control.hold
        assert control.tenant_id == floor.tenant.id
        floor.control("alice", contact_id, "resume")
        kinds = _events(session, contact_id)
        assert kinds.index("contact.held") < kinds.index("contact.resumed")
        leg = session.execute(select(Leg).where(Leg.contact_id == contact_id)).scalar_one()
        assert leg.hold_s > 0
        (calls,) = voice_desk_service.calls(session, floor.agent("alice"))
        assert calls["contact_id"] == contact_id
        assert calls["state"] == "connected"
        assert calls["hold"] is False

    def test_only_the_agent_on_the_call_controls_it(
        self, floor: Floor, session: Session, sessions: sessionmaker[Session]
    ) -> None:
        contact_id = floor.connected_call()
        with pytest.raises(Forbidden):
            floor.control("bob", contact_id, "hold")
        other = Floor(session, sessions, "vd-b")
        with pytest.raises(NotFound):
            other.control("alice", contact_id, "hangup")  # another tenant's agent
        with pytest.raises(NotFound):
            floor.control("alice", "nosuchcontact", "hold")
        assert voice_desk_service.calls(session, floor.agent("bob")) == []
        assert "contact.held" not in _events(session, contact_id)

    def test_bad_requests_change_nothing(self, floor: Floor, session: Session) -> None:
        contact_id = floor.connected_call()
        floor.control("alice", contact_id, "hold")
        with pytest.raises(Unprocessable, match="name the agent or the queue"):
            floor.control("alice", contact_id, "transfer")
        with pytest.raises(Unprocessable, match="no phone"):
            floor.control("alice", contact_id, "consult", to_agent_id=floor.agents["carol"].id)
        with pytest.raises(Unprocessable):
            floor.control("alice", contact_id, "consult", to_agent_id=floor.agents["alice"].id)
        with pytest.raises(Unprocessable, match="unknown call action"):
            floor.control("alice", contact_id, "explode")
        with pytest.raises(Conflict, match="no consultation"):
            floor.control("alice", contact_id, "cancel_consult")
        session.expire_all()
        contact = session.get(Contact, contact_id)
        assert contact is not None
        assert contact.state == "connected"
        control = session.execute(
            select(VoiceControl).where(VoiceControl.contact_id == contact_id)
        ).scalar_one()
        assert control.hold  # the refused transfer did not take the call off hold

    def test_consult_then_transfer_to_the_consulted_agent(
        self, floor: Floor, session: Session
    ) -> None:
        contact_id = floor.connected_call()
        bob = floor.agents["bob"].id
        routing_service.change_state(
            floor.router, floor.agent("bob"), None, StateChangeIn(state="available")
        )
        floor.control("alice", contact_id, "consult", to_agent_id=bob)
        with pytest.raises(Conflict, match="already in progress"):
            floor.control("alice", contact_id, "consult", to_agent_id=bob)
        floor.control("alice", contact_id, "transfer")  # no target: the consulted agent
        session.expire_all()
        contact = session.get(Contact, contact_id)
        assert contact is not None
        assert contact.state == "offered"
        assert contact.agent_id == bob
        kinds = _events(session, contact_id)
        assert "contact.consult_started" in kinds
        assert "contact.consult_ended" in kinds
        assert "contact.transferred" in kinds

    def test_hang_up_leaves_the_call_in_wrap_up(self, floor: Floor, session: Session) -> None:
        contact_id = floor.connected_call()
        floor.control("alice", contact_id, "hangup")
        session.expire_all()
        contact = session.get(Contact, contact_id)
        assert contact is not None
        assert contact.state == "wrap_up"
        with pytest.raises(Conflict, match="not connected"):
            floor.control("alice", contact_id, "hold")


class TestAnswer:
    def test_the_desk_answers_a_ringing_call_once_and_the_worker_can_tell(
        self, floor: Floor, session: Session
    ) -> None:
        contact_id = floor.ringing_call("bob")
        bob = floor.agents["bob"].id
        service = VoiceService(floor.sessions, floor.router)
        assert not service.answer_requested(floor.tenant.id, contact_id, bob)
        (call,) = voice_desk_service.calls(session, floor.agent("bob"))
        assert (call["state"], call["answering"]) == ("offered", False)

        floor.control("bob", contact_id, "answer")
        assert service.answer_requested(floor.tenant.id, contact_id, bob)
        (call,) = voice_desk_service.calls(session, floor.agent("bob"))
        assert (call["state"], call["answering"]) == ("offered", True)
        with pytest.raises(Conflict, match="already being answered"):
            floor.control("bob", contact_id, "answer")
        session.expire_all()
        event = session.execute(
            select(Event).where(
                Event.contact_id == contact_id, Event.type == "contact.answer_requested"
            )
        ).scalar_one()
        leg = session.execute(select(Leg).where(Leg.contact_id == contact_id)).scalar_one()
        assert event.agent_id == bob
        assert event.actor_id == floor.users["bob"].id
        assert event.payload == {"leg_id": leg.id}
        # routing is untouched: the call is answered when the phone picks up
        contact = session.get(Contact, contact_id)
        assert contact is not None
        assert (contact.state, contact.agent_id) == ("offered", bob)
        assert leg.answered_at is None

    def test_a_new_offer_needs_a_new_answer(self, floor: Floor, session: Session) -> None:
        contact_id = floor.ringing_call("bob")
        bob = floor.agents["bob"].id
        service = VoiceService(floor.sessions, floor.router)
        floor.control("bob", contact_id, "answer")
        assert service.answer_requested(floor.tenant.id, contact_id, bob)
        # the same call offered to bob again later (a transfer back to him, say): the earlier
        # answer was for the earlier offer; and an answer of his says nothing of another agent
        with floor.sessions.begin() as s:
            event_service.append(
                s, floor.tenant.id, "contact.offered", contact_id=contact_id, agent_id=bob
            )
        assert not service.answer_requested(floor.tenant.id, contact_id, bob)
        assert not service.answer_requested(floor.tenant.id, contact_id, floor.agents["alice"].id)
        floor.control("bob", contact_id, "answer")
        assert service.answer_requested(floor.tenant.id, contact_id, bob)

    def test_only_the_ringing_agent_with_a_phone_answers(
        self, floor: Floor, session: Session
    ) -> None:
        contact_id = floor.ringing_call("bob")
        with pytest.raises(Forbidden):
            floor.control("alice", contact_id, "answer")
        with pytest.raises(NotFound):
            floor.control("bob", "nosuchcontact", "answer")
        with pytest.raises(Conflict, match="not connected"):
            floor.control("bob", contact_id, "hold")  # ringing: nothing to hold yet
        answered = floor.connected_call()  # alice's, and she has no phone
        with pytest.raises(Conflict, match="connected, not ringing"):
            floor.control("alice", answered, "answer")
        session.expire_all()
        assert "contact.answer_requested" not in _events(session, contact_id)
        assert "contact.answer_requested" not in _events(session, answered)

    def test_an_agent_without_a_phone_is_told_so(self, floor: Floor, session: Session) -> None:
        contact_id = floor.ringing_call("carol")
        with pytest.raises(Unprocessable, match="no phone to answer on"):
            floor.control("carol", contact_id, "answer")
        assert "contact.answer_requested" not in _events(session, contact_id)


class TestSocketFrame:
    def test_call_frames_are_answered_and_refused_clearly(
        self, client: Any, app_context: Any, session: Session, sessions: sessionmaker[Session]
    ) -> None:
        floor = Floor(session, sessions, "vd-ws")
        floor.router = runtime_of(app_context)  # the one the socket uses
        contact_id = floor.connected_call()
        tokens = app_context.tokens
        token = tokens.encode(tokens.issue(floor.users["alice"].id, 0))
        with client.websocket_connect(f"/ws/desk?token={token}") as ws:
            assert ws.receive_json()["type"] == "hello"
            ws.send_json({"type": "call", "action": "fly", "contact_id": contact_id})
            frame = ws.receive_json()
            assert frame["type"] == "error"
            assert frame["code"] == "validation_error"
            ws.send_json({"type": "call", "action": "hold", "contact_id": "nosuchcontact"})
            frame = ws.receive_json()
            assert frame["type"] == "error"
            assert frame["code"] == "not_found"
            ws.send_json({"type": "call", "action": "hold", "contact_id": contact_id})
            frames = [ws.receive_json() for _ in range(2)]
            assert {"type": "call_ok", "contact_id": contact_id, "action": "hold"} in frames
            ws.send_json({"type": "call", "action": "answer", "contact_id": contact_id})
            frame = ws.receive_json()
            while frame["type"] == "desk":
                frame = ws.receive_json()
            assert frame["type"] == "error"
            assert frame["code"] == "conflict"
            assert "connected, not ringing" in frame["message"]
        assert "contact.held" in _events(session, contact_id)
