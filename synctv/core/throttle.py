"""Throttling arithmetic, sans IO: fixed-window request budgets handed out as leases, and brute-force
lockouts with exponential back-off. Time is an argument (monotonic seconds of the instance keeping the book).

A limit key's owner (the ring names one instance per key, as for rooms) keeps these books; edges ask it for
leases or report failures, so a limit holds across every instance without a shared store.
"""

from __future__ import annotations

from dataclasses import dataclass

# Failures allowed before a lockout starts (per account or room; an address, which many people may share,
# gets more); each further failure doubles it, up to the cap.
FREE_FAILURES = 5
FREE_FAILURES_PER_ADDRESS = 20
FIRST_LOCKOUT_S = 1.0
MAX_LOCKOUT_S = 900.0
# Failures are forgotten after this long without a new one.
FAILURE_MEMORY_S = 3600.0
MAX_KEYS = 200_000


class TokenBucket:
    """`rate` per second on average, `burst` at once (one client's message allowance)."""

    __slots__ = ("__weakref__", "_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = float(burst), now

    def take(self, now: float) -> bool:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def wait_s(self) -> float:
        """How long until the next token (as of the last `take`)."""
        return max(0.0, (1 - self._tokens) / self.rate) if self.rate > 0 else 1.0


@dataclass(frozen=True, slots=True)
class Grant:
    granted: int
    lease_s: float  # how long the grant may be used (the rest of the window)


class LeaseBook:
    """Per key, how much of the current window's budget was handed out."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window index, granted)

    def grant(self, key: str, limit: int, period_s: float, want: int, now: float) -> Grant:
        window = int(now // period_s)
        start, granted = self._windows.get(key, (window, 0))
        if start != window:
            granted = 0
            if len(self._windows) > MAX_KEYS:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        give = max(0, min(want, limit - granted))
        self._windows[key] = (window, granted + give)
        return Grant(give, (window + 1) * period_s - now)


@dataclass
class _Failures:
    count: int
    locked_until: float
    last: float


class FailureBook:
    """Per key, recent failures and the lockout they caused."""

    def __init__(self) -> None:
        self._keys: dict[str, _Failures] = {}

    def retry_after(self, key: str, now: float) -> float:
        entry = self._keys.get(key)
        if entry is None:
            return 0.0
        if now - entry.last > FAILURE_MEMORY_S:
            del self._keys[key]
            return 0.0
        return max(0.0, entry.locked_until - now)

    def fail(self, key: str, now: float, free: int = FREE_FAILURES) -> float:
        """Count a failure; the lockout (seconds) it starts, 0 while still within the free failures."""
        self.retry_after(key, now)  # forgets a stale entry
        entry = self._keys.get(key)
        if entry is None:
            if len(self._keys) > MAX_KEYS:
                self._keys = {k: v for k, v in self._keys.items() if v.locked_until > now}
            entry = self._keys[key] = _Failures(0, 0.0, now)
        entry.count += 1
        entry.last = now
        over = entry.count - free
        if over > 0:
            entry.locked_until = now + min(FIRST_LOCKOUT_S * 2 ** (over - 1), MAX_LOCKOUT_S)
        return max(0.0, entry.locked_until - now)

    def reset(self, key: str) -> None:
        self._keys.pop(key, None)
