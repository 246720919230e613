"""User JWTs with upstream's claims: `u` (user id), `uv` (user version), `nbf`, `exp`; HS256."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt


class TokenError(Exception):
    """The token is missing, malformed, badly signed or expired."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    user_version: int
    session_id: str = ""  # the token's `jti`: revocation acts on it, whatever the token's encoding
    issued_at: int = 0
    expires_at: int = 0


class TokenCodec:
    def __init__(self, secret: str, expire_seconds: float) -> None:
        self._secret = secret
        self._expire = expire_seconds

    def issue(self, user_id: str, user_version: int, now: float | None = None) -> str:
        now = time.time() if now is None else now
        # `jti` makes every token distinct: two logins within the same second must not share a token, or
        # logging out one session would end the other.
        claims = {"u": user_id, "uv": user_version, "nbf": int(now), "exp": int(now + self._expire),
                  "jti": secrets.token_hex(8)}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def parse(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["u", "exp", "jti"]}, leeway=5
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("authentication token expired") from None
        except jwt.PyJWTError:
            raise TokenError("authentication failed") from None
        user_id = claims.get("u")
        version = claims.get("uv", 0)
        if not isinstance(user_id, str) or len(user_id) != 32 or not isinstance(version, int):
            raise TokenError("authentication failed")
        jti, nbf, exp = claims.get("jti"), claims.get("nbf", 0), claims.get("exp", 0)
        if not isinstance(jti, str) or not jti or not isinstance(nbf, int) or not isinstance(exp, int):
            raise TokenError("authentication failed")
        return TokenClaims(user_id=user_id, user_version=version, session_id=jti, issued_at=nbf, expires_at=exp)
