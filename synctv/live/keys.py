"""Publish keys: JWTs naming a room, a movie and a key id, with an expiry.

Signed with a key derived from the server secret for this purpose only, so a publish key is never a user
token. The store holds each movie's current key id: issuing a new key retires every older one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt


class PublishKeyError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class PublishKey:
    room_id: str
    movie_id: str
    key_id: str
    expires: int


class PublishKeys:
    def __init__(self, secret: str, ttl_s: float) -> None:
        self._key = hmac.new(secret.encode(), b"synctv live publish key v1", hashlib.sha256).digest()
        self.ttl_s = ttl_s

    def mint(self, room_id: str, movie_id: str, now: float | None = None) -> tuple[str, PublishKey]:
        now = time.time() if now is None else now
        key = PublishKey(room_id, movie_id, secrets.token_hex(16), int(now + self.ttl_s))
        token = jwt.encode({"r": room_id, "m": movie_id, "k": key.key_id, "exp": key.expires, "iat": int(now)},
                           self._key, algorithm="HS256")
        return token, key

    def parse(self, token: str) -> PublishKey:
        token = token[7:].strip() if token[:7].lower() == "bearer " else token.strip()
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], options={"require": ["r", "m", "k", "exp"]})
        except jwt.ExpiredSignatureError:
            raise PublishKeyError("publish key expired") from None
        except jwt.PyJWTError:
            raise PublishKeyError("invalid publish key") from None
        room_id, movie_id, key_id = claims.get("r"), claims.get("m"), claims.get("k")
        if not all(isinstance(v, str) and v for v in (room_id, movie_id, key_id)):
            raise PublishKeyError("invalid publish key")
        return PublishKey(str(room_id), str(movie_id), str(key_id), int(claims["exp"]))
