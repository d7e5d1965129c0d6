"""Contact use cases: every change goes through the live router (runtime/router.py), which
persists the engine's commands and the event log in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from lianluo.auth.principal import CUSTOMER_WRITERS, FLOOR_READERS, Principal
from lianluo.contacts.repository import contact_repository as repo
from lianluo.contacts.schemas import CallbackIn, CompleteIn, ContactIn, TransferIn, WrapUpIn
from lianluo.customers.repository import customer_repository
from lianluo.domain import routing as rt
from lianluo.errors import Conflict, Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Agent, Contact, Conversation, Role
from lianluo.queues.repository import queue_repository
from lianluo.routing.errors import engine_errors
from lianluo.routing.repository import TIER_OF_VALUE, to_datetime
from lianluo.runtime.router import RoutingRuntime, RoutingTxn, end_leg

SUPERVISORS = frozenset({Role.supervisor, Role.admin, Role.partner_admin})


class ContactService:
    def get(self, session: Session, principal: Principal, contact_id: str) -> Contact:
        principal.require(FLOOR_READERS, "reading contacts")
        contact = repo.get(session, principal, contact_id)
        if contact is None:
            raise NotFound.of("contact", contact_id)
        return contact

    def create(self, router: RoutingRuntime, principal: Principal, data: ContactIn) -> str:
        principal.require(CUSTOMER_WRITERS, "creating a contact")

        def op(txn: RoutingTxn) -> str:
            session = txn.session
            customer = customer_repository.get(session, principal, data.customer_id)
            if customer is None:
                raise Unprocessable(
                    f"customer {data.customer_id} not found",
                    details=[{"field": "customer_id", "message": "unknown customer"}],
                )
            queue = queue_repository.get(session, principal, data.queue_id)
            if queue is None:
                raise Unprocessable(
                    f"queue {data.queue_id} not found",
                    details=[{"field": "queue_id", "message": "unknown queue"}],
                )
            if not queue.is_active:
                raise Conflict(f"queue {queue.name!r} is not active")
            if str(data.channel) not in queue.channels:
                raise Unprocessable(
                    f"queue {queue.name!r} takes {', '.join(queue.channels)}, not {data.channel}",
                    details=[{"field": "channel", "message": "channel not served by the queue"}],
                )
            at = to_datetime(txn.now)
            conversation = Conversation(
                tenant_id=principal.tenant_id,
                customer_id=customer.id,
                subject=data.subject,
                started_at=at,
            )
            session.add(conversation)
            session.flush()
            attributes = {"language": customer.language, "region": customer.region}
            attributes.update(data.attributes)
            contact = Contact(
                tenant_id=principal.tenant_id,
                conversation_id=conversation.id,
                customer_id=customer.id,
                queue_id=queue.id,
                channel=str(data.channel),
                direction="inbound",
                state="queued",
                priority=data.priority,
                tier=TIER_OF_VALUE.get(customer.value_tier, 0),
                required_skills=dict(data.skills),
                attributes=attributes,
                context=dict(data.context),
                queued_at=at,
                arrived_s=txn.now,
                waiting_since_s=txn.now,
            )
            session.add(contact)
            session.flush()
            event_service.append(
                session,
                principal.tenant_id,
                "contact.queued",
                actor=principal,
                occurred_at=at,
                customer_id=customer.id,
                contact_id=contact.id,
                queue_id=queue.id,
                partner_id=queue.partner_id,
                payload={
                    "channel": contact.channel,
                    "direction": "inbound",
                    "priority": contact.priority,
                    "conversation_id": conversation.id,
                    "required_skills": dict(data.skills),
                    "region": customer.region,
                },
            )
            request = rt.ContactRequest(
                contact_id=contact.id,
                queue_id=queue.id,
                arrived_at=txn.now,
                channel=contact.channel,
                skills=dict(data.skills),
                attributes=attributes,
                tier=contact.tier,
                priority=float(data.priority),
                context=dict(data.context),
            )
            with engine_errors():
                txn.run(txn.engine.enqueue(request, txn.now))
            txn.touch(contact.id)
            return contact.id

        return router.execute(principal.tenant_id, op, principal)

    # ---- the offered agent ---------------------------------------------------------------

    def _contact(self, txn: RoutingTxn, principal: Principal, contact_id: str) -> Contact:
        contact = repo.get(txn.session, principal, contact_id)
        if contact is None:
            raise NotFound.of("contact", contact_id)
        return contact

    def _my_agent(self, txn: RoutingTxn, principal: Principal) -> Agent:
        agent = repo.agent_of_user(txn.session, principal)
        if agent is None:
            raise Forbidden("only an agent can do this; your user has no agent profile")
        return agent

    def _offered_to_me(
        self, txn: RoutingTxn, principal: Principal, contact_id: str
    ) -> tuple[Contact, Agent]:
        contact = self._contact(txn, principal, contact_id)
        agent = self._my_agent(txn, principal)
        if contact.state != "offered" or contact.agent_id != agent.id:
            raise Conflict(f"contact {contact_id} is {contact.state}, not offered to you")
        return contact, agent

    def accept(self, router: RoutingRuntime, principal: Principal, contact_id: str) -> None:
        def op(txn: RoutingTxn) -> None:
            contact, agent = self._offered_to_me(txn, principal, contact_id)
            with engine_errors():
                txn.run(txn.engine.accept(contact.id, agent.id, txn.now))
            txn.touch(contact.id, agent.id)
            at = to_datetime(txn.now)
            contact.answered_at = contact.answered_at or at
            leg = end_leg_answer(txn, contact.id, agent.id)
            _event(txn, principal, contact, "contact.answered", agent.id, leg_id=leg)

        router.execute(principal.tenant_id, op, principal)

    def reject(self, router: RoutingRuntime, principal: Principal, contact_id: str) -> None:
        def op(txn: RoutingTxn) -> None:
            contact, agent = self._offered_to_me(txn, principal, contact_id)
            with engine_errors():
                txn.run(txn.engine.reject(contact.id, agent.id, txn.now))
            txn.touch(contact.id, agent.id)
            end_leg(txn, contact.id, agent.id, "rejected")
            _event(txn, principal, contact, "contact.rejected", agent.id)

        router.execute(principal.tenant_id, op, principal)

    # ---- the connected agent (or a supervisor) -------------------------------------------

    def _handling(self, txn: RoutingTxn, principal: Principal, contact: Contact) -> None:
        if principal.has_any(SUPERVISORS):
            return
        agent = self._my_agent(txn, principal)
        if contact.agent_id != agent.id:
            raise Forbidden(f"contact {contact.id} is handled by another agent")

    def complete(
        self, router: RoutingRuntime, principal: Principal, contact_id: str, data: CompleteIn
    ) -> None:
        principal.require(FLOOR_READERS, "completing a contact")

        def op(txn: RoutingTxn) -> None:
            contact = self._contact(txn, principal, contact_id)
            self._handling(txn, principal, contact)
            if contact.state != "connected":
                raise Conflict(f"contact {contact_id} is {contact.state}, not connected")
            agent_id = contact.agent_id or ""
            with engine_errors():
                txn.run(txn.engine.complete(contact.id, txn.now))
            txn.touch(contact.id, agent_id)
            end_leg(txn, contact.id, agent_id, "completed")
            if data.disposition is not None:
                self._end(txn, principal, contact, data.disposition, data.notes)
                return
            contact.state = "wrap_up"
            contact.notes = data.notes
            _event(txn, principal, contact, "contact.completed", agent_id)  # wrap-up begins
            if not txn.engine.agent_load(agent_id):
                with engine_errors():
                    txn.engine.set_agent_state(
                        agent_id, rt.AgentState.WRAP_UP, txn.now, reason="after_contact_work"
                    )

        router.execute(principal.tenant_id, op, principal)

    def wrap_up(
        self, router: RoutingRuntime, principal: Principal, contact_id: str, data: WrapUpIn
    ) -> None:
        principal.require(FLOOR_READERS, "wrapping up a contact")

        def op(txn: RoutingTxn) -> None:
            contact = self._contact(txn, principal, contact_id)
            self._handling(txn, principal, contact)
            if contact.state != "wrap_up":
                raise Conflict(f"contact {contact_id} is {contact.state}, not in wrap-up")
            self._end(txn, principal, contact, data.disposition, data.notes)
            agent_id = contact.agent_id or ""
            txn.touch(agent_id=agent_id)
            snap = txn.engine.agent_snapshot(agent_id)
            if snap.state is rt.AgentState.WRAP_UP and not repo.wrapping_up(
                txn.session, agent_id, contact.id
            ):
                txn.engine.set_agent_state(agent_id, rt.AgentState.AVAILABLE, txn.now)

        router.execute(principal.tenant_id, op, principal)

    def _end(
        self, txn: RoutingTxn, principal: Principal, contact: Contact, disposition: str, notes: str
    ) -> None:
        at = to_datetime(txn.now)
        contact.state = "ended"
        contact.ended_at = at
        contact.disposition = disposition
        contact.notes = notes
        wait_s = (
            (contact.answered_at - contact.queued_at).total_seconds()
            if (contact.answered_at)
            else None
        )
        # Handle times ride on the event so reports read them from the log alone: talk and
        # hold from the legs, after-contact work from the end of the last leg until now.
        talk_s, hold_s, last_leg_end = repo.leg_times(txn.session, contact.id)
        acw_s = max(0.0, txn.now - last_leg_end.timestamp()) if last_leg_end else 0.0
        _event(
            txn,
            principal,
            contact,
            "contact.ended",
            contact.agent_id,
            direction=contact.direction,
            wait_s=wait_s,
            disposition=disposition,
            transferred=bool(contact.context.get("transfers")),
            legs=repo.legs(txn.session, contact.id),
            talk_s=round(talk_s, 3),
            hold_s=round(hold_s, 3),
            acw_s=round(acw_s, 3),
        )

    # ---- the line ------------------------------------------------------------------------

    def abandon(self, router: RoutingRuntime, principal: Principal, contact_id: str) -> None:
        principal.require(CUSTOMER_WRITERS, "abandoning a contact")

        def op(txn: RoutingTxn) -> None:
            contact = self._contact(txn, principal, contact_id)
            if contact.state not in ("queued", "offered", "callback_scheduled"):
                raise Conflict(f"contact {contact_id} is {contact.state}; only waiting ones end so")
            txn.rescind_reason = "abandoned"
            txn.touch(contact.id, contact.agent_id)
            with engine_errors():
                txn.run(txn.engine.cancel(contact.id, txn.now))
            at = to_datetime(txn.now)
            contact.state = "abandoned"
            contact.ended_at = at
            contact.disposition = "abandoned"
            wait_s = txn.now - (contact.arrived_s or contact.queued_at.timestamp())
            _event(txn, principal, contact, "contact.abandoned", None, wait_s=round(wait_s, 3))

        router.execute(principal.tenant_id, op, principal)

    def transfer(
        self, router: RoutingRuntime, principal: Principal, contact_id: str, data: TransferIn
    ) -> None:
        principal.require(FLOOR_READERS, "transferring a contact")

        def op(txn: RoutingTxn) -> None:
            contact = self._contact(txn, principal, contact_id)
            if contact.state not in ("queued", "offered", "connected"):
                raise Conflict(f"contact {contact_id} is {contact.state}; it cannot be transferred")
            if contact.state == "connected":
                self._handling(txn, principal, contact)
            elif not principal.has_any(SUPERVISORS):
                raise Forbidden("only supervisors move contacts that are still in line")
            if data.to_queue_id is not None:
                queue = queue_repository.get(txn.session, principal, data.to_queue_id)
                if queue is None or not queue.is_active:
                    raise Unprocessable(
                        f"queue {data.to_queue_id} not found or not active",
                        details=[{"field": "to_queue_id", "message": "unknown queue"}],
                    )
            if data.to_agent_id is not None:
                target = repo.agent_of_id(txn.session, principal, data.to_agent_id)
                if target is None:
                    raise Unprocessable(
                        f"agent {data.to_agent_id} not found",
                        details=[{"field": "to_agent_id", "message": "unknown agent"}],
                    )
            previous = contact.agent_id if contact.state != "queued" else None
            transfers = list(contact.context.get("transfers", []))
            transfers.append(
                {
                    "from_agent_id": previous,
                    "from_queue_id": contact.queue_id,
                    "note": data.note,
                    "by": principal.user_id,
                    "at": txn.now,
                }
            )
            txn.rescind_reason = "transferred"
            txn.touch(contact.id, previous)
            with engine_errors():
                txn.run(
                    txn.engine.transfer(
                        contact.id,
                        txn.now,
                        to_queue=data.to_queue_id,
                        to_agent=data.to_agent_id,
                        context={"transfers": transfers, "transfer_note": data.note},
                    )
                )
            if previous is not None and contact.state == "connected":
                end_leg(txn, contact.id, previous, "transferred")
            _event(
                txn,
                principal,
                contact,
                "contact.transferred",
                previous,
                to_queue_id=data.to_queue_id,
                to_agent_id=data.to_agent_id,
                note=data.note,
            )

        router.execute(principal.tenant_id, op, principal)

    def callback(
        self, router: RoutingRuntime, principal: Principal, contact_id: str, data: CallbackIn
    ) -> None:
        principal.require(CUSTOMER_WRITERS, "requesting a callback")

        def op(txn: RoutingTxn) -> None:
            contact = self._contact(txn, principal, contact_id)
            if contact.state != "queued":
                raise Conflict(f"contact {contact_id} is {contact.state}, not waiting in line")
            at_s = _epoch(data.at)
            txn.touch(contact.id)
            with engine_errors():
                txn.run(txn.engine.request_callback(contact.id, txn.now, at_s))
            _event(txn, principal, contact, "contact.callback_requested", None, at=at_s)

        router.execute(principal.tenant_id, op, principal)


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise Unprocessable(
            "at: give a time zone (e.g. 2026-12-01T10:00:00+08:00)",
            details=[{"field": "at", "message": "naive datetime"}],
        )
    return moment.timestamp()


def end_leg_answer(txn: RoutingTxn, contact_id: str, agent_id: str) -> str | None:
    from lianluo.routing.repository import routing_repository

    leg = routing_repository.open_leg(txn.session, contact_id, agent_id)
    if leg is None:
        return None
    leg.answered_at = to_datetime(txn.now)
    return leg.id


def _event(
    txn: RoutingTxn,
    principal: Principal,
    contact: Contact,
    kind: str,
    agent_id: str | None,
    **payload: object,
) -> None:
    event_service.append(
        txn.session,
        txn.tenant_id,
        kind,
        actor=principal,
        occurred_at=to_datetime(txn.now),
        customer_id=contact.customer_id,
        contact_id=contact.id,
        queue_id=contact.queue_id,
        agent_id=agent_id,
        partner_id=principal.partner_id,
        payload={"channel": contact.channel, **payload},
    )


contact_service = ContactService()
