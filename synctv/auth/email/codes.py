"""Verification codes as upstream: six random letters, valid five minutes, a resend keeps the code; here they
live in the database (any instance verifies) and each code allows a few wrong tries."""

from __future__ import annotations

import secrets
import string

CODE_TTL_S = 300.0
CODE_LENGTH = 6
MAX_ATTEMPTS = 5


def new_code() -> str:
    return "".join(secrets.choice(string.ascii_letters) for _ in range(CODE_LENGTH))


def signup_key(email: str) -> str:
    return f"signup:{email}"


def bind_key(user_id: str, email: str) -> str:
    return f"bind:{user_id}:{email}"


def retrieve_key(user_id: str, email: str) -> str:
    return f"retrieve_password:{user_id}:{email}"
