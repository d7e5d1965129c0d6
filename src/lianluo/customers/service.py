"""Customer use cases. Every read and change of customer data leaves an audit event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianluo.auth.principal import CUSTOMER_READERS, CUSTOMER_WRITERS, Principal
from lianluo.customers import view360_pg
from lianluo.customers.normalize import normalize_identity, search_text_for
from lianluo.customers.repository import customer_repository as repo
from lianluo.customers.schemas import (
    ContactOut,
    ConversationOut,
    Customer360,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    CustomerWithIdentities,
    IdentityIn,
    IdentityOut,
    MessageOut,
)
from lianluo.errors import BadRequest, Conflict, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Customer, Identity


class CustomerService:
    def create(self, session: Session, principal: Principal, data: CustomerIn) -> Customer:
        principal.require(CUSTOMER_WRITERS, "creating a customer")
        identities = [("phone", p) for p in data.phones] + [
            ("email", normalize_identity("email", str(e))) for e in data.emails
        ]
        for kind, value in identities:
            self._ensure_identity_free(session, principal, kind, value)
        customer = Customer(
            tenant_id=principal.tenant_id,
            partner_id=principal.partner_id,
            name=data.name,
            language=data.language,
            region=data.region,
            value_tier=data.value_tier,
            attributes=data.attributes,
            tags=data.tags,
            consents=data.consents,
            search_text=search_text_for(data.name, [v for _, v in identities]),
        )
        session.add(customer)
        session.flush()
        for kind, value in dict.fromkeys(identities):
            session.add(
                Identity(
                    tenant_id=principal.tenant_id, customer_id=customer.id, kind=kind, value=value
                )
            )
        self._flush(session)
        event_service.audit(session, principal, "customer.created", customer_id=customer.id)
        return customer

    def get(self, session: Session, principal: Principal, customer_id: str) -> Customer:
        principal.require(CUSTOMER_READERS, "reading customers")
        customer = repo.get(session, principal, customer_id)
        if customer is None:
            raise NotFound.of("customer", customer_id)
        return customer

    def read(
        self, session: Session, principal: Principal, customer_id: str
    ) -> CustomerWithIdentities:
        customer = self.get(session, principal, customer_id)
        event_service.audit(
            session, principal, "customer.read", customer_id=customer.id, read_only=True
        )
        return self._with_identities(customer, repo.identities(session, [customer.id]))

    def present(self, session: Session, customer: Customer) -> CustomerWithIdentities:
        """The customer as the API shows it, after a change that was audited already."""
        return self._with_identities(customer, repo.identities(session, [customer.id]))

    def search(
        self, session: Session, principal: Principal, query: str | None, offset: int, limit: int
    ) -> tuple[list[CustomerWithIdentities], int]:
        principal.require(CUSTOMER_READERS, "searching customers")
        customers, total = repo.search(session, principal, query, offset, limit)
        by_customer: dict[str, list[Identity]] = defaultdict(list)
        for identity in repo.identities(session, [c.id for c in customers]):
            by_customer[identity.customer_id].append(identity)
        event_service.audit(
            session,
            principal,
            "customer.searched",
            payload={"query_length": len(query or ""), "results": len(customers)},
            read_only=True,
        )
        return [self._with_identities(c, by_customer[c.id]) for c in customers], total

    def update(
        self, session: Session, principal: Principal, customer_id: str, data: CustomerUpdate
    ) -> Customer:
        principal.require(CUSTOMER_WRITERS, "changing a customer")
        customer = self.get(session, principal, customer_id)
        if customer.merged_into_id:
            raise Conflict(f"customer {customer_id} was merged into {customer.merged_into_id}")
        changes = data.model_dump(exclude_unset=True)
        for field, value in changes.items():
            if value is None and field not in {"churn_risk"}:
                raise BadRequest(f"{field} cannot be null")
            setattr(customer, field, value)
        if "name" in changes:
            self._refresh_search_text(session, customer)
        event_service.audit(
            session,
            principal,
            "customer.updated",
            customer_id=customer.id,
            payload={"fields": sorted(changes)},
        )
        return customer

    def add_identity(
        self, session: Session, principal: Principal, customer_id: str, data: IdentityIn
    ) -> Identity:
        principal.require(CUSTOMER_WRITERS, "changing a customer")
        customer = self.get(session, principal, customer_id)
        try:
            value = normalize_identity(data.kind, data.value)
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        self._ensure_identity_free(session, principal, data.kind, value)
        identity = Identity(
            tenant_id=principal.tenant_id,
            customer_id=customer.id,
            kind=data.kind,
            value=value,
            verified=data.verified,
        )
        session.add(identity)
        self._flush(session)
        self._refresh_search_text(session, customer)
        event_service.audit(
            session,
            principal,
            "customer.identity_added",
            customer_id=customer.id,
            payload={"kind": data.kind},
        )
        return identity

    def merge(
        self, session: Session, principal: Principal, target_id: str, source_id: str
    ) -> Customer:
        """Merge `source` into `target`: identities, conversations and contacts move; the
        source stays as a tombstone pointing at the target, so old links still resolve."""
        principal.require(CUSTOMER_WRITERS, "merging customers")
        if target_id == source_id:
            raise BadRequest("a customer cannot be merged into itself")
        target = self.get(session, principal, target_id)
        source = self.get(session, principal, source_id)
        for customer in (target, source):
            if customer.merged_into_id:
                raise Conflict(f"customer {customer.id} was already merged")
        moved = repo.reassign_customer(session, principal.tenant_id, source.id, target.id)
        source.merged_into_id = target.id
        target.tags = sorted(set(target.tags) | set(source.tags))
        target.attributes = {**source.attributes, **target.attributes}
        if _tier_rank(source.value_tier) > _tier_rank(target.value_tier):
            target.value_tier = source.value_tier
        session.flush()
        self._refresh_search_text(session, target)
        event_service.audit(
            session,
            principal,
            "customer.merged",
            customer_id=target.id,
            payload={"source_id": source.id, "moved": moved},
        )
        return target

    def view_360_json(
        self,
        session: Session,
        principal: Principal,
        customer_id: str,
        conversations_limit: int = 20,
        messages_per_conversation: int = 50,
    ) -> str:
        """The 360 view as JSON text (the `Customer360` document). On PostgreSQL the database
        assembles it in one statement (customers/view360_pg.py); elsewhere it is `view_360`."""
        if session.get_bind().dialect.name != "postgresql":
            return self.view_360(
                session, principal, customer_id, conversations_limit, messages_per_conversation
            ).model_dump_json()
        principal.require(CUSTOMER_READERS, "reading customers")
        document = view360_pg.view_360_json(
            session, principal, customer_id, conversations_limit, messages_per_conversation
        )
        if document is None:
            raise NotFound.of("customer", customer_id)
        return document  # audited by the same statement

    def view_360(
        self,
        session: Session,
        principal: Principal,
        customer_id: str,
        conversations_limit: int = 20,
        messages_per_conversation: int = 50,
    ) -> Customer360:
        principal.require(CUSTOMER_READERS, "reading customers")
        customer = repo.get_with_stats(session, principal, customer_id)
        if customer is None:
            raise NotFound.of("customer", customer_id)
        identities = repo.identities(session, [customer.id])
        conversations, contacts, messages = repo.timeline(
            session, principal, customer.id, conversations_limit, messages_per_conversation
        )
        contacts_by_conv: dict[str, list[ContactOut]] = defaultdict(list)
        for row in contacts:
            contacts_by_conv[row.id].append(
                ContactOut(
                    id=row.contact_id,
                    channel=row.channel,
                    direction=row.direction,
                    state=row.state,
                    queue_id=row.queue_id,
                    agent_id=row.agent_id,
                    queued_at=row.queued_at,
                    answered_at=row.answered_at,
                    ended_at=row.contact_ended_at,
                    disposition=row.disposition,
                )
            )
        messages_by_conv: dict[str, list[MessageOut]] = defaultdict(list)
        for row in messages:
            messages_by_conv[row.conversation_id].append(
                MessageOut.model_validate(row, from_attributes=True)
            )
        from lianluo.tickets.service import ticket_service  # tickets: their history in the 360

        tickets = ticket_service.briefs_for_customer(session, principal, customer.id)
        event_service.audit(
            session, principal, "customer.viewed_360", customer_id=customer.id, read_only=True
        )
        return Customer360(
            customer=CustomerOut.model_validate(customer, from_attributes=True),
            identities=[IdentityOut.model_validate(i) for i in identities],
            contacts_total=customer.contacts_total,
            last_contact_at=customer.last_contact_at,
            open_conversations=customer.open_conversations,
            timeline=[
                ConversationOut(
                    id=row.id,
                    subject=row.subject,
                    status=row.status,
                    started_at=row.started_at,
                    ended_at=row.ended_at,
                    contacts=contacts_by_conv[row.id],
                    messages=messages_by_conv[row.id],
                )
                for row in conversations
            ],
            tickets=tickets,
        )

    def _ensure_identity_free(
        self, session: Session, principal: Principal, kind: str, value: str
    ) -> None:
        existing = repo.find_identity(session, principal.tenant_id, kind, value)
        if existing is not None:
            # Say which customer only to someone allowed to see it.
            owner = repo.get(session, principal, existing.customer_id)
            where = f" (customer {owner.id})" if owner else ""
            raise Conflict(f"{kind} {value} already belongs to another customer{where}")

    def _refresh_search_text(self, session: Session, customer: Customer) -> None:
        values = [i.value for i in repo.identities(session, [customer.id])]
        customer.search_text = search_text_for(customer.name, values)

    @staticmethod
    def _with_identities(
        customer: Customer, identities: Sequence[Identity]
    ) -> CustomerWithIdentities:
        return CustomerWithIdentities(
            **CustomerOut.model_validate(customer).model_dump(),
            identities=[IdentityOut.model_validate(i) for i in identities],
        )

    @staticmethod
    def _flush(session: Session) -> None:
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("this identity already belongs to another customer") from None


_TIERS = ["standard", "silver", "gold", "vip"]


def _tier_rank(tier: str) -> int:
    return _TIERS.index(tier) if tier in _TIERS else 0


customer_service = CustomerService()
