"""Moving a room between owners: release (stop, snapshot), push to the new owner, pull from the old one.

A graceful change pushes; a new owner that gets a command first pulls; both share one release. If neither
works, the new owner loads the room from the database (the actor persisted before it published) with a
higher epoch, which fences the old owner.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from synctv._generated import mesh_pb2 as pb
from synctv.core import ownership as own
from synctv.mesh import MeshError
from synctv.rooms import wire
from synctv.rooms.actor import RoomActor, RoomUnavailable

if TYPE_CHECKING:
    from synctv.rooms.router import RoomRouter

log = logging.getLogger(__name__)

# Rooms handed over at the same time (a join or leave moves ~1/N of the rooms; do it in bounded batches).
HANDOFF_CONCURRENCY = 16
HANDOFF_TIMEOUT_S = 3.0


class Handoffs:
    def __init__(self, router: RoomRouter) -> None:
        self.router = router
        self._slots = asyncio.Semaphore(HANDOFF_CONCURRENCY)
        # Snapshots pushed here and not loaded yet; snapshots of rooms we released, for a repeated pull.
        self._adopted: dict[str, wire.Handoff] = {}
        self._released: dict[str, tuple[str, pb.RoomSnapshot]] = {}
        self._releasing: dict[str, asyncio.Future[pb.RoomSnapshot]] = {}

    def take_adopted(self, room_id: str) -> wire.Handoff | None:
        return self._adopted.pop(room_id, None)

    def sweep(self) -> None:
        """Drop kept snapshots of rooms whose redirect ended."""
        for room_id in list(self._released):
            if self.router.ownership.phase(room_id) is not own.Phase.HANDED_OFF:
                del self._released[room_id]

    # --- old owner ---

    def move_rooms(self) -> list[asyncio.Task[Any]]:
        """Hand every room the ring no longer assigns to us to its new owner."""
        router = self.router
        tasks = []
        for room_id in router.owned_rooms():
            target = router.placement.owner(room_id)
            if target != router.instance_id and router.ownership.phase(room_id) is own.Phase.OWNED:
                tasks.append(router.spawn(self._push(room_id, target)))
        return tasks

    async def _push(self, room_id: str, target: str) -> None:
        router = self.router
        async with self._slots:
            actor = router.local_actor(room_id)
            mesh = router.mesh
            if actor is None or mesh is None:
                return
            snapshot = await self.release(room_id, actor, target)
            try:
                answer = await mesh.query(target, pb.Query(adopt=pb.AdoptRoom(snapshot=snapshot)),
                                          timeout=HANDOFF_TIMEOUT_S)
                if answer.code != pb.OK:
                    raise MeshError(answer.error)
                router.count_handoff("pushed")
            except (MeshError, TimeoutError) as exc:
                log.warning("handoff of a room failed; the new owner loads it from the database",
                            extra={"room_id": room_id, "target": target, "error": str(exc)})
                router.count_handoff("failed")

    async def release(self, room_id: str, actor: RoomActor, target: str) -> pb.RoomSnapshot:
        """Stop taking commands for the room, finish those queued, and snapshot it for `target`."""
        # A push and a pull of the same room can cross: the second one waits for the first release.
        pending = self._releasing.get(room_id)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[pb.RoomSnapshot] = asyncio.get_running_loop().create_future()
        self._releasing[room_id] = fut
        try:
            snapshot = await self._do_release(room_id, actor, target)
            fut.set_result(snapshot)
            return snapshot
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: the caller gets the exception itself
            raise
        finally:
            self._releasing.pop(room_id, None)

    async def _do_release(self, room_id: str, actor: RoomActor, target: str) -> pb.RoomSnapshot:
        router = self.router
        # Redirect first, so nothing new reaches the actor while it drains its queue.
        router.ownership.apply(room_id, own.ReleaseStarted(target))
        await actor.stop()
        router.take_actor(room_id, actor)
        subscribers = router.subscribers.pop(room_id)
        if router.hub.presence(room_id):
            # Our own viewers now follow the room like any edge's: the new owner sends us its events (and we
            # subscribe directly too, in case the new owner loads the room on its own).
            subscribers.add(router.instance_id)
            router.follow_owner(room_id, target)
        snapshot = wire.snapshot_to_pb(room_id, actor.snapshot(), subscribers, actor.recent_ops)
        self._released[room_id] = (target, snapshot)
        router.ownership.apply(room_id, own.ReleaseDone(target))
        return snapshot

    async def answer_pull(self, peer: str, room_id: str) -> pb.QueryReply:
        """A new owner pulls a room: release it to them (or repeat the snapshot already handed over)."""
        router = self.router
        released = self._released.get(room_id)
        if released is not None and released[0] == peer and router.ownership.phase(room_id) is own.Phase.HANDED_OFF:
            return pb.QueryReply(snapshot=released[1])
        pending = self._releasing.get(room_id)
        if pending is not None:
            return pb.QueryReply(snapshot=await asyncio.shield(pending))
        actor = router.local_actor(room_id)
        if actor is None:
            return pb.QueryReply(code=pb.NOT_FOUND, error="room not loaded here")
        router.count_handoff("released")
        return pb.QueryReply(snapshot=await self.release(room_id, actor, peer))

    # --- new owner ---

    async def pull(self, room_id: str) -> wire.Handoff | None:
        """The room from its previous owner (a join, or a command that beat the push); None = database."""
        router = self.router
        prev = router.placement.previous_owner(room_id)
        if not prev or router.mesh is None:
            return None
        try:
            answer = await router.mesh.query(prev, pb.Query(pull=pb.PullRoom(room_id=room_id)),
                                             timeout=HANDOFF_TIMEOUT_S)
        except (MeshError, TimeoutError):
            return None  # gone: the database has the state
        if answer.code != pb.OK or answer.WhichOneof("body") != "snapshot":
            return None  # not loaded there
        router.count_handoff("pulled")
        self._released.pop(room_id, None)
        return wire.snapshot_from_pb(answer.snapshot)

    async def adopt(self, snapshot: pb.RoomSnapshot) -> pb.QueryReply:
        router = self.router
        room_id = snapshot.room_id
        moved = wire.snapshot_from_pb(snapshot)
        self._released.pop(room_id, None)
        actor = router.local_actor(room_id)
        if actor is not None:
            # A command got here first and loaded the room from the database: keep who is subscribed, and
            # the op ids the old owner applied.
            router.subscribers.add_all(room_id, (p for p in moved.subscribers if p != router.instance_id))
            actor.recent_ops.update(moved.recent_ops)
            return pb.QueryReply(ack=pb.Ack())
        self._adopted[room_id] = moved
        try:
            await router.joined()  # pushed to us as we rejoin: take it with its state rather than refuse it
            await router.load(room_id)
        except RoomUnavailable as exc:
            return pb.QueryReply(code=int(exc.code), error=str(exc))  # type: ignore[arg-type]
        finally:
            self._adopted.pop(room_id, None)
        return pb.QueryReply(ack=pb.Ack())
