"""Signed, expiring bearer tokens (also used as the page session cookie)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    token_version: int
    expires_at: float


class TokenCodec:
    def __init__(self, secret_key: str, ttl_s: int) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="lianluo.token.v1")
        # Tokens whose signature was checked, with their claims: the check (key derivation and
        # HMAC, ~50 µs) ran on every request of every caller. Only a token that was signed
        # by this key gets in; expiry is still checked on every use, and the user row (active,
        # token version) is still read by every request.
        self._verified: dict[str, TokenClaims] = {}
        self.ttl_s = ttl_s

    def issue(self, user_id: str, token_version: int, now: float | None = None) -> TokenClaims:
        issued = time.time() if now is None else now
        return TokenClaims(user_id, token_version, issued + self.ttl_s)

    def encode(self, claims: TokenClaims) -> str:
        return self._serializer.dumps([claims.user_id, claims.token_version, claims.expires_at])

    def decode(self, token: str, now: float | None = None) -> TokenClaims | None:
        """The claims of a valid, unexpired token; None for anything else."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if claims is None:
                return None
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()  # tokens live for hours; refilling costs one check each
            self._verified[token] = claims
        if (time.time() if now is None else now) >= claims.expires_at:
            return None
        return claims

    def _verify(self, token: str) -> TokenClaims | None:
        try:
            user_id, version, expires_at = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(user_id, str) or not isinstance(version, int):
            return None
        if not isinstance(expires_at, int | float):
            return None
        return TokenClaims(user_id, version, float(expires_at))
