"""Tickets (工单): filing, ownership, escalation, SLA sweeps, notes and replies, attachments,
merging, ratings, call-backs and the per-model metrics of seed 001.

The rules live in domain/tickets; this module loads rows, applies the rules, writes the event
log (every change is a `ticket.*` event naming the customer, so the 360 view and the ticket's
history read it) and never commits.

Attachments are stored in the database (ticket_attachments.data), not under the data directory:
a file then commits or rolls back with the ticket change that brought it (nothing is
acknowledged before it is stored, and no orphan file outlives a failed request), it is scoped by
the same tenant/partner queries as the ticket, it travels with database backups, and several
server processes share it without a shared disk. The size limit (5 MiB) keeps the tables lean.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from lianluo.auth.principal import (
    CUSTOMER_READERS,
    CUSTOMER_WRITERS,
    EVENT_READERS,
    Principal,
)
from lianluo.contacts.repository import ContactRepository
from lianluo.customers.repository import customer_repository
from lianluo.db.base import utcnow
from lianluo.domain.tickets import complaints, metrics, ownership, sla, states
from lianluo.domain.tickets.calendar import BusinessCalendar
from lianluo.domain.tickets.ownership import EscalationKind, OwnershipModel
from lianluo.domain.tickets.states import TicketStatus
from lianluo.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import (
    Queue,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketEntry,
    TicketFollowUp,
    TicketSettings,
)
from lianluo.models.user import Role
from lianluo.queues.repository import queue_repository
from lianluo.tenants.service import apply_changes, flush_or_conflict, require_tenant_admin
from lianluo.tickets import schemas as s
from lianluo.tickets.repository import TicketFilters
from lianluo.tickets.repository import ticket_repository as repo

SUPERVISORS = frozenset({Role.supervisor, Role.admin, Role.partner_admin})
DEFAULT_CALLBACK_S = 2 * 3600
_contacts = ContactRepository()


@dataclass(frozen=True)
class TenantRules:
    calendar: BusinessCalendar
    sla: dict[str, sla.SlaPolicy]
    repeat_window_days: int
    settings: s.TicketSettingsOut


def _as_dates(values: Sequence[str]) -> list[date]:
    return [date.fromisoformat(v) for v in values]


def rules_of(session: Session, tenant_id: str) -> TenantRules:
    row = repo.settings(session, tenant_id)
    timezone = repo.tenant_timezone(session, tenant_id)
    hours = row.business_hours if row and row.business_hours else s.DEFAULT_HOURS
    targets = row.sla if row and row.sla else s.DEFAULT_SLA
    holidays = _as_dates(row.holidays) if row else []
    makeup = _as_dates(row.makeup_days) if row else []
    window = row.repeat_window_days if row else s.DEFAULT_REPEAT_WINDOW_DAYS
    calendar = BusinessCalendar.from_config(hours, timezone, holidays, makeup)
    policies = {k: sla.SlaPolicy(v["target_s"], v["warn_before_s"]) for k, v in targets.items()}
    out = s.TicketSettingsOut(
        business_hours=hours,
        holidays=holidays,
        makeup_days=makeup,
        sla=targets,
        repeat_window_days=window,
        timezone=timezone,
    )
    return TenantRules(calendar, policies, window, out)


def sla_reading(ticket: Ticket, rules: TenantRules, now: datetime) -> s.SlaOut:
    if ticket.status not in states.OPEN:
        return s.SlaOut(state=None, due_at=None, remaining_s=None, breaches=ticket.breaches)
    policy = sla.SlaPolicy(ticket.sla_target_s, ticket.sla_warn_before_s)
    reading = sla.read(rules.calendar, policy, _clock(ticket), now)
    return s.SlaOut(
        state=reading.state,
        due_at=reading.due_at.astimezone(UTC),
        remaining_s=round(reading.remaining_s, 3),
        breaches=ticket.breaches,
    )


def _clock(ticket: Ticket) -> sla.SlaClock:
    return sla.SlaClock(ticket.sla_started_at, ticket.sla_paused_since, ticket.sla_paused_s)


def _start_clock(ticket: Ticket, rules: TenantRules, now: datetime) -> None:
    """A fresh clock for the ticket's priority (on filing, a new tier, a re-open)."""
    policy = rules.sla[ticket.priority]
    ticket.sla_target_s = policy.target_s
    ticket.sla_warn_before_s = policy.warn_before_s
    ticket.sla_started_at = now
    ticket.sla_paused_since = None
    ticket.sla_paused_s = 0.0
    ticket.sla_warned_at = None
    ticket.sla_breached_at = None
    _refresh_due(ticket, rules)


