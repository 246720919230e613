"""A client closed for flooding its WebSocket may not come straight back: its next upgrades are refused for a
while that doubles with every further flood (1 s, 2 s, 4 s ... 15 min), checked before any authentication work
or database read. After the wait it is on probation for an hour: one upgrade a second (a burst of two), so its
many sockets come back one by one, not as one storm of joins. A refused upgrade is held for the rest of its
wait (a few seconds at most) before its 429, so a flooder that ignores `Retry-After` gains nothing by retrying
at once: an answer costs this server a sleeping coroutine, not a join.

Kept per instance: a flooder that moves to another instance is closed there after its first burst, as here.
Logged-in users are keyed by account, guests (who share one id) by client address.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiohttp import web

from synctv.api.responses import too_many_requests
from synctv.auth.tokens import TokenCodec, TokenError
from synctv.core.throttle import FAILURE_MEMORY_S, MAX_KEYS, FailureBook, TokenBucket

# The longest a refused upgrade is held before it is answered.
HOLD_MAX_S = 5.0
# Upgrades held at once per key; beyond that they are answered at once.
HOLD_PER_KEY = 64
PROBATION_RATE = 1.0
PROBATION_BURST = 2
FLOODED = "closed for sending too many messages; reconnect later"


def penalty_key(user_id: str, is_guest: bool, address: str) -> str:
    return f"ws-flood-from:{address}" if is_guest else f"ws-flood:{user_id}"


class FloodPenalties:
    def __init__(self) -> None:
        self._book = FailureBook()
        self._active = 0  # penalties handed out; while 0 the upgrade check is one comparison
        self._held: Counter[str] = Counter()
        self._probation: dict[str, tuple[TokenBucket, float]] = {}  # key -> (upgrades, last flood)

    def punish(self, key: str) -> None:
        """A connection of `key` was closed for flooding. Its other sockets closed meanwhile (one flooder's many
        connections) do not double the wait again: only a flood after the wait ended does."""
        now = time.monotonic()
        if self._book.retry_after(key, now) == 0:
            self._book.fail(key, now, free=0)
            self._active += 1
            if len(self._probation) > MAX_KEYS:
                self._probation = {k: v for k, v in self._probation.items() if now - v[1] < FAILURE_MEMORY_S}
            self._probation[key] = (TokenBucket(PROBATION_RATE, PROBATION_BURST, now), now)

    def take_turn(self, key: str) -> float:
        """How long `key` must wait before its next upgrade (0: it may try, taking a probation turn if on it)."""
        if not self._active:
            return 0.0
        now = time.monotonic()
        wait = self._book.retry_after(key, now)
        if wait > 0:
            return wait
        probation = self._probation.get(key)
        if probation is None:
            return 0.0
        bucket, last = probation
        if now - last >= FAILURE_MEMORY_S:
            del self._probation[key]
            return 0.0
        return 0.0 if bucket.take(now) else bucket.wait_s()

    async def check(self, token: str, tokens: TokenCodec, address: str) -> None:
        """Raise a 429 for an upgrade from a client still serving its penalty (after holding it)."""
        if not self._active:
            return
        key = penalty_key("", True, address)
        if token:
            try:
                key = penalty_key(tokens.parse(token).user_id, False, address)
            except TokenError:
                return  # the upgrade's own authentication answers it
        wait = self.take_turn(key)
        if wait <= 0:
            return
        if self._held[key] < HOLD_PER_KEY:
            self._held[key] += 1
            try:
                await asyncio.sleep(min(wait, HOLD_MAX_S))
            finally:
                self._held[key] -= 1
                if not self._held[key]:
                    del self._held[key]
        raise too_many_requests(FLOODED, wait)


PENALTIES: web.AppKey[FloodPenalties] = web.AppKey("ws-flood-penalties", FloodPenalties)
