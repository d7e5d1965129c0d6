"""Signed, expiring bearer tokens (also used as the page session cookie)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    token_version: int
    expires_at: float


class TokenCodec:
    def __init__(self, secret_key: str, ttl_s: int) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="lianluo.token.v1")
        self.ttl_s = ttl_s

    def issue(self, user_id: str, token_version: int, now: float | None = None) -> TokenClaims:
        issued = time.time() if now is None else now
        return TokenClaims(user_id, token_version, issued + self.ttl_s)

    def encode(self, claims: TokenClaims) -> str:
        return self._serializer.dumps([claims.user_id, claims.token_version, claims.expires_at])

    def decode(self, token: str, now: float | None = None) -> TokenClaims | None:
        """The claims of a valid, unexpired token; None for anything else."""
        try:
            user_id, version, expires_at = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(user_id, str) or not isinstance(version, int):
            return None
        if not isinstance(expires_at, int | float):
            return None
        if (time.time() if now is None else now) >= expires_at:
            return None
        return TokenClaims(user_id, version, float(expires_at))
