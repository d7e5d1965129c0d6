"""Skills and queues: the routing configuration a tenant's admins maintain.

Validation explains itself: every 422 names the field (e.g. `relaxation.1.to_queue`) and what
would be accepted. The lead's live routing pieces (queue status) will join this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from lianluo.auth.principal import FLOOR_READERS, Principal
from lianluo.errors import Conflict, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Queue, Skill
from lianluo.queues.repository import queue_repository, skill_repository
from lianluo.queues.schemas import QueueIn, QueueUpdate, RelaxationAction, SkillIn, SkillUpdate
from lianluo.tenants.repository import partner_repository
from lianluo.tenants.service import apply_changes, flush_or_conflict, require_tenant_admin


def check_attribute_expr(expression: str) -> None:
    """The one place queue attribute expressions are validated: by the routing engine's own
    parser, so a queue saved here always compiles in the router. Its error carries the
    0-based position, which the 422 reports."""
    if not expression.strip():
        return
    from lianluo.domain.routing.errors import ExpressionError
    from lianluo.domain.routing.expressions import compile_expression

    try:
        compile_expression(expression)
    except ExpressionError as exc:
        raise Unprocessable(
            f"attribute_expr: {exc.reason} at position {exc.position}",
            details=[{"field": "attribute_expr", "position": exc.position, "message": exc.reason}],
        ) from None


class SkillService:
    def list(
        self, session: Session, principal: Principal, q: str | None, offset: int, limit: int
    ) -> tuple[Sequence[Skill], int]:
        principal.require(FLOOR_READERS, "listing skills")
        return skill_repository.list(session, principal.tenant_id, q, offset, limit)

    def get(self, session: Session, principal: Principal, skill_id: str) -> Skill:
        principal.require(FLOOR_READERS, "reading skills")
        skill = skill_repository.get(session, principal.tenant_id, skill_id)
        if skill is None:
            raise NotFound.of("skill", skill_id)
        return skill

    def create(self, session: Session, principal: Principal, data: SkillIn) -> Skill:
        require_tenant_admin(principal, "creating a skill")
        if skill_repository.name_taken(session, principal.tenant_id, data.name):
            raise Conflict(_skill_taken(data.name))
        skill = Skill(tenant_id=principal.tenant_id, name=data.name, description=data.description)
        session.add(skill)
        flush_or_conflict(session, _skill_taken(data.name))
        event_service.append(
            session,
            principal.tenant_id,
            "skill.created",
            actor=principal,
            payload={"skill_id": skill.id, "name": skill.name},
        )
        return skill

    def update(
        self, session: Session, principal: Principal, skill_id: str, data: SkillUpdate
    ) -> Skill:
        require_tenant_admin(principal, "changing a skill")
        skill = self.get(session, principal, skill_id)
        changes = data.model_dump(exclude_unset=True)
        old_name = skill.name
        renamed_in: list[str] = []
        new_name = changes.get("name")
        if new_name is not None and new_name != old_name:
            if skill_repository.name_taken(session, principal.tenant_id, new_name, skill.id):
                raise Conflict(_skill_taken(new_name))
            # Queues name their skills: carry the rename over so none is left pointing nowhere.
            for queue in queue_repository.all_in_tenant(session, principal.tenant_id):
                if old_name in queue.required_skills:
                    queue.required_skills = {
                        (new_name if k == old_name else k): v
                        for k, v in queue.required_skills.items()
                    }
                    renamed_in.append(queue.id)
        apply_changes(skill, changes)
        flush_or_conflict(session, _skill_taken(skill.name))
        event_service.append(
            session,
            principal.tenant_id,
            "skill.updated",
            actor=principal,
            payload={"skill_id": skill.id, "fields": sorted(changes), "queues": renamed_in},
        )
        return skill

    def delete(self, session: Session, principal: Principal, skill_id: str) -> None:
        require_tenant_admin(principal, "deleting a skill")
        skill = self.get(session, principal, skill_id)
        agents = skill_repository.agents_holding(session, principal.tenant_id, skill.id)
        queues = [
            q.name
            for q in queue_repository.all_in_tenant(session, principal.tenant_id)
            if skill.name in q.required_skills
        ]
        if agents or queues:
            parts = []
            if agents:
                parts.append(f"{agents} agent(s) hold it")
            if queues:
                parts.append(f"queue(s) {', '.join(sorted(queues))} require it")
            raise Conflict(
                f"skill {skill.name!r} is in use: {'; '.join(parts)}",
                details=[{"agents": agents, "queues": sorted(queues)}],
            )
        event_service.append(
            session,
            principal.tenant_id,
            "skill.deleted",
            actor=principal,
            payload={"skill_id": skill.id, "name": skill.name},
        )
        session.delete(skill)
        session.flush()


class QueueService:
    def list(
        self,
        session: Session,
        principal: Principal,
        q: str | None,
        channel: str | None,
        is_active: bool | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Queue], int]:
        principal.require(FLOOR_READERS, "listing queues")
        return queue_repository.list(session, principal, q, channel, is_active, offset, limit)

    def get(self, session: Session, principal: Principal, queue_id: str) -> Queue:
        principal.require(FLOOR_READERS, "reading queues")
        queue = queue_repository.get(session, principal, queue_id)
        if queue is None:
            raise NotFound.of("queue", queue_id)
        return queue

    def create(self, session: Session, principal: Principal, data: QueueIn) -> Queue:
        require_tenant_admin(principal, "creating a queue")
        values = _stored(data.model_dump())
        self._validate(session, principal, values, queue_id=None)
        queue = Queue(tenant_id=principal.tenant_id, **values)
        session.add(queue)
        flush_or_conflict(session, _queue_taken(data.name))
        event_service.append(
            session,
            principal.tenant_id,
            "queue.created",
            actor=principal,
            queue_id=queue.id,
            partner_id=queue.partner_id,
            payload={"name": queue.name},
        )
        return queue

    def update(
        self, session: Session, principal: Principal, queue_id: str, data: QueueUpdate
    ) -> Queue:
        require_tenant_admin(principal, "changing a queue")
        queue = self.get(session, principal, queue_id)
        changes = _stored(data.model_dump(exclude_unset=True))
        self._validate(session, principal, changes, queue_id=queue.id)
        apply_changes(queue, changes, nullable=frozenset({"partner_id"}))
        flush_or_conflict(session, _queue_taken(queue.name))
        event_service.append(
            session,
            principal.tenant_id,
            "queue.updated",
            actor=principal,
            queue_id=queue.id,
            partner_id=queue.partner_id,
            payload={"fields": sorted(changes)},
        )
        return queue

    def delete(self, session: Session, principal: Principal, queue_id: str) -> None:
        require_tenant_admin(principal, "deleting a queue")
        queue = self.get(session, principal, queue_id)
        contacts = queue_repository.contacts_in(session, principal.tenant_id, queue.id)
        if contacts:
            raise Conflict(
                f"queue {queue.name!r} has {contacts} contact(s) in its history; "
                "deactivate it (is_active=false) instead"
            )
        overflowing = sorted(
            q.name
            for q in queue_repository.all_in_tenant(session, principal.tenant_id)
            if q.id != queue.id and any(s.get("to_queue") == queue.id for s in q.relaxation)
        )
        if overflowing:
            raise Conflict(
                f"queue {queue.name!r} is the overflow target of {', '.join(overflowing)}; "
                "change their relaxation steps first"
            )
        event_service.append(
            session,
            principal.tenant_id,
            "queue.deleted",
            actor=principal,
            queue_id=queue.id,
            partner_id=queue.partner_id,
            payload={"name": queue.name},
        )
        session.delete(queue)
        session.flush()

    def _validate(
        self, session: Session, principal: Principal, values: dict[str, Any], queue_id: str | None
    ) -> None:
        """What the schema cannot check alone: names and ids that must exist in the tenant."""
        tenant_id = principal.tenant_id
        for field in ("name", "channels", "selection_policy", "relaxation", "required_skills"):
            if field in values and values[field] is None:
                raise Unprocessable(f"{field} cannot be null", details=[{"field": field}])
        if "name" in values and queue_repository.name_taken(
            session, tenant_id, values["name"], queue_id
        ):
            raise Conflict(_queue_taken(values["name"]))
        skills = values.get("required_skills") or {}
        known = skill_repository.by_names(session, tenant_id, list(skills))
        unknown = sorted(set(skills) - set(known))
        if unknown:
            raise Unprocessable(
                f"required_skills names unknown skill(s) {', '.join(unknown)}; "
                "create them under /api/v1/skills first",
                details=[
                    {"field": f"required_skills.{name}", "message": "unknown skill"}
                    for name in unknown
                ],
            )
        partner_id = values.get("partner_id")
        if partner_id is not None:
            if partner_repository.get_in_tenant(session, tenant_id, partner_id) is None:
                raise Unprocessable(
                    f"partner_id {partner_id} is not a partner of this tenant",
                    details=[{"field": "partner_id", "message": "unknown partner"}],
                )
        steps = values.get("relaxation") or []
        targets = [s["to_queue"] for s in steps if s["action"] == RelaxationAction.overflow]
        existing = queue_repository.ids_in_tenant(session, tenant_id, targets)
        for i, step in enumerate(steps):
            target = step.get("to_queue")
            if target is None:
                continue
            if target == queue_id:
                raise Unprocessable(
                    f"relaxation.{i}.to_queue: a queue cannot overflow into itself",
                    details=[{"field": f"relaxation.{i}.to_queue", "message": "same queue"}],
                )
            if target not in existing:
                raise Unprocessable(
                    f"relaxation.{i}.to_queue: queue {target} does not exist in this tenant",
                    details=[{"field": f"relaxation.{i}.to_queue", "message": "unknown queue"}],
                )
        if values.get("attribute_expr"):
            check_attribute_expr(values["attribute_expr"])


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Schema values as the columns hold them: plain strings, steps without empty keys."""
    if values.get("relaxation") is not None:
        values["relaxation"] = [
            {k: (str(v) if k == "action" else v) for k, v in step.items() if v is not None}
            for step in values["relaxation"]
        ]
    if values.get("channels") is not None:
        values["channels"] = [str(c) for c in values["channels"]]
    if values.get("selection_policy") is not None:
        values["selection_policy"] = str(values["selection_policy"])
    return values


def _skill_taken(name: str) -> str:
    return f"a skill named {name!r} already exists in this tenant"


def _queue_taken(name: str) -> str:
    return f"a queue named {name!r} already exists in this tenant"


skill_service = SkillService()
queue_service = QueueService()
