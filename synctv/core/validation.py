"""Input validation shared by the API and the CLI (upstream rules, §1.1, §1.3, §1.5)."""

from __future__ import annotations

import re
from typing import Any

ID_LEN = 32
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
_EMAIL = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")

MAX_NAME_BYTES = 32
MAX_PASSWORD_BYTES = 32
MAX_URL_BYTES = 8192
MAX_TYPE_BYTES = 32
MOVIE_NAME_LIMIT = 256


class ValidationError(ValueError):
    """Bad input; the message is shown to the client."""


def is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_HEX_ID.match(value))


def require_id(value: Any, what: str = "id") -> str:
    if not isinstance(value, str) or len(value) != ID_LEN or not _HEX_ID.match(value):
        raise ValidationError(f"invalid {what}")
    return value


# Unicode's Han script (Scripts.txt), for upstream's `\p{Han}`.
_HAN_RANGES = (
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x3005, 0x3005), (0x3007, 0x3007), (0x3021, 0x3029),
    (0x3038, 0x303B), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFA6D), (0xFA70, 0xFAD9), (0x16FE2, 0x16FE3),
    (0x16FF0, 0x16FF1), (0x20000, 0x2A6DF), (0x2A700, 0x2B739), (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1),
    (0x2CEB0, 0x2EBE0), (0x2EBF0, 0x2EE5D), (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0x31350, 0x323AF),
)


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _HAN_RANGES)


def _printable(text: str) -> bool:
    # Upstream's `^[[:print:][:alnum:]\p{Han}]+$` (Go RE2, where both classes are ASCII): printable ASCII,
    # space included, plus Han characters.
    return all(" " <= ch <= "~" or _is_han(ch) for ch in text)


def username(value: Any, what: str = "username") -> str:
    """Upstream's rule (≤ 32 bytes of printable ASCII or Han); also no leading or trailing space, which upstream
    allows but which makes two accounts look the same."""
    name = _name(value, what)
    if name != name.strip():
        raise ValidationError(f"{what} starts or ends with a space")
    return name


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} is empty")
    if len(value.encode()) > MAX_NAME_BYTES:
        raise ValidationError(f"{what} is too long")
    if not _printable(value):
        raise ValidationError(f"{what} has invalid characters")
    return value


def room_name(value: Any) -> str:
    return _name(value, "room name")


# The site setting holding the password policy's minimum length (core/site_settings.py).
PASSWORD_MIN_LENGTH = "password_min_length"


def password(value: Any, *, allow_empty: bool = False, min_length: int = 1) -> str:
    """A password as upstream accepts it (printable ASCII, 1..32 bytes); a user's also meets `min_length`."""
    if not isinstance(value, str):
        raise ValidationError("password must be a string")
    if not value:
        if allow_empty:
            return value
        raise ValidationError("password is empty")
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        raise ValidationError("password is too long")
    if len(value) < min_length:
        raise ValidationError(f"password is too short (at least {min_length} characters)")
    if not all(" " <= ch <= "~" for ch in value):
        raise ValidationError("password has invalid characters")
    return value


def email(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 128 or not _EMAIL.match(value):
        raise ValidationError("invalid email")
    return value


def role_value(value: Any, allowed: range = range(1, 6)) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
        raise ValidationError("invalid role")
    return value


def uint32(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFFFFFF:
        raise ValidationError(f"invalid {what}")
    return value


def truncate_movie_name(name: str) -> str:
    raw = name.encode()
    if len(raw) <= MOVIE_NAME_LIMIT:
        return name
    return raw[:253].decode(errors="ignore") + "..."


def username_base(raw: str, fallback: str = "user") -> str:
    """A valid username made from an outside name (a provider's login, an e-mail address): invalid
    characters dropped, cut to the byte limit."""
    kept = "".join(ch for ch in raw.strip() if _printable(ch))
    out = ""
    for ch in kept:
        if len((out + ch).encode()) > MAX_NAME_BYTES:
            break
        out += ch
    return out.strip() or fallback


def username_with_suffix(base: str, number: int) -> str:
    """`base#NNNN`, the base shortened so the whole stays within the byte limit (upstream's suffix)."""
    suffix = f"#{number:04d}"
    while base and len((base + suffix).encode()) > MAX_NAME_BYTES:
        base = base[:-1]
    return base + suffix
