"""Voice use cases: what the SIP channel asks of the platform, in one transaction each.

The channel (channels/voice) runs on an event loop and calls these through a thread; they
use the same contact service as the API, so a call is queued, offered, answered and ended
exactly like any other contact and the event log says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import Principal
from lianluo.contacts.schemas import CallbackIn, CompleteIn, ContactIn, TransferIn
from lianluo.contacts.service import contact_service
from lianluo.customers.normalize import normalize_phone, search_text_for
from lianluo.db.base import utcnow
from lianluo.errors import Conflict, Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Contact, Customer, Identity, Role, VoiceControl, VoicePhone
from lianluo.runtime.router import RoutingRuntime
from lianluo.voice.repository import voice_repository as repo


def digest_ha1(user: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


@dataclass(frozen=True)
class Offer:
    contact_id: str
    agent_id: str
    sip_user: str | None


@dataclass(frozen=True)
class Talking:
    """A connected call as the worker reconciles it: routing state and the desk's controls."""

    state: str
    agent_id: str | None
    hold: bool = False
    consult_agent_id: str | None = None
    consult_sip_user: str | None = None


DESK_ACTIONS = ("answer", "hold", "resume", "consult", "cancel_consult", "transfer", "hangup")


def _phone(number: str) -> str | None:
    try:
        return normalize_phone(number)
    except ValueError:
        return None


