"""One vendor backend's endpoints: a channel each, smooth weighted round robin over the healthy ones, a circuit
breaker per endpoint, a per-call timeout, and at most one retry on another endpoint when the backend (not the
vendor behind it) failed. Endpoint state is gRPC's connectivity number (0 Idle ... 4 Shutdown), as upstream."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from synctv.vendors.errors import VendorUnavailable
from synctv.vendors.remote.wire import AUTH_METADATA, decode_error, mint

T = TypeVar("T")
IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN = range(5)
BREAKER_FAILURES = 3  # consecutive backend failures that open an endpoint's breaker
BREAKER_OPEN_S = 5.0
Call = Callable[[grpc.aio.Channel, tuple[tuple[str, str], ...], float], Awaitable[T]]


@dataclass(eq=False)
class Endpoint:
    address: str
    weight: int
    channel: grpc.aio.Channel
    current: int = 0
    failures: int = 0
    open_until: float = 0.0
    auth_failed: bool = False
    last_error: str = ""
    calls: int = field(default=0)

    def healthy(self, now: float) -> bool:
        return now >= self.open_until

    def state(self) -> int:
        if self.auth_failed or time.monotonic() < self.open_until:
            return TRANSIENT_FAILURE
        return int(self.channel.get_state(try_to_connect=False).value[0])

    def ok(self) -> None:
        self.failures, self.open_until, self.auth_failed, self.last_error = 0, 0.0, False, ""

    def failed(self, err: grpc.aio.AioRpcError) -> None:
        self.last_error = f"{err.code().name}: {err.details()}"
        self.failures += 1
        self.auth_failed = err.code() == grpc.StatusCode.UNAUTHENTICATED
        if self.auth_failed or self.failures >= BREAKER_FAILURES or err.code() == grpc.StatusCode.UNAVAILABLE:
            self.open_until = time.monotonic() + BREAKER_OPEN_S


class BackendPool:
    def __init__(self, name: str, jwt_secret: str = "", timeout: float = 10.0, tls: bool = False,
                 custom_ca: bytes | None = None) -> None:
        self.name = name
        self.jwt_secret = jwt_secret
        self.timeout = timeout
        self._creds = grpc.ssl_channel_credentials(root_certificates=custom_ca) if tls else None
        self.endpoints: dict[str, Endpoint] = {}
        self.closed = False
        self.retries = 0

    def set_endpoints(self, wanted: dict[str, int]) -> list[grpc.aio.Channel]:
        """Keep the channels of addresses still wanted; returns the dropped channels (the caller closes them)."""
        dropped = [ep.channel for addr, ep in self.endpoints.items() if addr not in wanted]
        for addr in [a for a in self.endpoints if a not in wanted]:
            del self.endpoints[addr]
        for addr, weight in wanted.items():
            if addr in self.endpoints:
                self.endpoints[addr].weight = max(1, weight)
            else:
                channel = (grpc.aio.secure_channel(addr, self._creds) if self._creds is not None
                           else grpc.aio.insecure_channel(addr))
                self.endpoints[addr] = Endpoint(addr, max(1, weight), channel)
        return dropped

    def pick(self, exclude: set[str]) -> Endpoint | None:
        now = time.monotonic()
        candidates = [e for e in self.endpoints.values() if e.address not in exclude and e.healthy(now)]
        if not candidates:
            # Every breaker is open: let one call through as a probe rather than failing without trying.
            candidates = [e for e in self.endpoints.values() if e.address not in exclude]
            candidates.sort(key=lambda e: e.open_until)
            return candidates[0] if candidates else None
        total = sum(e.weight for e in candidates)
        best = None
        for e in candidates:
            e.current += e.weight
            if best is None or e.current > best.current:
                best = e
        assert best is not None
        best.current -= total
        return best

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((AUTH_METADATA, mint(self.jwt_secret)),) if self.jwt_secret else ()

    async def call(self, fn: Call[T]) -> T:
        if self.closed:
            raise VendorUnavailable(f"vendor backend {self.name} is shut down")
        tried: set[str] = set()
        last = "no endpoint resolved"
        for attempt in range(2):
            ep = self.pick(tried)
            if ep is None:
                break
            tried.add(ep.address)
            if attempt:
                self.retries += 1
            ep.calls += 1
            try:
                result = await fn(ep.channel, self.metadata(), self.timeout)
            except grpc.aio.AioRpcError as err:
                decoded = decode_error(err)
                if decoded is not None:
                    ep.ok()  # the backend works; the vendor behind it refused
                    raise decoded from None
                ep.failed(err)
                last = f"{ep.address}: {ep.last_error}"
                continue
            ep.ok()
            return result
        raise VendorUnavailable(f"vendor backend {self.name or '(unnamed)'} has no healthy endpoint ({last})")

    def state(self) -> int:
        """The backend's state: Ready if any endpoint is, else the most hopeful one's."""
        if self.closed:
            return SHUTDOWN
        states = [e.state() for e in self.endpoints.values()]
        if not states:
            return TRANSIENT_FAILURE
        for wanted in (READY, CONNECTING, IDLE):
            if wanted in states:
                return wanted
        return TRANSIENT_FAILURE

    def connect(self) -> None:
        for e in self.endpoints.values():
            e.ok()
            e.channel.get_state(try_to_connect=True)

    async def close(self) -> None:
        self.closed = True
        for e in self.endpoints.values():
            await e.channel.close()
        self.endpoints.clear()


async def probe(pool: BackendPool, check: Call[object]) -> None:
    """One authenticated call to every endpoint: a refused token or an unreachable server marks it unhealthy
    before users meet it; the vendor's own refusal of the empty probe request means the endpoint works."""
    for ep in list(pool.endpoints.values()):
        try:
            await check(ep.channel, pool.metadata(), min(pool.timeout, 3.0))
        except grpc.aio.AioRpcError as err:
            if decode_error(err) is None:
                ep.failed(err)
                continue
        ep.ok()
