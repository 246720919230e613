"""Connection slots, sans IO: how many open connections a limit key (a user, a client address) holds on each
instance, as the key's owner on the ring counts them. Time is an argument (monotonic seconds of the owner).

Each instance's count of a key stands for a lease that the instance renews while it holds any, so the slots
of an instance that crashed, or stopped reporting, come back once its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_KEYS = 200_000


@dataclass(slots=True)
class _Held:
    count: int
    until: float


class SlotBook:
    """Per key, the slots each holder (an instance id) has and until when that count stands."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, _Held]] = {}

    def _live(self, key: str, now: float) -> dict[str, _Held]:
        holders = self._keys.get(key)
        if holders is None:
            return {}
        for holder in [h for h, e in holders.items() if e.until <= now]:
            del holders[holder]
        if not holders:
            del self._keys[key]
        return holders

    def total(self, key: str, now: float) -> int:
        return sum(e.count for e in self._live(key, now).values())

    def acquire(self, key: str, holder: str, limit: int, now: float, lease_s: float) -> tuple[bool, int]:
        """Take one slot of `key` for `holder` if fewer than `limit` are held; (granted, held after)."""
        holders = self._live(key, now)
        total = sum(e.count for e in holders.values())
        if total >= limit:
            return False, total
        if not holders:
            if len(self._keys) >= MAX_KEYS:
                self.expire(now)
            holders = self._keys[key] = {}
        entry = holders.get(holder)
        if entry is None:
            holders[holder] = _Held(1, now + lease_s)
        else:
            entry.count += 1
            entry.until = now + lease_s
        return True, total + 1

    def hold(self, key: str, holder: str, count: int, now: float, lease_s: float) -> None:
        """`holder` reports it holds `count` slots of `key` (0: none): replaces its count, renews its lease."""
        holders = self._keys.get(key)
        if count <= 0:
            if holders is not None:
                holders.pop(holder, None)
                if not holders:
                    del self._keys[key]
            return
        if holders is None:
            holders = self._keys[key] = {}
        holders[holder] = _Held(count, now + lease_s)

    def forget_holder(self, holder: str) -> None:
        """`holder` left the cluster: its slots come back now."""
        for key in [k for k, h in self._keys.items() if holder in h]:
            self.hold(key, holder, 0, 0.0, 0.0)

    def keys(self) -> list[str]:
        return list(self._keys)

    def drop(self, key: str) -> None:
        self._keys.pop(key, None)

    def expire(self, now: float) -> None:
        for key in list(self._keys):
            self._live(key, now)
