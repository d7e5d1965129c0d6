"""Normalising identity values so that the same phone or e-mail always finds the same person."""

from __future__ import annotations


def normalize_phone(raw: str) -> str:
    """E.164: '+8613812345678'. Chinese mobiles without a country code get +86."""
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("00"):
        digits = digits[2:]
        text = "+" + digits
    if not 5 <= len(digits) <= 15:
        raise ValueError(f"phone number {raw!r} must have 5 to 15 digits")
    if text.startswith("+"):
        return "+" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+86" + digits
    if digits.startswith("86") and len(digits) == 13:
        return "+" + digits
    return "+" + digits if len(digits) > 11 else digits


def normalize_identity(kind: str, value: str) -> str:
    if kind == "phone":
        return normalize_phone(value)
    if kind == "email":
        value = value.strip().lower()
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError(f"e-mail address {value!r} is not valid")
        return value
    return value.strip()


def search_text_for(name: str, identity_values: list[str]) -> str:
    """What customer search looks through: the lower-cased name and the identities (phones
    without the '+', so a search by digits finds them)."""
    parts = [name.lower()] + [v.lstrip("+").lower() for v in identity_values]
    return " ".join(parts)[:1000]


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
