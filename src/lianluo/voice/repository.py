"""Every query of the voice channel's use cases, scoped by tenant."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianluo.models import (
    Agent,
    Contact,
    Customer,
    Event,
    Identity,
    Leg,
    Queue,
    User,
    VoiceControl,
    VoicePhone,
)


class VoiceRepository:
    def phones(self, session: Session, tenant_id: str) -> Sequence[VoicePhone]:
        return (
            session.execute(select(VoicePhone).where(VoicePhone.tenant_id == tenant_id))
            .scalars()
            .all()
        )

    def phone_of_agent(self, session: Session, tenant_id: str, agent_id: str) -> VoicePhone | None:
        return session.execute(
            select(VoicePhone).where(
                VoicePhone.tenant_id == tenant_id, VoicePhone.agent_id == agent_id
            )
        ).scalar_one_or_none()

    def customer_by_phone(self, session: Session, tenant_id: str, phone: str) -> Customer | None:
        return (
            session.execute(
                select(Customer)
                .join(Identity, Identity.customer_id == Customer.id)
                .where(
                    Identity.tenant_id == tenant_id,
                    Identity.kind == "phone",
                    Identity.value == phone,
                    Customer.tenant_id == tenant_id,
                )
            )
            .scalars()
            .first()
        )

    def queue_by_name(self, session: Session, tenant_id: str, name: str) -> Queue | None:
        return session.execute(
            select(Queue).where(Queue.tenant_id == tenant_id, Queue.name == name)
        ).scalar_one_or_none()

    def contact(self, session: Session, tenant_id: str, contact_id: str) -> Contact | None:
        return session.execute(
            select(Contact).where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
        ).scalar_one_or_none()

    def callback_offers(self, session: Session, tenant_id: str) -> Sequence[Contact]:
        """Voice callbacks the routing engine has offered to an agent."""
        return (
            session.execute(
                select(Contact).where(
                    Contact.tenant_id == tenant_id,
                    Contact.channel == "voice",
                    Contact.callback.is_(True),
                    Contact.state == "offered",
                )
            )
            .scalars()
            .all()
        )

    def position(self, session: Session, contact: Contact) -> int:
        """1 + the contacts of the same queue that arrived earlier and still wait."""
        ahead = session.execute(
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.tenant_id == contact.tenant_id,
                Contact.queue_id == contact.queue_id,
                Contact.state == "queued",
                Contact.arrived_s < (contact.arrived_s or 0.0),
            )
        ).scalar_one()
        return int(ahead) + 1

    def agent_of_user(self, session: Session, tenant_id: str, user_id: str) -> Agent | None:
        return session.execute(
            select(Agent).where(Agent.tenant_id == tenant_id, Agent.user_id == user_id)
        ).scalar_one_or_none()

    def agent_user(self, session: Session, tenant_id: str, agent_id: str) -> tuple[Agent, User]:
        row = session.execute(
            select(Agent, User)
            .join(User, User.id == Agent.user_id)
            .where(Agent.tenant_id == tenant_id, Agent.id == agent_id)
        ).one()
        return row[0], row[1]

    def control(self, session: Session, tenant_id: str, contact_id: str) -> VoiceControl | None:
        return session.execute(
            select(VoiceControl).where(
                VoiceControl.tenant_id == tenant_id, VoiceControl.contact_id == contact_id
            )
        ).scalar_one_or_none()

    def agent(self, session: Session, tenant_id: str, agent_id: str) -> Agent | None:
        return session.execute(
            select(Agent).where(Agent.tenant_id == tenant_id, Agent.id == agent_id)
        ).scalar_one_or_none()

    def open_leg(
        self, session: Session, tenant_id: str, contact_id: str, agent_id: str
    ) -> Leg | None:
        return (
            session.execute(
                select(Leg)
                .where(
                    Leg.tenant_id == tenant_id,
                    Leg.contact_id == contact_id,
                    Leg.agent_id == agent_id,
                    Leg.ended_at.is_(None),
                )
                .order_by(Leg.offered_at.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )

    def answer_requested(
        self, session: Session, tenant_id: str, contact_id: str, agent_id: str
    ) -> bool:
        """Whether the agent asked from the desk to answer since the contact was last offered
        to them: the later of the two events decides."""
        last = session.execute(
            select(Event.type)
            .where(
                Event.tenant_id == tenant_id,
                Event.contact_id == contact_id,
                Event.agent_id == agent_id,
                Event.type.in_(("contact.offered", "contact.answer_requested")),
            )
            .order_by(Event.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return last == "contact.answer_requested"

    def desk_calls(
        self, session: Session, tenant_id: str, agent_id: str
    ) -> Sequence[tuple[Contact, VoiceControl | None]]:
        """The agent's voice contacts that are ringing, connected or in wrap-up."""
        rows = session.execute(
            select(Contact, VoiceControl)
            .outerjoin(
                VoiceControl,
                (VoiceControl.contact_id == Contact.id) & (VoiceControl.tenant_id == tenant_id),
            )
            .where(
                Contact.tenant_id == tenant_id,
                Contact.agent_id == agent_id,
                Contact.channel == "voice",
                Contact.state.in_(("offered", "connected", "wrap_up")),
            )
            .order_by(Contact.queued_at)
        ).all()
        return [(row[0], row[1]) for row in rows]


voice_repository = VoiceRepository()
