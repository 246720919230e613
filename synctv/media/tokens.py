"""Signed proxy target tokens: which URL a rewritten playlist entry points at, bound to a room, a movie and the
movie's current source, and expiring.

Compact HMAC-SHA256 (not a JWT: a playlist carries one per segment, so every byte counts). The key is derived
from the server secret for this purpose only, so a target token is never a valid user token and vice versa.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from synctv.media.errors import ProxyError

_SIG_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def source_version(url: str, headers: Mapping[str, str]) -> str:
    """Changes whenever the movie's URL or headers change, so an edit retires every token minted before it."""
    digest = hashlib.sha256(json.dumps([url, sorted(headers.items())]).encode()).digest()
    return _b64(digest[:9])


class TargetTokenError(ProxyError):
    status = 401


@dataclass(frozen=True, slots=True)
class Target:
    room_id: str
    movie_id: str
    version: str
    url: str
    playlist: bool
    expires: int


class TargetTokens:
    def __init__(self, secret: str, ttl_s: float) -> None:
        self._key = hmac.new(secret.encode(), b"synctv proxy target token v1", hashlib.sha256).digest()
        self.ttl_s = ttl_s

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:_SIG_BYTES])

    def mint(self, room_id: str, movie_id: str, version: str, url: str, playlist: bool,
             now: float | None = None) -> str:
        exp = int((time.time() if now is None else now) + self.ttl_s)
        payload = _b64(json.dumps([room_id, movie_id, version, url, int(playlist), exp],
                                  separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, room_id: str, movie_id: str, version: str, now: float | None = None) -> Target:
        payload, _, sig = token.partition(".")
        if not payload or not sig or not hmac.compare_digest(sig, self._sign(payload)):
            raise TargetTokenError("invalid proxy target token")
        try:
            r, m, v, url, f, exp = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            raise TargetTokenError("invalid proxy target token") from None
        if r != room_id or m != movie_id:
            raise TargetTokenError("proxy target token is for another room or movie", 403)
        if v != version:
            raise TargetTokenError("proxy target token is for an older version of this movie", 403)
        if int(exp) < (time.time() if now is None else now):
            raise TargetTokenError("proxy target token expired")
        return Target(r, m, v, str(url), bool(f), int(exp))
