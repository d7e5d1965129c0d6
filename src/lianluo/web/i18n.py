"""Chinese and English UI strings; the language comes from ?lang=, a cookie or Accept-Language."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "app_name": {"zh": "联络 Lianluo", "en": "Lianluo 联络"},
    "login_title": {"zh": "登录", "en": "Sign in"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "welcome": {"zh": "欢迎", "en": "Welcome"},
    "roles": {"zh": "角色", "en": "Roles"},
    "api_docs": {"zh": "API 文档", "en": "API documentation"},
    "switch_lang": {"zh": "English", "en": "中文"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong username or password"},
    "too_many": {"zh": "登录失败次数过多，请稍后再试", "en": "Too many failed logins; try later"},
}


def pick_language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("lianluo_lang")
    if asked in LANGUAGES:
        return asked
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh"


def translator(lang: str):  # type: ignore[no-untyped-def]
    def t(key: str) -> str:
        return STRINGS.get(key, {}).get(lang, key)

    return t
