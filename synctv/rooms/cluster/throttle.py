"""Throttling that holds across the cluster, without a shared store.

A limit key hashes onto the ring like a room; its owner keeps the key's books (`core.throttle`). For rate
limits an edge holds a lease (a share of the key's window budget) and admits requests from it locally, so the
common path costs no round trip; it asks the owner again when the lease is used up or ends. Brute-force
counters (failed logins, room passwords) are rare, so each check and failure goes to the owner. If the owner
cannot be reached the edge keeps books of its own meanwhile (a per-instance limit, rather than none).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from synctv._generated import mesh_pb2 as pb
from synctv.core.throttle import FREE_FAILURES, FailureBook, Grant, LeaseBook
from synctv.mesh import MeshError

if TYPE_CHECKING:
    from synctv.rooms.router import RoomRouter

log = logging.getLogger(__name__)

ASK_TIMEOUT_S = 0.5
MAX_LEASE = 64


class ClusterThrottle:
    def __init__(self, router: RoomRouter) -> None:
        self.router = router
        self.leases = LeaseBook()
        self.failures = FailureBook()
        self._held: dict[str, tuple[int, float]] = {}  # key -> (requests left, lease end)
        self._denied: dict[str, float] = {}  # key -> until when the owner said no
        self._asking: dict[str, asyncio.Future[None]] = {}
        self.asked = 0  # leases requested from other instances (a counter for tests and metrics)

    def owner(self, key: str) -> str:
        return self.router.placement.owner("throttle:" + key)

    # --- rate limits ---

    async def allow(self, key: str, limit: int, period_s: float) -> float:
        """0 if a request under `key` is admitted now, else the seconds to wait before retrying."""
        while True:
            now = time.monotonic()
            left, until = self._held.get(key, (0, 0.0))
            if left > 0 and until > now:
                self._held[key] = (left - 1, until)
                return 0.0
            denied = self._denied.get(key, 0.0)
            if denied > now:
                return denied - now
            asking = self._asking.get(key)
            if asking is not None:
                await asyncio.shield(asking)
                continue
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._asking[key] = fut
            try:
                grant = await self._lease(key, limit, period_s)
                now = time.monotonic()
                if grant.granted:
                    self._held[key] = (grant.granted, now + grant.lease_s)
                else:
                    self._denied[key] = now + max(grant.lease_s, 0.001)
                self._forget_stale(now)
            finally:
                del self._asking[key]
                fut.set_result(None)

    def _want(self, limit: int) -> int:
        # A small share per edge, so the budget is not stranded on one instance while another is refused.
        members = max(1, len(self.router.placement.members()))
        return max(1, min(MAX_LEASE, limit // (4 * members)))

    async def _lease(self, key: str, limit: int, period_s: float) -> Grant:
        owner, want = self.owner(key), self._want(limit)
        mesh = self.router.mesh
        if owner != self.router.instance_id and mesh is not None:
            request = pb.ThrottleRequest(op=pb.THROTTLE_LEASE, key=key, limit=limit, period_ms=int(period_s * 1000),
                                         want=want)
            try:
                self.asked += 1
                answer = await mesh.query(owner, pb.Query(throttle=request), timeout=ASK_TIMEOUT_S)
                if answer.code == pb.OK and answer.WhichOneof("body") == "throttle":
                    return Grant(answer.throttle.granted, answer.throttle.lease_ms / 1000)
            except (MeshError, TimeoutError) as exc:
                log.debug("throttle owner %s unreachable: %s", owner, exc)
        return self.leases.grant(key, limit, period_s, want, time.monotonic())

    def _forget_stale(self, now: float) -> None:
        if len(self._held) + len(self._denied) > 100_000:
            self._held = {k: v for k, v in self._held.items() if v[1] > now}
            self._denied = {k: v for k, v in self._denied.items() if v > now}

    # --- brute-force counters ---

    async def lockout(self, key: str) -> float:
        """Seconds `key` must still wait (0: it may try)."""
        return await self._failure_op(pb.THROTTLE_CHECK, key)

    async def failed(self, key: str, free: int = FREE_FAILURES) -> float:
        return await self._failure_op(pb.THROTTLE_FAIL, key, free)

    async def succeeded(self, key: str) -> None:
        await self._failure_op(pb.THROTTLE_RESET, key)

    async def _failure_op(self, op: pb.ThrottleOp, key: str, free: int = FREE_FAILURES) -> float:
        owner = self.owner(key)
        mesh = self.router.mesh
        if owner != self.router.instance_id and mesh is not None:
            try:
                request = pb.ThrottleRequest(op=op, key=key, limit=free)
                answer = await mesh.query(owner, pb.Query(throttle=request), timeout=ASK_TIMEOUT_S)
                if answer.code == pb.OK and answer.WhichOneof("body") == "throttle":
                    return answer.throttle.retry_after_ms / 1000
            except (MeshError, TimeoutError) as exc:
                log.debug("throttle owner %s unreachable: %s", owner, exc)
        return self._apply(op, key, limit=free).retry_after_ms / 1000

    # --- the owner's side ---

    def _apply(self, op: pb.ThrottleOp, key: str, limit: int = 0, period_ms: int = 0,
               want: int = 0) -> pb.ThrottleGrant:
        now = time.monotonic()
        if op == pb.THROTTLE_LEASE:
            grant = self.leases.grant(key, limit, period_ms / 1000, min(want, MAX_LEASE), now)
            lease_ms = int(grant.lease_s * 1000)
            return pb.ThrottleGrant(granted=grant.granted, lease_ms=lease_ms,
                                    retry_after_ms=0 if grant.granted else lease_ms)
        if op == pb.THROTTLE_FAIL:
            free = limit if limit > 0 else FREE_FAILURES
            return pb.ThrottleGrant(retry_after_ms=int(self.failures.fail(key, now, free) * 1000))
        if op == pb.THROTTLE_RESET:
            self.failures.reset(key)
            return pb.ThrottleGrant()
        return pb.ThrottleGrant(retry_after_ms=int(self.failures.retry_after(key, now) * 1000))

    def answer(self, peer: str, request: pb.ThrottleRequest) -> pb.QueryReply:
        if self.owner(request.key) != self.router.instance_id:
            return pb.QueryReply(code=pb.NOT_OWNER, error="this instance does not keep that key")
        if request.op == pb.THROTTLE_LEASE and (request.limit < 1 or request.period_ms < 1):
            return pb.QueryReply(code=pb.INVALID, error="a lease needs a limit and a period")
        if request.op == pb.THROTTLE_UNSPECIFIED or not request.key or len(request.key) > 512:
            return pb.QueryReply(code=pb.INVALID, error="bad throttle request")
        return pb.QueryReply(throttle=self._apply(request.op, request.key, request.limit, request.period_ms,
                                                  request.want))
