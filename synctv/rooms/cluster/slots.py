"""Connection limits that hold across the cluster (open WebSockets per user and per client address).

A slot key hashes onto the ring like a room; its owner counts the slots every instance holds (`core.slots`).
An edge asks the owner for a slot on upgrade and reports its new count on close (batched); it renews its
counts while it holds any, so the slots of a crashed edge come back when their lease ends, and those of a
peer that leaves the ring at once. After a ring change every edge reports its counts to the keys' new
owners. A key owned here costs no round trip; if the owner cannot be reached the edge counts its own
connections against the limit meanwhile (a per-instance limit, rather than none).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from synctv._generated import mesh_pb2 as pb
from synctv.core.slots import SlotBook
from synctv.mesh import MeshError

if TYPE_CHECKING:
    from synctv.rooms.router import RoomRouter

log = logging.getLogger(__name__)

ASK_TIMEOUT_S = 0.5
REPORT_DELAY_S = 0.05  # closes within this long go to an owner in one report
MAX_KEY = 512
MAX_REPORT = 4096  # keys per report message
MAX_COUNT = 1_000_000


def slot_key(key: str) -> str:
    """The key as the owner keeps it: one longer than a mesh message allows (a client address is whatever a
    trusted proxy forwarded) is kept by its digest."""
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class ClusterSlots:
    def __init__(self, router: RoomRouter, lease_s: float = 30.0) -> None:
        self.router = router
        self.lease_s = lease_s
        self.book = SlotBook()  # the keys this instance owns
        self._held: dict[str, int] = {}  # key -> slots this instance holds (acquisitions in flight included)
        self._changed: set[str] = set()  # keys whose count went down since the last report
        self._report: asyncio.TimerHandle | None = None
        self._asks: dict[str, list[tuple[str, int, asyncio.Future[bool]]]] = {}  # owner -> asks to send
        self._renewer: asyncio.Task[None] | None = None
        self.asked = 0  # slots requested from other instances (a counter for tests and metrics)

    def owner(self, key: str) -> str:
        return self.router.placement.owner("slot:" + key)

    def held(self, key: str) -> int:
        """Slots of `key` this instance holds."""
        return self._held.get(slot_key(key), 0)

    def start(self) -> None:
        self._renewer = asyncio.create_task(self._renew_loop(), name="slot-renewer")

    def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
        if self._report is not None:
            self._report.cancel()

    # --- the edge's side ---

    async def acquire(self, wants: Sequence[tuple[str, int]]) -> int | None:
        """Take one slot of each (key, limit), all or none; None if granted, else the index of a refused key."""
        wants = [(slot_key(key), limit) for key, limit in wants]
        for key, _ in wants:
            self._held[key] = self._held.get(key, 0) + 1
        remote = [i for i, (key, _) in enumerate(wants) if not self._local(key)]
        granted = [self._acquire_here(key, limit) if i not in remote else True for i, (key, limit) in enumerate(wants)]
        if remote:
            try:
                if len(remote) == 1:  # the common case: no task to wrap it in
                    answers = [await self._acquire_remote(*wants[remote[0]])]
                else:
                    answers = await asyncio.gather(*(self._acquire_remote(*wants[i]) for i in remote))
            except BaseException:  # cancelled (the server stops): nothing stays taken
                self.release(key for key, _ in wants)
                raise
            for i, ok in zip(remote, answers, strict=True):
                granted[i] = ok
        refused = next((i for i, ok in enumerate(granted) if not ok), None)
        if refused is not None:
            # The granted slots go back, and so do the refused keys' counts taken ahead of the answer: a report
            # sent meanwhile (a renewal, a ring change) may have carried them.
            self.release(key for key, _ in wants)
        return refused

    def release(self, keys: Iterable[str]) -> None:
        """Give back one slot of each key (a connection closed)."""
        for key in map(slot_key, keys):
            self._drop((key,))
            if self._local(key):
                self.book.hold(key, self.router.instance_id, self.held(key), time.monotonic(), self.lease_s)
            else:
                self._changed.add(key)
        if self._changed and self._report is None:
            self._report = asyncio.get_running_loop().call_later(REPORT_DELAY_S, self._report_changed)

    def _drop(self, keys: Iterable[str]) -> None:
        for key in keys:
            left = self._held.get(key, 0) - 1
            if left > 0:
                self._held[key] = left
            else:
                self._held.pop(key, None)

    def _local(self, key: str) -> bool:
        return self.router.mesh is None or self.owner(key) == self.router.instance_id

    def _acquire_here(self, key: str, limit: int) -> bool:
        return self.book.acquire(key, self.router.instance_id, limit, time.monotonic(), self.lease_s)[0]

    async def _acquire_remote(self, key: str, limit: int) -> bool:
        owner = self.owner(key)
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        asks = self._asks.setdefault(owner, [])
        if not asks:  # the asks of this loop turn for the same owner travel in one message
            asyncio.get_running_loop().call_soon(self._send_asks, owner)
        asks.append((key, limit, fut))
        return await fut

    def _send_asks(self, owner: str) -> None:
        asks = self._asks.pop(owner, [])
        for i in range(0, len(asks), MAX_REPORT):
            self.router.spawn(self._ask(owner, asks[i:i + MAX_REPORT]))

    async def _ask(self, owner: str, asks: list[tuple[str, int, asyncio.Future[bool]]]) -> None:
        mesh = self.router.mesh
        granted: list[bool] | None = None
        try:
            if mesh is not None:
                self.asked += 1
                wants = [pb.SlotWant(key=key, limit=limit) for key, limit, _ in asks]
                answer = await mesh.query(owner, pb.Query(slot_acquire=pb.SlotAcquire(wants=wants)),
                                          timeout=ASK_TIMEOUT_S)
                if answer.code == pb.OK and answer.WhichOneof("body") == "slot" and \
                        len(answer.slot.granted) == len(asks):
                    granted = list(answer.slot.granted)
                else:
                    log.debug("slot owner %s answered %s: %s", owner, answer.code, answer.error)
        except (MeshError, TimeoutError) as exc:
            log.debug("slot owner %s unreachable: %s", owner, exc)
        finally:
            for i, (key, limit, fut) in enumerate(asks):
                if not fut.done():
                    # Without the owner's word: this instance's own connections (this one included) count.
                    fut.set_result(granted[i] if granted is not None else self.held(key) <= limit)

    def _report_changed(self) -> None:
        self._report = None
        keys, self._changed = self._changed, set()
        self.router.spawn(self.report(keys))

    async def report(self, keys: Iterable[str] | None = None) -> None:
        """Tell the owners of `keys` (default: every key held here) how many slots this instance holds; keys
        owned here are renewed in place."""
        me, now, mesh = self.router.instance_id, time.monotonic(), self.router.mesh
        by_owner: dict[str, list[pb.SlotCount]] = {}
        for key in (list(self._held) if keys is None else keys):
            count = self.held(key)
            if self._local(key):
                self.book.hold(key, me, count, now, self.lease_s)
            else:
                by_owner.setdefault(self.owner(key), []).append(pb.SlotCount(key=key, count=count))
        if mesh is None or not by_owner:
            return
        sends = [mesh.query(owner, pb.Query(slot_report=pb.SlotReport(held=counts[i:i + MAX_REPORT])),
                            timeout=ASK_TIMEOUT_S * 4)
                 for owner, counts in by_owner.items() for i in range(0, len(counts), MAX_REPORT)]
        for result in await asyncio.gather(*sends, return_exceptions=True):
            if isinstance(result, BaseException):
                log.debug("slot report not delivered: %s", result)  # the next renewal carries it again

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(max(0.1, self.lease_s / 3))
            self.book.expire(time.monotonic())
            try:
                await self.report()
            except Exception:  # a renewal must never end the loop
                log.warning("slot renewal failed", exc_info=True)

    def ring_changed(self, departed: Iterable[str]) -> None:
        """Peers that left give their slots back; keys now owned elsewhere are forgotten here (their edges
        report them to the new owner), and this instance reports its own counts to the new owners."""
        for peer in departed:
            self.book.forget_holder(peer)
        me = self.router.instance_id
        for key in self.book.keys():
            if self.owner(key) != me:
                self.book.drop(key)
        if self._held:
            self.router.spawn(self.report())

    # --- the owner's side ---

    def answer(self, peer: str, query: pb.Query) -> pb.QueryReply:
        kind = query.WhichOneof("body")
        now, me = time.monotonic(), self.router.instance_id
        if kind == "slot_acquire":
            wants = query.slot_acquire.wants
            if not wants or len(wants) > MAX_REPORT or any(not w.key or len(w.key) > MAX_KEY or w.limit < 1
                                                            for w in wants):
                return pb.QueryReply(code=pb.INVALID, error="a slot needs a key and a limit")
            if any(self.owner(w.key) != me for w in wants):
                return pb.QueryReply(code=pb.NOT_OWNER, error="this instance does not keep that key")
            granted = [self.book.acquire(w.key, peer, w.limit, now, self.lease_s)[0] for w in wants]
            return pb.QueryReply(slot=pb.SlotGrant(granted=granted))
        counts = query.slot_report.held
        if len(counts) > MAX_REPORT or any(not c.key or len(c.key) > MAX_KEY or c.count > MAX_COUNT for c in counts):
            return pb.QueryReply(code=pb.INVALID, error="bad slot report")
        for c in counts:
            if self.owner(c.key) == me:  # a key owned elsewhere now: its new owner gets the report too
                self.book.hold(c.key, peer, c.count, now, self.lease_s)
        return pb.QueryReply(ack=pb.Ack())