class VoiceService:
    def __init__(self, sessions: sessionmaker[Session], router: RoutingRuntime) -> None:
        self.sessions = sessions
        self.router = router

    # ---- phones --------------------------------------------------------------------------

    def set_phone(
        self, tenant_id: str, agent_id: str, sip_user: str, realm: str, password: str
    ) -> None:
        with self.sessions.begin() as session:
            phone = repo.phone_of_agent(session, tenant_id, agent_id)
            if phone is None:
                phone = VoicePhone(tenant_id=tenant_id, agent_id=agent_id)
                session.add(phone)
            phone.sip_user = sip_user
            phone.realm = realm
            phone.ha1 = digest_ha1(sip_user, realm, password)

    def phone_secrets(self, tenant_id: str) -> dict[str, str]:
        """sip_user -> HA1, for the registrar."""
        with self.sessions() as session:
            return {p.sip_user: p.ha1 for p in repo.phones(session, tenant_id)}

    # ---- the caller ----------------------------------------------------------------------

    def lookup(self, principal: Principal, caller: str) -> dict[str, Any] | None:
        phone = _phone(caller)
        if phone is None:
            return None
        with self.sessions.begin() as session:
            customer = repo.customer_by_phone(session, principal.tenant_id, phone)
            if customer is None:
                return None
            event_service.audit(
                session, principal, "customer.read", customer_id=customer.id,
                payload={"via": "voice.lookup"}, read_only=True,
            )  # fmt: skip
            return {
                "id": customer.id,
                "value_tier": customer.value_tier,
                "churn_risk": customer.churn_risk,
                "language": customer.language,
                "tags": list(customer.tags),
            }

    def _customer_for(self, session: Session, principal: Principal, caller: str) -> str:
        phone = _phone(caller)
        if phone is not None:
            found = repo.customer_by_phone(session, principal.tenant_id, phone)
            if found is not None:
                return found.id
        # an unknown number: a new customer record, so the contact has someone to belong to
        name = f"来电 {phone or caller or '未知号码'}"
        customer = Customer(
            tenant_id=principal.tenant_id,
            name=name[:200],
            search_text=search_text_for(name, [phone] if phone else []),
        )
        session.add(customer)
        session.flush()
        if phone is not None:
            session.add(
                Identity(
                    tenant_id=principal.tenant_id, customer_id=customer.id, kind="phone",
                    value=phone,
                )
            )  # fmt: skip
        event_service.audit(
            session, principal, "customer.created", customer_id=customer.id,
            payload={"via": "voice"},
        )  # fmt: skip
        return customer.id

    def enqueue(
        self,
        principal: Principal,
        caller: str,
        queue_name: str,
        skills: dict[str, int],
        attributes: dict[str, Any],
        priority: int,
        context: dict[str, Any],
    ) -> str:
        with self.sessions.begin() as session:
            queue = repo.queue_by_name(session, principal.tenant_id, queue_name)
            if queue is None:
                raise Unprocessable(f"the flow names queue {queue_name!r}, which does not exist")
            customer_id = self._customer_for(session, principal, caller)
            queue_id = queue.id
        data = ContactIn(
            customer_id=customer_id,
            queue_id=queue_id,
            channel="voice",
            priority=priority,
            skills=skills,
            attributes=attributes,
            subject=f"call to {context.get('dialled', '')}"[:300],
            context=context,
        )
        return contact_service.create(self.router, principal, data)

    def request_callback(self, principal: Principal, contact_id: str) -> None:
        contact_service.callback(self.router, principal, contact_id, CallbackIn(at=None))

    def waiting(self, principal: Principal, contact_id: str) -> tuple[str, int, Offer | None]:
        """The contact's state, its place in line, and the agent it is offered to."""
        with self.sessions() as session:
            contact = repo.contact(session, principal.tenant_id, contact_id)
            if contact is None:
                return "ended", 0, None
            position = repo.position(session, contact) if contact.state == "queued" else 0
            offer = None
            if contact.state == "offered" and contact.agent_id:
                phone = repo.phone_of_agent(session, principal.tenant_id, contact.agent_id)
                offer = Offer(contact.id, contact.agent_id, phone.sip_user if phone else None)
            return contact.state, position, offer

    def talking(self, principal: Principal, contact_id: str) -> Talking:
        """The state of a connected call and what its agent's desk asks of it."""
        with self.sessions() as session:
            contact = repo.contact(session, principal.tenant_id, contact_id)
            if contact is None:
                return Talking("ended", None)
            control = repo.control(session, principal.tenant_id, contact_id)
            if control is None:
                return Talking(contact.state, contact.agent_id)
            sip_user = None
            if control.consult_agent_id:
                phone = repo.phone_of_agent(session, principal.tenant_id, control.consult_agent_id)
                sip_user = phone.sip_user if phone else None
            return Talking(
                contact.state, contact.agent_id, control.hold, control.consult_agent_id, sip_user
            )

    def consult_failed(self, principal: Principal, contact_id: str, reason: str) -> None:
        """The consulted agent's phone did not answer: the desk's request is withdrawn."""
        with self.sessions.begin() as session:
            control = repo.control(session, principal.tenant_id, contact_id)
            contact = repo.contact(session, principal.tenant_id, contact_id)
            if control is None or contact is None or control.consult_agent_id is None:
                return
            event_service.append(
                session, principal.tenant_id, "contact.consult_ended", actor=principal,
                customer_id=contact.customer_id, contact_id=contact.id, queue_id=contact.queue_id,
                agent_id=contact.agent_id,
                payload={"consult_agent_id": control.consult_agent_id, "reason": reason},
            )  # fmt: skip
            control.consult_agent_id = None

    def answer_requested(self, tenant_id: str, contact_id: str, agent_id: str) -> bool:
        """Whether the agent's desk asked to answer the current offer of the call."""
        with self.sessions() as session:
            return repo.answer_requested(session, tenant_id, contact_id, agent_id)

    def callbacks_offered(self, principal: Principal) -> list[tuple[Offer, str]]:
        """(offer, the number to call back) for every voice callback offered to an agent."""
        with self.sessions() as session:
            out = []
            for contact in repo.callback_offers(session, principal.tenant_id):
                if not contact.agent_id:
                    continue
                phone = repo.phone_of_agent(session, principal.tenant_id, contact.agent_id)
                number = str(contact.context.get("caller", ""))
                offer = Offer(contact.id, contact.agent_id, phone.sip_user if phone else None)
                out.append((offer, number))
            return out

    def _agent_principal(self, tenant_id: str, agent_id: str) -> Principal:
        with self.sessions() as session:
            agent, user = repo.agent_user(session, tenant_id, agent_id)
            return Principal(
                user_id=user.id,
                tenant_id=tenant_id,
                partner_id=agent.partner_id,
                roles=frozenset({Role.agent}),
                username=user.username,
            )

    def answered(self, tenant_id: str, contact_id: str, agent_id: str, recording: str) -> None:
        agent = self._agent_principal(tenant_id, agent_id)
        contact_service.accept(self.router, agent, contact_id)
        with self.sessions.begin() as session:
            contact = repo.contact(session, tenant_id, contact_id)
            if contact is not None:
                contact.context = {**contact.context, "recording": recording}

    def not_answered(self, tenant_id: str, contact_id: str, agent_id: str) -> None:
        agent = self._agent_principal(tenant_id, agent_id)
        try:
            contact_service.reject(self.router, agent, contact_id)
        except Conflict:
            pass  # the offer already timed out or was withdrawn

    def caller_left(self, principal: Principal, contact_id: str) -> None:
        with self.sessions() as session:
            contact = repo.contact(session, principal.tenant_id, contact_id)
            state = contact.state if contact else "ended"
            agent_id = contact.agent_id if contact else None
            if contact is not None and contact.callback and state != "connected":
                return  # a callback keeps the place in line after the caller hangs up
        if state in ("queued", "offered"):
            try:
                contact_service.abandon(self.router, principal, contact_id)
            except Conflict:
                pass
        elif state == "connected" and agent_id:
            agent = self._agent_principal(principal.tenant_id, agent_id)
            contact_service.complete(self.router, agent, contact_id, CompleteIn())


