"""Every query of the wallboard: one tenant's queues, agents and the contacts of the window."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lianluo.models import Agent, Contact, Leg, Queue, Tenant, User
from lianluo.realtime.board import (
    HOLDING_STATES,
    LIVE_STATES,
    LiveAgent,
    LiveContact,
    QueueInfo,
    TenantBoard,
)


def _to_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RealtimeRepository:
    def tenant_timezone(self, session: Session, tenant_id: str) -> str:
        tz = session.execute(select(Tenant.timezone).where(Tenant.id == tenant_id)).scalar()
        return tz or "UTC"

    def load(
        self, session: Session, tenant_id: str, window_start: float, now: float
    ) -> TenantBoard:
        """The board of a tenant as the database has it: the same figures the events give."""
        board = TenantBoard(tenant_id, self.tenant_timezone(session, tenant_id), built_at=now)
        for q in session.execute(
            select(Queue).where(Queue.tenant_id == tenant_id, Queue.is_active.is_(True))
        ).scalars():
            board.queues[q.id] = QueueInfo(
                queue_id=q.id,
                name=q.name,
                partner_id=q.partner_id,
                channels=list(q.channels),
                sl_target_s=q.sl_target_s,
                sl_target_ratio=q.sl_target_ratio,
                short_abandon_s=q.short_abandon_s,
            )
        for agent, username, display_name in session.execute(
            select(Agent, User.username, User.display_name)
            .join(User, User.id == Agent.user_id)
            .where(Agent.tenant_id == tenant_id)
        ):
            board.agents[agent.id] = LiveAgent(
                agent_id=agent.id,
                name=display_name or username,
                team=agent.team,
                partner_id=agent.partner_id,
                state=agent.state,
                reason=agent.state_reason,
                since=_to_utc(agent.state_since).timestamp(),
            )
        since = datetime.fromtimestamp(window_start, UTC)
        rows = (
            session.execute(
                select(Contact).where(
                    Contact.tenant_id == tenant_id,
                    or_(Contact.queued_at >= since, Contact.state.in_(LIVE_STATES)),
                )
            )
            .scalars()
            .all()
        )
        legs = self._answered_legs(session, [c.id for c in rows if c.state == "ended"])
        for c in rows:
            board.contacts[c.id] = _live_contact(c, legs.get(c.id, []))
        return board

    def _answered_legs(self, session: Session, contact_ids: list[str]) -> dict[str, list[Leg]]:
        found: dict[str, list[Leg]] = defaultdict(list)
        for start in range(0, len(contact_ids), 500):
            chunk = contact_ids[start : start + 500]
            for leg in session.execute(
                select(Leg).where(Leg.contact_id.in_(chunk), Leg.answered_at.is_not(None))
            ).scalars():
                found[leg.contact_id].append(leg)
        return found


def _live_contact(c: Contact, legs: list[Leg]) -> LiveContact:
    transfers = (c.context or {}).get("transfers") or []
    first_queue = transfers[0].get("from_queue_id") if transfers else None
    ended_at = _to_utc(c.ended_at).timestamp() if c.ended_at else None
    live = LiveContact(
        contact_id=c.id,
        queue_id=first_queue or c.queue_id or "",
        current_queue_id=c.queue_id,
        channel=c.channel,
        state=c.state,
        offered_at=c.arrived_s if c.arrived_s is not None else _to_utc(c.queued_at).timestamp(),
        waiting_since=c.waiting_since_s,
        agent_id=c.agent_id if c.state in HOLDING_STATES else None,
        answered_at=_to_utc(c.answered_at).timestamp() if c.answered_at else None,
        transferred=bool(transfers),
    )
    if c.state == "abandoned":
        live.abandoned_at = live.ended_at = ended_at
    elif c.state == "ended":
        live.ended_at = ended_at
        # as contacts/service.py writes them into contact.ended
        live.talk_s = round(sum(leg.talk_s for leg in legs), 3)
        live.hold_s = round(sum(leg.hold_s for leg in legs), 3)
        last_end = max(
            (_to_utc(leg.ended_at).timestamp() for leg in legs if leg.ended_at), default=ended_at
        )
        if ended_at is not None and last_end is not None:
            live.acw_s = round(max(0.0, ended_at - last_end), 3)
    return live


realtime_repository = RealtimeRepository()