def _refresh_due(ticket: Ticket, rules: TenantRules) -> None:
    """Keep the stored warning and due times in step with the clock (the sweep selects on
    them); a paused or finished clock has neither."""
    if ticket.sla_paused_since is not None or ticket.status not in states.OPEN:
        ticket.sla_warn_at = ticket.sla_due_at = None
        return
    policy = sla.SlaPolicy(ticket.sla_target_s, ticket.sla_warn_before_s)
    clock = _clock(ticket)
    ticket.sla_warn_at = sla.warn_at(rules.calendar, policy, clock).astimezone(UTC)
    ticket.sla_due_at = sla.due_at(rules.calendar, policy, clock).astimezone(UTC)


def _tier_name(ticket: Ticket, category: TicketCategory | None) -> str:
    if ticket.tier == 0:
        return "首问"
    tiers = category.tiers if category else []
    return tiers[ticket.tier - 1]["name"] if ticket.tier - 1 < len(tiers) else str(ticket.tier)


class TicketService:
    # ---- settings ---------------------------------------------------------------------------

    def get_settings(self, session: Session, principal: Principal) -> s.TicketSettingsOut:
        principal.require(CUSTOMER_READERS | EVENT_READERS, "reading ticket settings")
        return rules_of(session, principal.tenant_id).settings

    def put_settings(
        self, session: Session, principal: Principal, data: s.TicketSettingsIn
    ) -> s.TicketSettingsOut:
        require_tenant_admin(principal, "changing ticket settings")
        row = repo.settings(session, principal.tenant_id)
        if row is None:
            row = TicketSettings(tenant_id=principal.tenant_id)
            session.add(row)
        row.business_hours = data.business_hours
        row.holidays = [d.isoformat() for d in sorted(set(data.holidays))]
        row.makeup_days = [d.isoformat() for d in sorted(set(data.makeup_days))]
        row.sla = {str(k): v.model_dump() for k, v in data.sla.items()}
        row.repeat_window_days = data.repeat_window_days
        session.flush()
        # a new calendar (holidays added, say) moves the due times of open tickets
        rules = rules_of(session, principal.tenant_id)
        for ticket in repo.open_of_tenant(session, principal.tenant_id):
            _refresh_due(ticket, rules)
        session.flush()
        event_service.append(
            session, principal.tenant_id, "ticket.settings_changed", actor=principal
        )
        return rules_of(session, principal.tenant_id).settings

    # ---- categories -------------------------------------------------------------------------

    def list_categories(
        self, session: Session, principal: Principal, offset: int, limit: int
    ) -> tuple[Sequence[TicketCategory], int]:
        principal.require(CUSTOMER_READERS | EVENT_READERS, "listing ticket categories")
        return repo.categories(session, principal.tenant_id, offset, limit)

    def get_category(
        self, session: Session, principal: Principal, category_id: str
    ) -> TicketCategory:
        principal.require(CUSTOMER_READERS | EVENT_READERS, "reading ticket categories")
        category = repo.category(session, principal.tenant_id, category_id)
        if category is None:
            raise NotFound.of("ticket category", category_id)
        return category

    def create_category(
        self, session: Session, principal: Principal, data: s.CategoryIn
    ) -> TicketCategory:
        require_tenant_admin(principal, "creating a ticket category")
        if repo.category_name_taken(session, principal.tenant_id, data.name):
            raise Conflict(_category_taken(data.name))
        tiers = self._checked_tiers(session, principal, data.tiers)
        category = TicketCategory(
            tenant_id=principal.tenant_id,
            name=data.name,
            ownership_model=str(data.ownership_model),
            is_complaint=data.is_complaint,
            tiers=tiers,
        )
        session.add(category)
        flush_or_conflict(session, _category_taken(data.name))
        event_service.append(
            session,
            principal.tenant_id,
            "ticket.category_created",
            actor=principal,
            payload={"category_id": category.id, "ownership_model": category.ownership_model},
        )
        return category

    def update_category(
        self, session: Session, principal: Principal, category_id: str, data: s.CategoryUpdate
    ) -> TicketCategory:
        require_tenant_admin(principal, "changing a ticket category")
        category = self.get_category(session, principal, category_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("name") and repo.category_name_taken(
            session, principal.tenant_id, changes["name"], category.id
        ):
            raise Conflict(_category_taken(changes["name"]))
        if "tiers" in changes:
            if data.tiers is None:
                raise BadRequest("tiers cannot be null; leave it out to keep it")
            if category.ownership_model == OwnershipModel.first_contact and data.tiers:
                raise Unprocessable("first_contact categories have no tiers")
            if category.ownership_model == OwnershipModel.tiered and not data.tiers:
                raise Unprocessable("a tiered category needs at least one tier")
            changes["tiers"] = self._checked_tiers(session, principal, data.tiers)
        apply_changes(category, changes)
        flush_or_conflict(session, _category_taken(category.name))
        event_service.append(
            session,
            principal.tenant_id,
            "ticket.category_updated",
            actor=principal,
            payload={"category_id": category.id, "fields": sorted(changes)},
        )
        return category

    def _checked_tiers(
        self, session: Session, principal: Principal, tiers: Sequence[s.TierIn]
    ) -> list[dict[str, Any]]:
        ids = [t.queue_id for t in tiers]
        known = queue_repository.ids_in_tenant(session, principal.tenant_id, ids)
        for i, tier in enumerate(tiers):
            if tier.queue_id not in known:
                raise Unprocessable(
                    f"tiers.{i}.queue_id: queue {tier.queue_id} does not exist in this tenant",
                    details=[{"field": f"tiers.{i}.queue_id", "message": "unknown queue"}],
                )
        return [t.model_dump() for t in tiers]

    # ---- tickets ----------------------------------------------------------------------------

    def get(self, session: Session, principal: Principal, ticket_id: str) -> Ticket:
        principal.require(CUSTOMER_READERS, "reading tickets")
        ticket = repo.get(session, principal, ticket_id)
        if ticket is None:
            raise NotFound.of("ticket", ticket_id)
        return ticket

    def present(
        self,
        session: Session,
        tickets: Sequence[Ticket],
        tenant_id: str,
        now: datetime | None = None,
    ) -> list[s.TicketOut]:
        now = now or utcnow()
        rules = rules_of(session, tenant_id)
        categories = {c.id: c for c in repo.categories(session, tenant_id)[0]}
        return [self._out(t, categories.get(t.category_id), rules, now) for t in tickets]

    @staticmethod
    def _out(
        t: Ticket, category: TicketCategory | None, rules: TenantRules, now: datetime
    ) -> s.TicketOut:
        return s.TicketOut(
            id=t.id,
            customer_id=t.customer_id,
            contact_id=t.contact_id,
            category_id=t.category_id,
            category=category.name if category else "",
            subject=t.subject,
            description=t.description,
            status=TicketStatus(t.status),
            priority=s.Priority(t.priority),
            source=t.source,
            ownership_model=OwnershipModel(t.ownership_model),
            tier=t.tier,
            tier_name=_tier_name(t, category),
            queue_id=t.queue_id,
            owner_id=t.owner_id,
            first_owner_id=t.first_owner_id,
            partner_id=t.partner_id,
            over_the_head=t.over_the_head,
            repeat_complaint=t.repeat_complaint,
            repeat_of_id=t.repeat_of_id,
            sla=sla_reading(t, rules, now),
            escalations=t.escalations,
            reopens=t.reopens,
            resolved_at=t.resolved_at,
            closed_at=t.closed_at,
            merged_into_id=t.merged_into_id,
            csat_score=t.csat_score,
            csat_comment=t.csat_comment,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )

    def list(
        self,
        session: Session,
        principal: Principal,
        filters: TicketFilters,
        sla_state: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[s.TicketOut], int]:
        """With an SLA filter the readings are computed for every matching open ticket (the
        calendar is business hours, not SQL), then paged."""
        principal.require(CUSTOMER_READERS, "listing tickets")
        if filters.customer_id:
            event_service.audit(
                session,
                principal,
                "customer.tickets_listed",
                customer_id=filters.customer_id,
                read_only=True,
            )
        if sla_state is None:
            rows, total = repo.list(session, principal, filters, offset, limit)
            return self.present(session, rows, principal.tenant_id), total
        rows, _ = repo.list(session, principal, filters, 0, None)
        out = [t for t in self.present(session, rows, principal.tenant_id) if t.sla.state]
        matching = [t for t in out if t.sla.state == sla_state]
        return matching[offset : offset + limit], len(matching)

    def detail(self, session: Session, principal: Principal, ticket_id: str) -> s.TicketDetail:
        ticket = self.get(session, principal, ticket_id)
        out = self.present(session, [ticket], principal.tenant_id)[0]
        event_service.audit(
            session,
            principal,
            "ticket.read",
            customer_id=ticket.customer_id,
            payload={"ticket_id": ticket.id},
            read_only=True,
        )
        return s.TicketDetail(
            **out.model_dump(),
            entries=[s.EntryOut.model_validate(e) for e in repo.entries(session, ticket.id)],
            attachments=[
                s.AttachmentOut.model_validate(a, from_attributes=True)
                for a in repo.attachments_meta(session, ticket.id)
            ],
            followups=[s.FollowUpOut.model_validate(f) for f in repo.followups(session, ticket.id)],
            history=[
                s.HistoryItem(
                    type=e.type, occurred_at=e.occurred_at, actor_id=e.actor_id, payload=e.payload
                )
                for e in repo.history(session, ticket)
            ],
        )

    def create(self, session: Session, principal: Principal, data: s.TicketIn) -> Ticket:
        principal.require(CUSTOMER_WRITERS, "filing a ticket")
        category = repo.category(session, principal.tenant_id, data.category_id)
        if category is None or not category.is_active:
            raise Unprocessable(
                f"category_id {data.category_id} is not an active ticket category of this tenant",
                details=[{"field": "category_id", "message": "unknown category"}],
            )
        partner_id = principal.partner_id
        queue_id: str | None = None
        if data.contact_id:
            contact = _contacts.get(session, principal, data.contact_id)
            if contact is None:
                raise Unprocessable(
                    f"contact_id {data.contact_id} is not a contact you can see",
                    details=[{"field": "contact_id", "message": "unknown contact"}],
                )
            if data.customer_id and data.customer_id != contact.customer_id:
                raise Unprocessable("customer_id differs from the contact's customer")
            customer_id = contact.customer_id
            queue_id = contact.queue_id
            if queue_id and partner_id is None:
                queue = session.get(Queue, queue_id)
                partner_id = queue.partner_id if queue else None
            source = data.source or contact.channel
        else:
            customer = customer_repository.get(session, principal, data.customer_id or "")
            if customer is None:
                raise Unprocessable(
                    f"customer_id {data.customer_id} is not a customer you can see",
                    details=[{"field": "customer_id", "message": "unknown customer"}],
                )
            customer_id = customer.id
            source = data.source or "manual"
        now = utcnow()
        rules = rules_of(session, principal.tenant_id)
        model = OwnershipModel(category.ownership_model)
        owner = ownership.initial_owner(model, principal.user_id)
        ticket = Ticket(
            tenant_id=principal.tenant_id,
            partner_id=partner_id,
            customer_id=customer_id,
            contact_id=data.contact_id,
            category_id=category.id,
            subject=data.subject,
            description=data.description,
            status=TicketStatus.new if owner is None else TicketStatus.in_progress,
            priority=str(data.priority),
            source=source,
            ownership_model=str(model),
            queue_id=queue_id,
            owner_id=owner,
            first_owner_id=owner,
            owners=[owner] if owner else [],
            created_by=principal.user_id,
            over_the_head=complaints.is_over_the_head(data.over_the_head, data.source),
        )
        if category.is_complaint:
            earlier = [
                complaints.EarlierTicket(r.id, r.created_at, r.resolved_at)
                for r in repo.earlier_of_customer(
                    session, principal.tenant_id, customer_id, category.id
                )
            ]
            previous = complaints.repeat_of(earlier, now, rules.repeat_window_days)
            if previous is not None:
                ticket.repeat_complaint = True
                ticket.repeat_of_id = previous.id
        _start_clock(ticket, rules, now)
        session.add(ticket)
        session.flush()
        self._event(
            session,
            principal,
            ticket,
            "ticket.created",
            category_id=category.id,
            ownership_model=ticket.ownership_model,
            priority=ticket.priority,
            source=ticket.source,
            owner_id=owner,
            repeat_complaint=ticket.repeat_complaint,
            repeat_of_id=ticket.repeat_of_id,
            over_the_head=ticket.over_the_head,
        )
        if ticket.repeat_complaint:
            self._event(
                session,
                principal,
                ticket,
                "ticket.repeat_complaint",
                repeat_of_id=ticket.repeat_of_id,
            )
        if ticket.over_the_head:
            self._event(session, principal, ticket, "ticket.over_the_head", source=ticket.source)
        return ticket

    def update(
        self, session: Session, principal: Principal, ticket_id: str, data: s.TicketUpdate
    ) -> Ticket:
        principal.require(CUSTOMER_WRITERS, "changing a ticket")
        ticket = self.get(session, principal, ticket_id)
        self._require_open(ticket)
        changes = data.model_dump(exclude_unset=True)
        if "priority" in changes and changes["priority"] is not None:
            changes["priority"] = str(changes["priority"])
        apply_changes(ticket, changes)
        if "priority" in changes:
            # the new priority's target applies to the time already counted
            rules = rules_of(session, principal.tenant_id)
            policy = rules.sla[ticket.priority]
            ticket.sla_target_s = policy.target_s
            ticket.sla_warn_before_s = policy.warn_before_s
            ticket.sla_warned_at = None
            ticket.sla_breached_at = None
            _refresh_due(ticket, rules)
        session.flush()
        self._event(session, principal, ticket, "ticket.updated", fields=sorted(changes))
        return ticket

    def change_status(
        self, session: Session, principal: Principal, ticket_id: str, data: s.StatusIn
    ) -> Ticket:
        principal.require(CUSTOMER_WRITERS, "changing a ticket's status")
        ticket = self.get(session, principal, ticket_id)
        self._require_owner_or_supervisor(ticket, principal, "change its status")
        current = TicketStatus(ticket.status)
        try:
            target = states.transition(current, data.status)
        except states.TransitionError as exc:
            raise Conflict(str(exc)) from None
        now = utcnow()
        rules = rules_of(session, principal.tenant_id)
        if states.sla_paused(current) and not states.sla_paused(target):
            resumed = _clock(ticket).resume(rules.calendar, now)
            ticket.sla_paused_since = None
            ticket.sla_paused_s = resumed.paused_business_s
        if states.sla_paused(target):
            ticket.sla_paused_since = now
        reopened = states.is_reopen(current, target)
        ticket.status = str(target)
        if target == TicketStatus.resolved:
            ticket.resolved_at = now
            ticket.resolved_by = principal.user_id
        elif target == TicketStatus.closed:
            ticket.closed_at = now
        if reopened:
            ticket.reopens += 1
            ticket.resolved_at = None
            ticket.resolved_by = None
            ticket.closed_at = None
            _start_clock(ticket, rules, now)
        else:
            _refresh_due(ticket, rules)
        if data.comment:
            session.add(
                TicketEntry(
                    tenant_id=ticket.tenant_id,
                    ticket_id=ticket.id,
                    kind="note",
                    author_id=principal.user_id,
                    body=data.comment,
                )
            )
        session.flush()
        kind = "ticket.reopened" if reopened else "ticket.status_changed"
        self._event(session, principal, ticket, kind, status_from=current, status_to=target)
        return ticket

    def assign(
        self, session: Session, principal: Principal, ticket_id: str, data: s.AssignIn
    ) -> Ticket:
        principal.require(CUSTOMER_WRITERS, "assigning a ticket")
        ticket = self.get(session, principal, ticket_id)
        self._require_open(ticket)
        owner_id = data.owner_id or principal.user_id
        if repo.user_in_scope(session, principal, owner_id) is None:
            raise Unprocessable(
                f"owner_id {owner_id} is not a user you can assign",
                details=[{"field": "owner_id", "message": "unknown user"}],
            )
        model = OwnershipModel(ticket.ownership_model)
        by_supervisor = principal.has_any(SUPERVISORS)
        taking = owner_id == principal.user_id
        if not ownership.may_reassign(
            model,
            by_supervisor=by_supervisor,
            taking_it_oneself=taking,
            owned=bool(ticket.owner_id),
        ):
            raise Forbidden(
                "first-contact ownership: the owner keeps this ticket until it is resolved; "
                "consult others with notes, or ask a supervisor to reassign it"
                if model == OwnershipModel.first_contact
                else "only a supervisor assigns a tiered ticket to someone else"
            )
        if not by_supervisor and ticket.tier > 0:
            self._require_tier_skills(session, principal, ticket, owner_id)
        previous = ticket.owner_id
        ticket.owner_id = owner_id
        if ticket.first_owner_id is None:
            ticket.first_owner_id = owner_id
        if owner_id not in ticket.owners:
            ticket.owners = [*ticket.owners, owner_id]
        if ticket.status == TicketStatus.new:
            ticket.status = str(TicketStatus.in_progress)
        session.flush()
        self._event(
            session, principal, ticket, "ticket.assigned", owner_from=previous, owner_to=owner_id
        )
        return ticket

    def _require_tier_skills(
        self, session: Session, principal: Principal, ticket: Ticket, user_id: str
    ) -> None:
        category = repo.category(session, ticket.tenant_id, ticket.category_id)
        tiers = category.tiers if category else []
        if ticket.tier - 1 >= len(tiers):
            return
        needed: dict[str, int] = tiers[ticket.tier - 1].get("required_skills") or {}
        held = repo.skills_of_user(session, ticket.tenant_id, user_id)
        missing = sorted(k for k, level in needed.items() if held.get(k, 0) < level)
        if missing:
            raise Forbidden(
                f"tier {tiers[ticket.tier - 1]['name']!r} needs the skill(s) "
                f"{', '.join(f'{k}>={needed[k]}' for k in missing)}"
            )

    def escalate(
        self,
        session: Session,
        principal: Principal | None,
        ticket: Ticket,
        reason: str,
        now: datetime,
        automatic: bool = False,
    ) -> ownership.Escalation:
        """Apply the category's ownership model: the next tier's queue, or a supervisor alert."""
        category = repo.category(session, ticket.tenant_id, ticket.category_id)
        tiers = category.tiers if category else []
        decision = ownership.escalate(
            OwnershipModel(ticket.ownership_model), ticket.tier, len(tiers)
        )
        ticket.escalations += 1
        if reason and principal is not None:  # free text stays on the ticket, not in the log
            session.add(
                TicketEntry(
                    tenant_id=ticket.tenant_id,
                    ticket_id=ticket.id,
                    kind="note",
                    author_id=principal.user_id,
                    body=reason,
                )
            )
        if decision.kind == EscalationKind.next_tier:
            ticket.tier = decision.to_tier
            ticket.tier_changes += 1
            ticket.queue_id = tiers[decision.to_tier - 1]["queue_id"]
            ticket.owner_id = None
            if ticket.status == TicketStatus.waiting_customer:
                ticket.status = str(TicketStatus.in_progress)
            _start_clock(ticket, rules_of(session, ticket.tenant_id), now)
        session.flush()
        self._event(
            session,
            principal,
            ticket,
            "ticket.escalated",
            kind=decision.kind,
            from_tier=decision.from_tier,
            to_tier=decision.to_tier,
            automatic=automatic,
            reason="sla_breached" if automatic else "by_hand",
        )
        return decision

    def escalate_by_hand(
        self, session: Session, principal: Principal, ticket_id: str, data: s.EscalateIn
    ) -> Ticket:
        principal.require(CUSTOMER_WRITERS, "escalating a ticket")
        ticket = self.get(session, principal, ticket_id)
        self._require_open(ticket)
        self.escalate(session, principal, ticket, data.reason, utcnow())
        return ticket

    def add_entry(
        self, session: Session, principal: Principal, ticket_id: str, data: s.EntryIn
    ) -> TicketEntry:
        principal.require(CUSTOMER_WRITERS, "writing on a ticket")
        ticket = self.get(session, principal, ticket_id)
        if ticket.status == TicketStatus.merged:
            raise Conflict(f"ticket {ticket.id} was merged into {ticket.merged_into_id}")
        entry = TicketEntry(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            kind=str(data.kind),
            author_id=principal.user_id,
            body=data.body,
        )
        session.add(entry)
        session.flush()
        kind = "ticket.replied" if data.kind == s.EntryKind.reply else "ticket.note_added"
        self._event(session, principal, ticket, kind, entry_id=entry.id)
        return entry

    def add_attachment(
        self,
        session: Session,
        principal: Principal,
        ticket_id: str,
        filename: str | None,
        content_type: str | None,
        data: bytes | None,
    ) -> TicketAttachment:
        principal.require(CUSTOMER_WRITERS, "attaching a file to a ticket")
        ticket = self.get(session, principal, ticket_id)
        if data is None:
            raise BadRequest("send the file as multipart/form-data in the field `file`")
        if len(data) > s.MAX_ATTACHMENT_BYTES:
            raise Unprocessable(
                f"the file has {len(data)} bytes; attachments are limited to "
                f"{s.MAX_ATTACHMENT_BYTES} bytes"
            )
        name = (filename or "attachment").replace("\x00", "").rsplit("/", 1)[-1][:255]
        attachment = TicketAttachment(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            filename=name or "attachment",
            content_type=(content_type or "application/octet-stream")[:127],
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            created_by=principal.user_id,
        )
        session.add(attachment)
        session.flush()
        self._event(
            session,
            principal,
            ticket,
            "ticket.attachment_added",
            attachment_id=attachment.id,
            size_bytes=attachment.size_bytes,
        )
        return attachment

    def read_attachment(
        self, session: Session, principal: Principal, ticket_id: str, attachment_id: str
    ) -> TicketAttachment:
        principal.require(CUSTOMER_READERS, "reading ticket attachments")
        attachment = repo.attachment(session, principal, ticket_id, attachment_id)
        if attachment is None:
            raise NotFound.of("attachment", attachment_id)
        ticket = repo.get(session, principal, ticket_id)
        event_service.audit(
            session,
            principal,
            "ticket.attachment_read",
            customer_id=ticket.customer_id if ticket else None,
            payload={"ticket_id": ticket_id, "attachment_id": attachment_id},
            read_only=True,
        )
        return attachment

    def merge(
        self, session: Session, principal: Principal, ticket_id: str, data: s.MergeIn
    ) -> Ticket:
        """The duplicate `ticket_id` joins `into_id`: its notes, replies, attachments and
        follow-ups move over; the duplicate stays as `merged`, pointing at the survivor."""
        principal.require(CUSTOMER_WRITERS, "merging tickets")
        duplicate = self.get(session, principal, ticket_id)
        if data.into_id == ticket_id:
            raise BadRequest("a ticket cannot be merged into itself")
        target = repo.get(session, principal, data.into_id)
        if target is None:
            raise Unprocessable(
                f"into_id {data.into_id} is not a ticket you can see",
                details=[{"field": "into_id", "message": "unknown ticket"}],
            )
        if target.status == TicketStatus.merged:
            raise Conflict(f"ticket {target.id} was itself merged into {target.merged_into_id}")
        if target.customer_id != duplicate.customer_id:
            raise Conflict("only tickets of the same customer can be merged")
        try:
            states.transition(TicketStatus(duplicate.status), TicketStatus.merged)
        except states.TransitionError as exc:
            raise Conflict(str(exc)) from None
        repo.move_children(session, duplicate.tenant_id, duplicate.id, target.id)
        previous = duplicate.status
        duplicate.status = str(TicketStatus.merged)
        duplicate.merged_into_id = target.id
        duplicate.sla_warn_at = duplicate.sla_due_at = None
        target.owners = [*target.owners, *(o for o in duplicate.owners if o not in target.owners)]
        session.flush()
        self._event(
            session, principal, duplicate, "ticket.merged", into_id=target.id, status_from=previous
        )
        self._event(session, principal, target, "ticket.absorbed", duplicate_id=duplicate.id)
        return target

    def rate(
        self, session: Session, principal: Principal, ticket_id: str, data: s.RatingIn
    ) -> Ticket:
        principal.require(CUSTOMER_WRITERS, "recording a satisfaction rating")
        ticket = self.get(session, principal, ticket_id)
        if ticket.status not in (TicketStatus.resolved, TicketStatus.closed):
            raise Conflict("a ticket is rated once it is resolved or closed")
        if ticket.csat_score is not None:
            raise Conflict(f"ticket {ticket.id} was already rated {ticket.csat_score}")
        ticket.csat_score = data.score
        ticket.csat_comment = data.comment
        ticket.rated_at = utcnow()
        session.flush()
        self._event(session, principal, ticket, "ticket.rated", score=data.score)
        return ticket

    def schedule_callback(
        self, session: Session, principal: Principal, ticket_id: str, data: s.CallbackIn
    ) -> TicketFollowUp:
        """ "We will find out and call you back": a follow-up for the owner (the caller when
        nobody owns it yet), due at a time or after business time on the tenant's calendar."""
        principal.require(CUSTOMER_WRITERS, "promising a call-back")
        ticket = self.get(session, principal, ticket_id)
        self._require_open(ticket)
        now = utcnow()
        if data.due_at is not None:
            if data.due_at <= now:
                raise Unprocessable("due_at must be in the future")
            due = data.due_at
        else:
            calendar = rules_of(session, principal.tenant_id).calendar
            due = calendar.add_business(now, data.in_business_s or DEFAULT_CALLBACK_S)
            due = due.astimezone(UTC)
        followup = TicketFollowUp(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            owner_id=ticket.owner_id or principal.user_id,
            due_at=due,
            note=data.note,
        )
        session.add(followup)
        session.flush()
        self._event(
            session,
            principal,
            ticket,
            "ticket.callback_scheduled",
            followup_id=followup.id,
            owner_id=followup.owner_id,
            due_at=due.isoformat(),
        )
        return followup

    def list_followups(
        self,
        session: Session,
        principal: Principal,
        mine: bool,
        pending_only: bool,
        due_before: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[TicketFollowUp], int]:
        principal.require(CUSTOMER_READERS, "listing call-backs")
        owner = principal.user_id if mine else None
        return repo.list_followups(
            session, principal, owner, pending_only, due_before, offset, limit
        )

    def complete_followup(
        self, session: Session, principal: Principal, followup_id: str
    ) -> TicketFollowUp:
        principal.require(CUSTOMER_WRITERS, "completing a call-back")
        followup = repo.followup(session, principal, followup_id)
        if followup is None:
            raise NotFound.of("call-back", followup_id)
        if followup.done_at is not None:
            raise Conflict(f"call-back {followup.id} was already done")
        followup.done_at = utcnow()
        session.flush()
        ticket = repo.get(session, principal, followup.ticket_id)
        if ticket is not None:
            self._event(session, principal, ticket, "ticket.callback_done", followup_id=followup.id)
        return followup

    # ---- SLA sweep --------------------------------------------------------------------------

    def sweep(
        self, session: Session, now: datetime | None = None, tenant_id: str | None = None
    ) -> s.SweepOut:
        """Warn before, and act on, SLA breaches: each clock warns once and breaches once; a
        breach escalates by the category's ownership model (next tier, or a supervisor alert).
        Promised call-backs that fell due are announced to their owners, once.
        Called by the server loop (tickets/tasks.py), `lianluo tickets sweep` and the API."""
        now = now or utcnow()
        counts = dict(
            checked=0, warned=0, breached=0, escalated=0, supervisor_alerts=0, callbacks_due=0
        )
        rules_by_tenant: dict[str, TenantRules] = {}
        for ticket in repo.running(session, tenant_id, now):
            rules = rules_by_tenant.get(ticket.tenant_id)
            if rules is None:
                rules = rules_by_tenant[ticket.tenant_id] = rules_of(session, ticket.tenant_id)
            counts["checked"] += 1
            policy = sla.SlaPolicy(ticket.sla_target_s, ticket.sla_warn_before_s)
            reading = sla.read(rules.calendar, policy, _clock(ticket), now)
            actions = sla.actions_due(
                reading,
                warned=ticket.sla_warned_at is not None,
                breached=ticket.sla_breached_at is not None,
            )
            if sla.SlaAction.warn in actions:
                ticket.sla_warned_at = now
                counts["warned"] += 1
                self._event(
                    session, None, ticket, "ticket.sla_warning", due_at=reading.due_at.isoformat()
                )
            if sla.SlaAction.breach in actions:
                ticket.sla_breached_at = now
                ticket.breaches += 1
                counts["breached"] += 1
                self._event(
                    session, None, ticket, "ticket.sla_breached", due_at=reading.due_at.isoformat()
                )
                decision = self.escalate(session, None, ticket, "SLA breached", now, automatic=True)
                if decision.kind == EscalationKind.next_tier:
                    counts["escalated"] += 1
                else:
                    counts["supervisor_alerts"] += 1
        for followup in repo.followups_due(session, tenant_id, now):
            # "we will call you back" fell due: tell its owner once (the desktop listens)
            followup.notified_at = now
            counts["callbacks_due"] += 1
            ticket = session.get(Ticket, followup.ticket_id)
            if ticket is not None:
                self._event(
                    session,
                    None,
                    ticket,
                    "ticket.callback_due",
                    followup_id=followup.id,
                    followup_owner_id=followup.owner_id,
                )
        session.flush()
        return s.SweepOut(**counts)

    def sweep_by_hand(self, session: Session, principal: Principal) -> s.SweepOut:
        principal.require(SUPERVISORS, "running the SLA sweep")
        if principal.partner_id is not None:
            raise Forbidden("the SLA sweep covers the whole tenant; partner users cannot run it")
        return self.sweep(session, tenant_id=principal.tenant_id)

    # ---- metrics and the customer's view ----------------------------------------------------

    def metrics(
        self, session: Session, principal: Principal, since: datetime, until: datetime
    ) -> s.MetricsOut:
        principal.require(EVENT_READERS, "reading ticket metrics")
        if until <= since:
            raise Unprocessable("until must be after since")
        if until - since > timedelta(days=3 * 366):
            raise Unprocessable("a period of at most three years")
        rows = repo.created_between(session, principal, since, until)
        complaint_categories = {
            c.id for c in repo.categories(session, principal.tenant_id)[0] if c.is_complaint
        }
        facts = [
            metrics.TicketFacts(
                model=OwnershipModel(t.ownership_model),
                created_at=t.created_at,
                resolved_at=t.resolved_at,
                first_owner=t.first_owner_id,
                resolver=t.resolved_by,
                tier_changes=t.tier_changes,
                reopens=t.reopens,
                repeat_complaint=t.repeat_complaint,
                workers=frozenset(t.owners),
                is_complaint=t.category_id in complaint_categories,
            )
            for t in rows
        ]
        result = []
        for model, m in metrics.compare_models(facts).items():
            mine = [t for t in rows if t.ownership_model == model]
            scores = [t.csat_score for t in mine if t.csat_score is not None]
            result.append(
                s.ModelMetricsOut(
                    ownership_model=model,
                    tickets=m.tickets,
                    resolved=m.resolved,
                    effectiveness=m.effectiveness,
                    mean_duration_s=m.mean_duration_s,
                    median_duration_s=m.median_duration_s,
                    reopened_tickets=m.reopened_tickets,
                    reopen_rate=m.reopen_rate,
                    complaints=m.complaints,
                    repeat_complaints=m.repeat_complaints,
                    repeat_complaint_rate=m.repeat_complaint_rate,
                    over_the_head_complaints=sum(1 for t in mine if t.over_the_head),
                    follow_up_staff=m.follow_up_staff,
                    mean_csat=sum(scores) / len(scores) if scores else None,
                )
            )
        return s.MetricsOut(since=since, until=until, models=result)

    def briefs_for_customer(
        self, session: Session, principal: Principal, customer_id: str, limit: int = 50
    ) -> builtins.list[s.TicketBrief]:
        """The customer's tickets for the 360 view (the caller has read the customer)."""
        return [
            s.TicketBrief(
                id=t.id,
                subject=t.subject,
                category=name,
                status=TicketStatus(t.status),
                priority=s.Priority(t.priority),
                repeat_complaint=t.repeat_complaint,
                over_the_head=t.over_the_head,
                created_at=t.created_at,
                resolved_at=t.resolved_at,
            )
            for t, name in repo.for_customer(session, principal, customer_id, limit)
        ]

    # ---- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _require_open(ticket: Ticket) -> None:
        if ticket.status not in states.OPEN:
            raise Conflict(f"ticket {ticket.id} is {ticket.status}; re-open it first")

    @staticmethod
    def _require_owner_or_supervisor(ticket: Ticket, principal: Principal, what: str) -> None:
        if principal.has_any(SUPERVISORS) or ticket.owner_id in (None, principal.user_id):
            return
        raise Forbidden(f"only the owner of ticket {ticket.id} or a supervisor may {what}")

    @staticmethod
    def _event(
        session: Session,
        principal: Principal | None,
        ticket: Ticket,
        type: str,
        **payload: Any,
    ) -> None:
        event_service.append(
            session,
            ticket.tenant_id,
            type,
            actor=principal,
            customer_id=ticket.customer_id,
            contact_id=ticket.contact_id,
            queue_id=ticket.queue_id,
            partner_id=ticket.partner_id,
            payload={
                "ticket_id": ticket.id,
                "status": ticket.status,
                "tier": ticket.tier,
                "owner_id": ticket.owner_id,
                **{k: (str(v) if hasattr(v, "value") else v) for k, v in payload.items()},
            },
        )


def _category_taken(name: str) -> str:
    return f"a ticket category named {name!r} already exists in this tenant"


ticket_service = TicketService()
