"""Input validation shared by the API and the CLI (upstream rules, §1.1, §1.3, §1.5)."""

from __future__ import annotations

import re
import unicodedata
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


def _printable(text: str) -> bool:
    # Go's [[:print:][:alnum:]\p{Han}]: printable ASCII plus letters/digits (incl. Han) of any script.
    for ch in text:
        if " " <= ch <= "~":
            continue
        cat = unicodedata.category(ch)
        if cat[0] in ("L", "N"):
            continue
        return False
    return True


def username(value: Any, what: str = "username") -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} is empty")
    if len(value.encode()) > MAX_NAME_BYTES:
        raise ValidationError(f"{what} is too long")
    if not _printable(value):
        raise ValidationError(f"{what} has invalid characters")
    return value


def room_name(value: Any) -> str:
    return username(value, "room name")


def password(value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError("password must be a string")
    if not value:
        if allow_empty:
            return value
        raise ValidationError("password is empty")
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        raise ValidationError("password is too long")
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
    return out or fallback


def username_with_suffix(base: str, number: int) -> str:
    """`base#NNNN`, the base shortened so the whole stays within the byte limit (upstream's suffix)."""
    suffix = f"#{number:04d}"
    while base and len((base + suffix).encode()) > MAX_NAME_BYTES:
        base = base[:-1]
    return base + suffix
