"""Every query about tenants and partners. Partner users only ever see their own partner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.models import Agent, Customer, Partner, Queue, Tenant, User


def partner_scope(principal: Principal) -> ColumnElement[bool]:
    condition = Partner.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = condition & (Partner.id == principal.partner_id)
    return condition


class TenantRepository:
    def get(self, session: Session, tenant_id: str) -> Tenant | None:
        return session.get(Tenant, tenant_id)

    def get_by_slug(self, session: Session, slug: str) -> Tenant | None:
        return session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()

    def list(self, session: Session, offset: int, limit: int) -> tuple[Sequence[Tenant], int]:
        total = session.execute(select(func.count()).select_from(Tenant)).scalar_one()
        rows = session.execute(
            select(Tenant).order_by(Tenant.slug, Tenant.id).offset(offset).limit(limit)
        )
        return rows.scalars().all(), total


class PartnerRepository:
    def get(self, session: Session, principal: Principal, partner_id: str) -> Partner | None:
        return session.execute(
            select(Partner).where(Partner.id == partner_id, partner_scope(principal))
        ).scalar_one_or_none()

    def get_in_tenant(self, session: Session, tenant_id: str, partner_id: str) -> Partner | None:
        return session.execute(
            select(Partner).where(Partner.id == partner_id, Partner.tenant_id == tenant_id)
        ).scalar_one_or_none()

    def code_taken(
        self, session: Session, tenant_id: str, code: str, except_id: str | None = None
    ) -> bool:
        query = select(Partner.id).where(Partner.tenant_id == tenant_id, Partner.code == code)
        if except_id is not None:
            query = query.where(Partner.id != except_id)
        return session.execute(query.limit(1)).first() is not None

    def list(
        self,
        session: Session,
        principal: Principal,
        is_active: bool | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Partner], int]:
        conditions = [partner_scope(principal)]
        if is_active is not None:
            conditions.append(Partner.is_active.is_(is_active))
        total = session.execute(select(func.count()).select_from(Partner).where(*conditions))
        rows = session.execute(
            select(Partner)
            .where(*conditions)
            .order_by(Partner.code, Partner.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total.scalar_one()

    def references(self, session: Session, tenant_id: str, partner_id: str) -> dict[str, int]:
        """How many rows point at the partner; a partner in use is deactivated, not deleted."""
        counts = {}
        for name, model in (
            ("users", User),
            ("queues", Queue),
            ("agents", Agent),
            ("customers", Customer),
        ):
            counts[name] = session.execute(
                select(func.count())
                .select_from(model)
                .where(model.tenant_id == tenant_id, model.partner_id == partner_id)
            ).scalar_one()
        return counts


tenant_repository = TenantRepository()
partner_repository = PartnerRepository()
