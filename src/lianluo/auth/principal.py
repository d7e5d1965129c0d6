"""Who is asking: the tenant, the partner (for partner users) and the roles."""

from __future__ import annotations

from dataclasses import dataclass

from lianluo.errors import Forbidden
from lianluo.models.user import Role

CUSTOMER_READERS = frozenset({Role.agent, Role.supervisor, Role.qa, Role.admin, Role.partner_admin})
CUSTOMER_WRITERS = frozenset({Role.agent, Role.supervisor, Role.admin, Role.partner_admin})
FLOOR_READERS = frozenset(
    {Role.agent, Role.supervisor, Role.qa, Role.wfm, Role.admin, Role.partner_admin}
)
EVENT_READERS = frozenset({Role.supervisor, Role.qa, Role.wfm, Role.admin, Role.partner_admin})
ADMINS = frozenset({Role.admin})
PEOPLE_ADMINS = frozenset({Role.admin, Role.partner_admin})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    tenant_id: str
    partner_id: str | None
    roles: frozenset[str]
    is_superuser: bool = False
    username: str = ""

    @property
    def is_partner_user(self) -> bool:
        return self.partner_id is not None

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)

    def require(self, roles: frozenset[str], action: str) -> None:
        if not self.has_any(roles):
            needed = ", ".join(sorted(roles))
            raise Forbidden(f"{action} needs one of the roles: {needed}")
