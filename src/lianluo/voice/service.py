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
from lianluo.contacts.schemas import CallbackIn, CompleteIn, ContactIn
from lianluo.contacts.service import contact_service
from lianluo.customers.normalize import normalize_phone, search_text_for
from lianluo.errors import Conflict, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Customer, Identity, Role, VoicePhone
from lianluo.runtime.router import RoutingRuntime
from lianluo.voice.repository import voice_repository as repo


def digest_ha1(user: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


@dataclass(frozen=True)
class Offer:
    contact_id: str
    agent_id: str
    sip_user: str | None


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
