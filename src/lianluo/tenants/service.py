"""Tenants (platform operators administer them) and partners (a tenant's admins do)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianluo.auth.principal import ADMINS, Principal
from lianluo.errors import BadRequest, Conflict, Forbidden, NotFound
from lianluo.events.service import event_service
from lianluo.models import Partner, Role, Tenant
from lianluo.tenants.repository import partner_repository, tenant_repository
from lianluo.tenants.schemas import PartnerIn, PartnerUpdate, TenantIn, TenantUpdate

PARTNER_READERS = frozenset({Role.admin, Role.supervisor, Role.qa, Role.wfm, Role.partner_admin})


def require_tenant_admin(principal: Principal, action: str) -> None:
    """An admin of the whole tenant: partner users never configure the tenant."""
    principal.require(ADMINS, action)
    if principal.partner_id is not None:
        raise Forbidden(f"{action} is reserved to the tenant's own admins, not partner users")


def require_superuser(principal: Principal, action: str) -> None:
    if not principal.is_superuser:
        raise Forbidden(f"{action} needs a platform superuser")


def apply_changes(
    row: Any, changes: dict[str, Any], nullable: frozenset[str] = frozenset()
) -> None:
    for field, value in changes.items():
        if value is None and field not in nullable:
            raise BadRequest(f"{field} cannot be null; leave it out to keep it")
        setattr(row, field, value)


def flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a unique constraint that a concurrent request won turns into 409."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message) from None


class TenantService:
    def list(
        self, session: Session, principal: Principal, offset: int, limit: int
    ) -> tuple[Sequence[Tenant], int]:
        require_superuser(principal, "listing tenants")
        return tenant_repository.list(session, offset, limit)

    def create(self, session: Session, principal: Principal, data: TenantIn) -> Tenant:
        require_superuser(principal, "creating a tenant")
        if tenant_repository.get_by_slug(session, data.slug) is not None:
            raise Conflict(f"a tenant with slug {data.slug!r} already exists")
        tenant = Tenant(
            slug=data.slug,
            name=data.name,
            timezone=data.timezone,
            settings=data.settings.model_dump(exclude_none=True),
        )
        session.add(tenant)
        flush_or_conflict(session, f"a tenant with slug {data.slug!r} already exists")
        event_service.append(
            session, tenant.id, "tenant.created", actor=principal, payload={"slug": tenant.slug}
        )
        return tenant

    def get(self, session: Session, principal: Principal, tenant_id: str) -> Tenant:
        """Superusers read any tenant; everyone else only their own (another one is 404)."""
        if not principal.is_superuser and tenant_id != principal.tenant_id:
            raise NotFound.of("tenant", tenant_id)
        tenant = tenant_repository.get(session, tenant_id)
        if tenant is None:
            raise NotFound.of("tenant", tenant_id)
        return tenant

    def current(self, session: Session, principal: Principal) -> Tenant:
        return self.get(session, principal, principal.tenant_id)

    def update(
        self, session: Session, principal: Principal, tenant_id: str, data: TenantUpdate
    ) -> Tenant:
        tenant = self.get(session, principal, tenant_id)
        if not principal.is_superuser:
            require_tenant_admin(principal, "changing the tenant")
        changes = data.model_dump(exclude_unset=True)
        if "is_active" in changes:
            require_superuser(principal, "activating or deactivating a tenant")
        if "settings" in changes:
            if data.settings is None:
                raise BadRequest("settings cannot be null; send the keys to change")
            given = data.settings.model_dump(exclude_unset=True)
            merged = {**tenant.settings, **given}
            changes["settings"] = {k: v for k, v in merged.items() if v is not None}
        apply_changes(tenant, changes)
        event_service.append(
            session,
            tenant.id,
            "tenant.updated",
            actor=principal,
            payload={"fields": sorted(changes)},
        )
        return tenant


class PartnerService:
    def list(
        self,
        session: Session,
        principal: Principal,
        is_active: bool | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Partner], int]:
        principal.require(PARTNER_READERS, "listing partners")
        return partner_repository.list(session, principal, is_active, offset, limit)

    def get(self, session: Session, principal: Principal, partner_id: str) -> Partner:
        principal.require(PARTNER_READERS, "reading partners")
        partner = partner_repository.get(session, principal, partner_id)
        if partner is None:
            raise NotFound.of("partner", partner_id)
        return partner

    def create(self, session: Session, principal: Principal, data: PartnerIn) -> Partner:
        require_tenant_admin(principal, "creating a partner")
        self._ensure_code_free(session, principal.tenant_id, data.code)
        partner = Partner(tenant_id=principal.tenant_id, code=data.code, name=data.name)
        session.add(partner)
        flush_or_conflict(session, _code_taken(data.code))
        event_service.append(
            session,
            principal.tenant_id,
            "partner.created",
            actor=principal,
            partner_id=partner.id,
            payload={"code": partner.code},
        )
        return partner

    def update(
        self, session: Session, principal: Principal, partner_id: str, data: PartnerUpdate
    ) -> Partner:
        require_tenant_admin(principal, "changing a partner")
        partner = self.get(session, principal, partner_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("code") is not None:
            self._ensure_code_free(session, principal.tenant_id, changes["code"], partner.id)
        apply_changes(partner, changes)
        flush_or_conflict(session, _code_taken(partner.code))
        event_service.append(
            session,
            principal.tenant_id,
            "partner.updated",
            actor=principal,
            partner_id=partner.id,
            payload={"fields": sorted(changes)},
        )
        return partner

    def delete(self, session: Session, principal: Principal, partner_id: str) -> None:
        require_tenant_admin(principal, "deleting a partner")
        partner = self.get(session, principal, partner_id)
        used = {
            k: v
            for k, v in partner_repository.references(
                session, principal.tenant_id, partner.id
            ).items()
            if v
        }
        if used:
            listed = ", ".join(f"{n} {k}" for k, n in used.items())
            raise Conflict(
                f"partner {partner.code!r} is still referenced by {listed}; "
                "deactivate it (is_active=false) instead",
                details=[{"field": k, "count": n} for k, n in used.items()],
            )
        event_service.append(
            session,
            principal.tenant_id,
            "partner.deleted",
            actor=principal,
            partner_id=partner.id,
            payload={"code": partner.code},
        )
        session.delete(partner)
        session.flush()

    @staticmethod
    def _ensure_code_free(
        session: Session, tenant_id: str, code: str, except_id: str | None = None
    ) -> None:
        if partner_repository.code_taken(session, tenant_id, code, except_id):
            raise Conflict(_code_taken(code))


def _code_taken(code: str) -> str:
    return f"a partner with code {code!r} already exists in this tenant"


tenant_service = TenantService()
partner_service = PartnerService()