class VoiceDeskService:
    """The agent desk's controls of a voice call: answer it while it rings, hold and resume,
    a consultation call to another agent, blind or consultative transfer, hang up. Routing
    changes (transfer, the end of the call and its wrap-up) go through the contact service like
    any contact's; the media requests (hold, consultation) are a `VoiceControl` row the worker
    reconciles its SIP legs to, and answering is its event (the worker rings the phone again
    with the auto-answer request). Each change is an event (`contact.answer_requested`,
    `contact.held`, `contact.resumed`, `contact.consult_started`, `contact.consult_ended`, and
    the contact service's own), which also wakes the worker and refreshes the desk."""

    def calls(self, session: Session, principal: Principal) -> list[dict[str, Any]]:
        agent = repo.agent_of_user(session, principal.tenant_id, principal.user_id)
        if agent is None:
            return []
        out = []
        for contact, control in repo.desk_calls(session, principal.tenant_id, agent.id):
            context = contact.context or {}
            answering = contact.state == "offered" and repo.answer_requested(
                session, principal.tenant_id, contact.id, agent.id
            )
            out.append(
                {
                    "contact_id": contact.id,
                    "customer_id": contact.customer_id,
                    "state": contact.state,
                    "caller": str(context.get("caller", "")),
                    "dialled": str(context.get("dialled", "")),
                    "ivr_path": [str(step) for step in context.get("ivr_path", [])],
                    "callback": contact.callback,
                    "hold": bool(control.hold) if control else False,
                    "consult_agent_id": control.consult_agent_id if control else None,
                    "transfer_note": str(context.get("transfer_note", "")),
                    "answering": answering,
                }
            )
        return out

    def _my_call(
        self, session: Session, principal: Principal, contact_id: str, state: str = "connected"
    ) -> Contact:
        contact = repo.contact(session, principal.tenant_id, contact_id)
        if contact is None or contact.channel != "voice":
            raise NotFound(f"voice call {contact_id} not found")
        agent = repo.agent_of_user(session, principal.tenant_id, principal.user_id)
        if agent is None or contact.agent_id != agent.id:
            raise Forbidden(f"call {contact_id} is not yours")
        if contact.state != state:
            wanted = "ringing (offered)" if state == "offered" else state
            raise Conflict(f"call {contact_id} is {contact.state}, not {wanted}")
        return contact

    def _answer(self, session: Session, principal: Principal, contact_id: str) -> None:
        """The agent answers a ringing call from the desk: an event the SIP worker acts on
        (it calls the agent's phone again with the auto-answer request). The call is answered
        when the phone is, so a phone that does not pick up leaves the offer as it was."""
        contact = self._my_call(session, principal, contact_id, state="offered")
        agent_id = contact.agent_id or ""
        if repo.phone_of_agent(session, principal.tenant_id, agent_id) is None:
            raise Unprocessable("you have no phone to answer on; ask an admin to set one up")
        if repo.answer_requested(session, principal.tenant_id, contact.id, agent_id):
            raise Conflict(f"call {contact_id} is already being answered")
        leg = repo.open_leg(session, principal.tenant_id, contact.id, agent_id)
        self._event(
            session, principal, contact, "contact.answer_requested",
            leg_id=leg.id if leg is not None else None,
        )  # fmt: skip

    def control(
        self,
        sessions: sessionmaker[Session],
        router: RoutingRuntime,
        principal: Principal,
        contact_id: str,
        action: str,
        to_agent_id: str | None = None,
        to_queue_id: str | None = None,
        note: str = "",
    ) -> None:
        if action not in DESK_ACTIONS:
            raise Unprocessable(f"unknown call action {action!r}; one of {', '.join(DESK_ACTIONS)}")
        if action == "answer":
            with sessions.begin() as session:
                self._answer(session, principal, contact_id)
            return
        with sessions.begin() as session:
            contact = self._my_call(session, principal, contact_id)
            control = repo.control(session, principal.tenant_id, contact_id)
            if control is None:
                control = VoiceControl(tenant_id=principal.tenant_id, contact_id=contact_id)
                session.add(control)
            consulting = control.consult_agent_id
            if action in ("hold", "resume"):
                self._hold(session, principal, contact, control, action == "hold")
                return
            if action == "consult":
                self._consult(session, principal, contact, control, to_agent_id)
                return
            if action == "cancel_consult":
                if consulting is None:
                    raise Conflict("no consultation in progress")
                self._event(session, principal, contact, "contact.consult_ended",
                            consult_agent_id=consulting, reason="cancelled")  # fmt: skip
                control.consult_agent_id = None
                return
            # transfer and hang up end this agent's part: no hold or consultation survives it
            # (the worker keeps its consultation leg in hand: a transfer to that agent joins it)
            if action == "transfer" and consulting is not None and not to_queue_id:
                to_agent_id = to_agent_id or consulting  # completes the consultative transfer
            if action == "transfer" and to_agent_id is None and to_queue_id is None:
                raise Unprocessable("name the agent or the queue to transfer to")
            if control.hold:
                self._hold(session, principal, contact, control, False)
            if consulting is not None:
                reason = "transferred" if to_agent_id == consulting else action
                self._event(session, principal, contact, "contact.consult_ended",
                            consult_agent_id=consulting, reason=reason)  # fmt: skip
                control.consult_agent_id = None
        if action == "transfer":
            contact_service.transfer(
                router, principal, contact_id,
                TransferIn(to_agent_id=to_agent_id, to_queue_id=to_queue_id, note=note),
            )  # fmt: skip
        else:
            contact_service.complete(router, principal, contact_id, CompleteIn())

    def _hold(
        self,
        session: Session,
        principal: Principal,
        contact: Contact,
        control: VoiceControl,
        hold: bool,
    ) -> None:
        if control.hold == hold:
            raise Conflict(f"the call is {'already' if hold else 'not'} on hold")
        now = utcnow()
        if hold:
            control.hold, control.held_since = True, now
            self._event(session, principal, contact, "contact.held")
            return
        held_s = (now - control.held_since).total_seconds() if control.held_since else 0.0
        control.hold, control.held_since = False, None
        leg = repo.open_leg(session, principal.tenant_id, contact.id, contact.agent_id or "")
        if leg is not None:  # hold time is part of AHT (domain/kpi reads it from the legs)
            leg.hold_s = (leg.hold_s or 0.0) + held_s
        self._event(session, principal, contact, "contact.resumed", hold_s=round(held_s, 3))

    def _consult(
        self,
        session: Session,
        principal: Principal,
        contact: Contact,
        control: VoiceControl,
        to_agent_id: str | None,
    ) -> None:
        if control.consult_agent_id is not None:
            raise Conflict("a consultation is already in progress")
        if not to_agent_id:
            raise Unprocessable("name the agent to consult (to_agent_id)")
        target = repo.agent(session, principal.tenant_id, to_agent_id)
        if target is None or target.id == contact.agent_id:
            raise Unprocessable(f"agent {to_agent_id} not found (or it is you)")
        if principal.partner_id is not None and target.partner_id != principal.partner_id:
            raise Unprocessable(f"agent {to_agent_id} not found (or it is you)")
        if repo.phone_of_agent(session, principal.tenant_id, target.id) is None:
            raise Unprocessable(f"agent {to_agent_id} has no phone to call")
        control.consult_agent_id = target.id
        self._event(session, principal, contact, "contact.consult_started",
                    consult_agent_id=target.id)  # fmt: skip

    @staticmethod
    def _event(
        session: Session, principal: Principal, contact: Contact, kind: str, **payload: Any
    ) -> None:
        event_service.append(
            session, principal.tenant_id, kind, actor=principal, customer_id=contact.customer_id,
            contact_id=contact.id, queue_id=contact.queue_id, agent_id=contact.agent_id,
            partner_id=principal.partner_id, payload=payload,
        )  # fmt: skip


voice_desk_service = VoiceDeskService()
