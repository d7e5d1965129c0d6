from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianluo.auth.passwords import hash_password, needs_rehash, verify_password
from lianluo.auth.principal import Principal
from lianluo.auth.ratelimit import LoginRateLimiter
from lianluo.auth.tokens import TokenClaims, TokenCodec
from lianluo.db.base import utcnow
from lianluo.errors import TooManyRequests, Unauthorized
from lianluo.events.service import event_service
from lianluo.models.user import User


class AuthService:
    def login(
        self,
        session: Session,
        tokens: TokenCodec,
        limiter: LoginRateLimiter,
        username: str,
        password: str,
        client: str,
    ) -> tuple[str, TokenClaims]:
        key = f"{client}|{username.lower()}"
        wait_s = limiter.retry_after_s(key)
        if wait_s:
            raise TooManyRequests(
                f"too many failed logins for {username!r}; try again in {wait_s} s", wait_s
            )
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if not verify_password(user.password_hash if user else None, password) or user is None:
            limiter.record_failure(key)
            raise Unauthorized("wrong username or password")
        if not user.is_active:
            raise Unauthorized("this account is disabled")
        limiter.reset(key)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        event_service.append(session, user.tenant_id, "auth.login", payload={"user_id": user.id})
        claims = tokens.issue(user.id, user.token_version)
        return tokens.encode(claims), claims

    def logout_everywhere(self, session: Session, principal: Principal) -> None:
        """Void every token the user holds."""
        session.execute(
            update(User)
            .where(User.id == principal.user_id)
            .values(token_version=User.token_version + 1)
        )

    @staticmethod
    def expires_at(claims: TokenClaims) -> datetime:
        return datetime.fromtimestamp(claims.expires_at, UTC)


auth_service = AuthService()
