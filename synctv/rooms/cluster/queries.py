"""Instance-wide reads across the cluster (viewer counts, hot rooms, members and their rooms) and
acknowledged control messages; asking peers and answering them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from synctv._generated import mesh_pb2 as pb
from synctv.mesh import MeshError

if TYPE_CHECKING:
    from synctv.rooms.router import RoomRouter

log = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 2.0
ControlHandler = Callable[[pb.Control], Awaitable[None]]


class QueryFailed(Exception):
    pass


class ClusterQueries:
    def __init__(self, router: RoomRouter) -> None:
        self.router = router
        # What this instance does with a control message (set by the runtime: invalidations).
        self.on_control: ControlHandler | None = None

    async def _ask(self, peer: str, query: pb.Query, expect: str) -> pb.QueryReply:
        mesh = self.router.mesh
        if mesh is None:
            raise MeshError("no mesh")
        answer = await mesh.query(peer, query, timeout=QUERY_TIMEOUT_S)
        if answer.code != pb.OK or answer.WhichOneof("body") != expect:
            raise QueryFailed(answer.error or f"unexpected answer to {query.WhichOneof('body')}")
        return answer

    # --- asking ---

    async def viewer_counts(self, room_ids: list[str]) -> dict[str, int]:
        """Viewer counts of rooms, wherever they are owned (0 for rooms not loaded)."""
        router = self.router
        by_owner: dict[str, list[str]] = {}
        for room_id in room_ids:
            by_owner.setdefault(router.owner(room_id), []).append(room_id)
        out = {r: 0 for r in room_ids}
        for owner, rooms in by_owner.items():
            if owner == router.instance_id:
                out.update({r: router.local_viewer_count(r) for r in rooms})
                continue
            with contextlib.suppress(MeshError, TimeoutError, QueryFailed):
                answer = await self._ask(owner, pb.Query(viewer_counts=pb.ViewerCountsQuery(room_ids=rooms)),
                                         "viewer_counts")
                out.update({r: n for r, n in answer.viewer_counts.counts.items() if r in out})
        return out

    async def hot_rooms(self) -> list[tuple[str, int]]:
        """Rooms with viewers, cluster-wide; only a room's current owner is authoritative."""
        router = self.router
        result = dict(router.local_hot_rooms())
        answers = await asyncio.gather(*(self._ask(p, pb.Query(hot_rooms=pb.HotRoomsQuery()), "hot_rooms")
                                         for p in router.placement.peer_ids()), return_exceptions=True)
        for answer in answers:
            if isinstance(answer, pb.QueryReply):
                for rc in answer.hot_rooms.rooms:
                    if router.owner(rc.room_id) != router.instance_id:
                        result[rc.room_id] = rc.viewers
        return list(result.items())

    async def describe(self) -> list[dict[str, Any]]:
        """Members with their rooms, for operators (`/api/admin/cluster`, `synctv cluster status`)."""
        router = self.router
        out: list[dict[str, Any]] = []
        for m in router.members():
            entry: dict[str, Any] = {"instanceId": m.instance_id, "httpAddress": m.http_address,
                                     "grpcAddress": m.grpc_address, "version": m.version,
                                     "startedAt": m.started_at_ms, "self": m.instance_id == router.instance_id}
            if m.instance_id == router.instance_id:
                entry.update(healthy=True, rooms=router.owned_rooms(), connections=router.hub.connection_count())
            else:
                try:
                    answer = await self._ask(m.instance_id, pb.Query(owned_rooms=pb.OwnedRoomsQuery()), "owned_rooms")
                    entry.update(healthy=True, rooms=list(answer.owned_rooms.room_ids),
                                 connections=answer.owned_rooms.connections)
                except (MeshError, TimeoutError, QueryFailed) as exc:
                    entry.update(healthy=False, error=str(exc) or type(exc).__name__, rooms=[], connections=0)
            out.append(entry)
        return out

    async def control_all(self, control: pb.Control) -> None:
        """Deliver a control message to every peer and wait until each applied it (read-your-writes across
        instances); a peer that does not answer in time gets it as a fire-and-forget message."""
        router = self.router
        peers = router.placement.peer_ids()
        answers = await asyncio.gather(*(self._ask(p, pb.Query(control=control), "ack") for p in peers),
                                       return_exceptions=True)
        if router.mesh is not None:
            for peer, answer in zip(peers, answers, strict=True):
                if isinstance(answer, BaseException):
                    with contextlib.suppress(MeshError):
                        router.mesh.send_control(peer, control)

    # --- answering ---

    async def answer(self, peer: str, query: pb.Query) -> pb.QueryReply:
        router = self.router
        kind = query.WhichOneof("body")
        if kind == "viewer_counts":
            counts = {r: router.local_viewer_count(r) for r in query.viewer_counts.room_ids}
            return pb.QueryReply(viewer_counts=pb.ViewerCounts(counts=counts))
        if kind == "hot_rooms":
            rooms = [pb.RoomCount(room_id=r, viewers=n) for r, n in router.local_hot_rooms()]
            return pb.QueryReply(hot_rooms=pb.HotRooms(rooms=rooms))
        if kind == "owned_rooms":
            return pb.QueryReply(owned_rooms=pb.OwnedRooms(room_ids=router.owned_rooms(),
                                                           connections=router.hub.connection_count()))
        if kind == "control":
            if not await self.apply_control(peer, query.control):
                return pb.QueryReply(code=pb.DENIED, error="not entitled to that control")
            return pb.QueryReply(ack=pb.Ack())
        if kind == "adopt":
            room_id = query.adopt.snapshot.room_id
            if router.placement.owner(room_id) not in (router.instance_id, peer):
                return pb.QueryReply(code=pb.DENIED, error="the ring does not give this room here")
            return await router.handoff.adopt(query.adopt.snapshot)
        if kind == "throttle":
            return router.throttle.answer(peer, query.throttle)
        if kind in ("slot_acquire", "slot_report"):
            return router.slots.answer(peer, query)
        if kind in ("live_host", "live_where"):
            if router.live is None:
                return pb.QueryReply(code=pb.UNAVAILABLE, error="live streaming is off here")
            return await router.live.answer(peer, query)
        if kind == "pull":
            if router.placement.owner(query.pull.room_id) != peer:
                return pb.QueryReply(code=pb.DENIED, error="the ring does not give this room to the caller")
            return await router.handoff.answer_pull(peer, query.pull.room_id)
        return pb.QueryReply(code=pb.INVALID, error=f"unknown query {kind!r}")

    async def apply_control(self, peer: str, control: pb.Control) -> bool:
        """Apply a peer's control message; False if the peer may not send it (a room closed by a non-owner)."""
        if control.WhichOneof("body") == "room_closed":
            room_id = control.room_closed.room_id
            if not self.router.entitled(peer, room_id):
                log.warning("ignoring a room close from %s, which does not own the room", peer)
                return False
            await self.router.close_local(room_id, control.room_closed.reason or "room closed")
        elif self.on_control is not None:
            await self.on_control(control)
        return True
