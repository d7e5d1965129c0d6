"""User accounts: tenant admins manage their tenant's users, partner admins their partner's.

Changing a password or disabling a user bumps `token_version`, which voids every token issued
before. The password hash never leaves this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lianluo.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from lianluo.auth.principal import PEOPLE_ADMINS, Principal
from lianluo.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Role, User
from lianluo.tenants.repository import partner_repository
from lianluo.tenants.service import apply_changes, flush_or_conflict
from lianluo.users.repository import UserFilter, user_repository
from lianluo.users.schemas import MAX_PASSWORD_LENGTH, PasswordChange, UserIn, UserUpdate

# What a partner admin may grant: never admin, never tenant-wide roles.
PARTNER_GRANTABLE = frozenset({Role.agent, Role.partner_admin})


def check_roles(roles: Iterable[str], partner_id: str | None) -> list[str]:
    """Valid role names, consistent with the user's partner; raises Unprocessable."""
    roles = list(roles)
    known = {r.value for r in Role}
    unknown = sorted(set(roles) - known)
    if unknown:
        raise Unprocessable(
            f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(sorted(known))}",
            details=[{"field": "roles", "unknown": unknown}],
        )
    if not roles:
        raise Unprocessable("a user needs at least one role", details=[{"field": "roles"}])
    if partner_id is not None and Role.admin in roles:
        raise Unprocessable(
            "a partner user cannot hold the admin role; use partner_admin",
            details=[{"field": "roles"}],
        )
    if partner_id is None and Role.partner_admin in roles:
        raise Unprocessable(
            "the partner_admin role needs a partner_id", details=[{"field": "partner_id"}]
        )
    return sorted(set(roles))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters",
            details=[{"field": "password"}],
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Unprocessable(
            f"password must be at most {MAX_PASSWORD_LENGTH} characters",
            details=[{"field": "password"}],
        )


def create_user(
    session: Session,
    tenant_id: str,
    username: str,
    password: str,
    roles: Iterable[str],
    display_name: str | None = None,
    partner_id: str | None = None,
    is_superuser: bool = False,
    *,
    actor: Principal | None = None,
    locale: str = "zh-CN",
) -> User:
    """Create a user; the CLI (`lianluo users create`) and the API both come here.

    Raises Conflict when the username is taken (in any tenant, ignoring case), Unprocessable for
    a short password, unknown roles, roles that do not fit the partner, or a partner_id that is
    not a partner of the tenant. Appends `user.created`. Never commits.
    """
    username = username.strip()
    if not username:
        raise Unprocessable("username must not be blank", details=[{"field": "username"}])
    check_password(password)
    role_list = check_roles(roles, partner_id)
    if (
        partner_id is not None
        and partner_repository.get_in_tenant(session, tenant_id, partner_id) is None
    ):
        raise Unprocessable(
            f"partner {partner_id} is not a partner of this tenant",
            details=[{"field": "partner_id"}],
        )
    if user_repository.username_taken(session, username):
        raise Conflict(_username_taken(username))
    user = User(
        tenant_id=tenant_id,
        partner_id=partner_id,
        username=username,
        display_name=(display_name or "").strip() or username,
        password_hash=hash_password(password),
        roles=role_list,
        locale=locale,
        is_superuser=is_superuser,
    )
    session.add(user)
    flush_or_conflict(session, _username_taken(username))
    event_service.append(
        session,
        tenant_id,
        "user.created",
        actor=actor,
        partner_id=partner_id,
        payload={"user_id": user.id, "username": username, "roles": role_list},
    )
    return user


