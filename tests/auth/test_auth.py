from __future__ import annotations

from typing import Any

import pytest

from lianluo.auth import tokens as tokens_module
from lianluo.auth.passwords import hash_password, verify_password
from lianluo.auth.tokens import TokenCodec
from tests.factories import PASSWORD


def _login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


class TestPasswords:
    def test_argon2_hash_verifies_only_the_right_password(self) -> None:
        hashed = hash_password("s3cret-密码")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "s3cret-密码")
        assert not verify_password(hashed, "s3cret")
        assert not verify_password(None, "anything")
        assert not verify_password("not-a-hash", "anything")


class TestTokens:
    def test_expire(self) -> None:
        codec = TokenCodec("k" * 32, ttl_s=60)
        claims = codec.issue("u1", 3, now=1000.0)
        token = codec.encode(claims)
        assert codec.decode(token, now=1059.0) == claims
        assert codec.decode(token, now=1060.0) is None

    def test_tampered_or_foreign_tokens_are_rejected(self) -> None:
        codec = TokenCodec("k" * 32, ttl_s=60)
        token = codec.encode(codec.issue("u1", 0))
        assert codec.decode(token[:-2] + "xx") is None
        assert TokenCodec("other" * 8, ttl_s=60).decode(token) is None
        assert codec.decode("garbage") is None

    def test_verified_tokens_still_expire_and_forgeries_stay_out(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Verified tokens are remembered (the HMAC check ran on every request): expiry is
        still checked on every use, a tampered copy of a remembered token is still checked,
        and the memory is bounded."""
        monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 3)
        codec = TokenCodec("k" * 32, ttl_s=60)
        claims = codec.issue("u1", 0, now=1000.0)
        token = codec.encode(claims)
        assert codec.decode(token, now=1001.0) == claims
        assert codec.decode(token, now=1001.0) is codec.decode(token, now=1002.0)  # remembered
        assert codec.decode(token, now=1060.0) is None
        assert codec.decode(token[:-2] + "xx", now=1001.0) is None
        for n in range(10):
            codec.decode(codec.encode(codec.issue(f"u{n}", 0, now=1000.0)), now=1001.0)
        assert len(codec._verified) <= 3
        assert codec.decode(token, now=1001.0) == claims


class TestLoginApi:
    def test_login_then_me(self, client: Any, world: Any) -> None:
        response = _login(client, "ta-agent")
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        me = client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert me.status_code == 200
        assert me.json()["roles"] == ["agent"]
        assert me.json()["tenant_id"] == world.a.tenant.id

    @pytest.mark.parametrize(("username", "password"), [("ta-agent", "wrong"), ("nobody", "x")])
    def test_wrong_credentials_401_same_message(
        self, client: Any, world: Any, username: str, password: str
    ) -> None:
        response = _login(client, username, password)
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "wrong username or password"

    def test_rate_limited_after_repeated_failures(self, client: Any, world: Any) -> None:
        limit = 5
        for _ in range(limit):
            assert _login(client, "ta-admin", "bad").status_code == 401
        blocked = _login(client, "ta-admin")  # even the right password waits now
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        assert "too many failed logins" in blocked.json()["error"]["message"]
        assert _login(client, "ta-agent").status_code == 200  # other accounts unaffected

    def test_logout_voids_the_token(self, client: Any, world: Any) -> None:
        token = _login(client, "ta-qa").json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        again = client.get("/api/v1/auth/me", headers=headers)
        assert again.status_code == 401

    def test_disabled_user_token_stops_working(self, client: Any, world: Any, session: Any) -> None:
        user = world.a.users["supervisor"]
        headers = world.headers(user)
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        user.is_active = False
        session.commit()
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401

    def test_malformed_authorization_header(self, client: Any, world: Any) -> None:
        response = client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
        assert response.status_code == 401
        assert "Bearer" in response.json()["error"]["message"]


class TestPages:
    def test_login_form_sets_httponly_cookie(self, client: Any, world: Any) -> None:
        page = client.get("/login?lang=en")
        assert page.status_code == 200
        assert 'for="username"' in page.text
        response = client.post(
            "/login",
            data={"username": "ta-agent", "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "lianluo_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        home = client.get("/")
        assert home.status_code == 200
        assert "ta-agent" in home.text
        assert client.get("/api/v1/auth/me").json()["username"] == "ta-agent"

    def test_failed_login_page_is_bilingual(self, client: Any, world: Any) -> None:
        zh = client.post("/login", data={"username": "ta-agent", "password": "x"})
        assert zh.status_code == 401
        assert "用户名或密码错误" in zh.text
        en = client.post(
            "/login",
            data={"username": "ta-agent", "password": "x"},
            headers={"Accept-Language": "en-US"},
        )
        assert "Wrong username or password" in en.text

    def test_open_redirect_is_refused(self, client: Any, world: Any) -> None:
        response = client.post(
            "/login",
            data={"username": "ta-agent", "password": PASSWORD, "next": "https://evil.example"},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"

    def test_home_without_session_redirects_to_login(self, client: Any) -> None:
        response = client.get("/", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