class UserService:
    def list(
        self, session: Session, principal: Principal, flt: UserFilter, offset: int, limit: int
    ) -> tuple[Sequence[User], int]:
        principal.require(PEOPLE_ADMINS, "listing users")
        return user_repository.list(session, principal, flt, offset, limit)

    def get(self, session: Session, principal: Principal, user_id: str) -> User:
        """Everyone reads their own account; people admins those they manage."""
        if user_id == principal.user_id:
            own = user_repository.get_in_tenant(session, principal.tenant_id, user_id)
            if own is not None:
                return own
        principal.require(PEOPLE_ADMINS, "reading other users")
        return self._managed(session, principal, user_id)

    def create(self, session: Session, principal: Principal, data: UserIn) -> User:
        principal.require(PEOPLE_ADMINS, "creating a user")
        partner_id = data.partner_id
        if principal.partner_id is not None:
            if partner_id not in (None, principal.partner_id):
                raise Forbidden("a partner admin creates users of its own partner only")
            partner_id = principal.partner_id
            self._check_grantable(principal, data.roles)
        return create_user(
            session,
            principal.tenant_id,
            data.username,
            data.password,
            data.roles,
            display_name=data.display_name,
            partner_id=partner_id,
            actor=principal,
            locale=data.locale,
        )

    def update(
        self, session: Session, principal: Principal, user_id: str, data: UserUpdate
    ) -> User:
        changes = data.model_dump(exclude_unset=True)
        for field, value in changes.items():
            if value is None and field != "partner_id":
                raise BadRequest(f"{field} cannot be null; leave it out to keep it")
        self_service = {"display_name", "locale"}
        if user_id == principal.user_id and set(changes) <= self_service:
            user = self.get(session, principal, user_id)
        else:
            principal.require(PEOPLE_ADMINS, "changing a user")
            user = self._managed(session, principal, user_id)
        if "partner_id" in changes and changes["partner_id"] != user.partner_id:
            if principal.partner_id is not None:
                raise Forbidden("a partner admin cannot move users to another partner")
            if (
                changes["partner_id"] is not None
                and partner_repository.get_in_tenant(
                    session, principal.tenant_id, changes["partner_id"]
                )
                is None
            ):
                raise Unprocessable(
                    f"partner {changes['partner_id']} is not a partner of this tenant",
                    details=[{"field": "partner_id"}],
                )
            if user_repository.has_agent(session, user.id):
                raise Conflict(
                    "this user has an agent profile; its partner follows the user's, "
                    "so delete the agent profile before moving the user"
                )
        partner_id = changes.get("partner_id", user.partner_id)
        roles = changes.get("roles", user.roles)
        if "roles" in changes or "partner_id" in changes:
            if principal.partner_id is not None:
                self._check_grantable(principal, roles)
            roles = check_roles(roles, partner_id)
            if "roles" in changes:
                changes["roles"] = roles
        if user.id == principal.user_id:
            if changes.get("is_active") is False:
                raise Conflict("you cannot disable your own account")
            lost = set(principal.roles & PEOPLE_ADMINS) - set(roles)
            if lost:
                raise Conflict(
                    f"you cannot remove your own {', '.join(sorted(lost))} role; ask another admin"
                )
        disabling = changes.get("is_active") is False and user.is_active
        apply_changes(user, changes, nullable=frozenset({"partner_id"}))
        if disabling:
            user.token_version += 1
        session.flush()
        event_service.append(
            session,
            principal.tenant_id,
            "user.updated",
            actor=principal,
            partner_id=user.partner_id,
            payload={"user_id": user.id, "fields": sorted(changes)},
        )
        return user

    def change_password(
        self, session: Session, principal: Principal, user_id: str, data: PasswordChange
    ) -> None:
        """Your own password needs the current one; people admins reset those they manage.
        Every token the user held is void afterwards, the caller's own included."""
        if user_id == principal.user_id:
            user = self.get(session, principal, user_id)
            if data.current_password is None or not verify_password(
                user.password_hash, data.current_password
            ):
                raise Forbidden("current_password is missing or wrong")
        else:
            principal.require(PEOPLE_ADMINS, "resetting another user's password")
            user = self._managed(session, principal, user_id)
        check_password(data.password)
        user.password_hash = hash_password(data.password)
        user.token_version += 1
        session.flush()
        event_service.append(
            session,
            principal.tenant_id,
            "user.password_changed",
            actor=principal,
            partner_id=user.partner_id,
            payload={"user_id": user.id, "by_self": user.id == principal.user_id},
        )

    def delete(self, session: Session, principal: Principal, user_id: str) -> None:
        principal.require(PEOPLE_ADMINS, "deleting a user")
        user = self._managed(session, principal, user_id)
        if user.id == principal.user_id:
            raise Conflict("you cannot delete your own account")
        if user_repository.has_agent(session, user.id):
            raise Conflict(
                f"user {user.username!r} has an agent profile; delete the agent first "
                "or disable the user (is_active=false)"
            )
        username, partner_id = user.username, user.partner_id
        try:
            with session.begin_nested():  # a refused delete leaves the transaction usable
                session.delete(user)
                session.flush()
        except IntegrityError:
            raise Conflict(
                f"user {username!r} is still referenced (tickets, saved reports, history); "
                "disable the user instead (is_active=false)"
            ) from None
        event_service.append(
            session,
            principal.tenant_id,
            "user.deleted",
            actor=principal,
            partner_id=partner_id,
            payload={"user_id": user_id, "username": username},
        )

    def _managed(self, session: Session, principal: Principal, user_id: str) -> User:
        """A user the caller administers; anyone else is 404, as if it did not exist."""
        user = user_repository.get(session, principal, user_id)
        if user is None:
            raise NotFound.of("user", user_id)
        if user.is_superuser and not principal.is_superuser and user.id != principal.user_id:
            raise Forbidden("only a superuser may manage a superuser's account")
        return user

    @staticmethod
    def _check_grantable(principal: Principal, roles: Iterable[str]) -> None:
        extra = sorted(set(roles) - PARTNER_GRANTABLE)
        if extra:
            raise Forbidden(
                f"a partner admin may grant only the roles {', '.join(sorted(PARTNER_GRANTABLE))},"
                f" not {', '.join(extra)}"
            )


def _username_taken(username: str) -> str:
    return f"username {username!r} is already taken"


user_service = UserService()
