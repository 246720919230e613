"""ClusterRouter: the RoomRouter of a peer cluster.

Every room has one owner, computed by the same consistent-hash ring on every instance. Commands for a room
owned elsewhere travel to the owner over the mesh and are applied there once per op id; the owner's events
travel back to every instance that has viewers of the room (edges subscribe on their first local viewer) and
are written there to the local sockets. Presence is announced by each edge and aggregated by the owner, and
re-announced after any owner change, so counts are rebuilt rather than migrated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from synctv.core import playback
from synctv.core.room import MsgType, WsMessage
from synctv.discovery import Member
from synctv.mesh import MeshError, MeshEvent, MeshNode, NotOwner, Ring
from synctv.observability import tracing
from synctv.rooms import commands as c
from synctv.rooms import delivery as dlv
from synctv.rooms import frames
from synctv.rooms.hub import LocalHub
from synctv.rooms.router import RoomRouter
from synctv.store import Store

log = logging.getLogger(__name__)

OP_CACHE_SIZE = 20_000
QUERY_TIMEOUT_S = 2.0
ControlHandler = Callable[[str, bytes], Awaitable[None]]


class ClusterRouter(RoomRouter):
    def __init__(self, store: Store, hub: LocalHub, instance_id: str, *, idle_unload_s: float = 60.0,
                 command_timeout_s: float = 5.0) -> None:
        super().__init__(store, hub, instance_id, idle_unload_s=idle_unload_s)
        self.command_timeout_s = command_timeout_s
        self.mesh: MeshNode | None = None
        self.self_member = Member(instance_id)
        self._members: list[Member] = [self.self_member]
        self._ring = Ring([instance_id])
        self.can_own = True  # False while self-fenced (lease possibly expired)
        self.on_control: ControlHandler | None = None
        # Owner side: which peers have viewers of a room; op ids already applied.
        self._subscribers: dict[str, set[str]] = {}
        self._op_replies: OrderedDict[str, bytes] = OrderedDict()
        self._op_inflight: dict[str, asyncio.Future[bytes]] = {}
        # Edge side: the owner each local room is subscribed to, and the last event sequence seen from it.
        self._subscribed: dict[str, str] = {}
        self._last_seq: dict[str, tuple[str, int]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.remote_commands = 0
        hub.on_first_viewer = self._first_viewer
        hub.on_last_viewer = self._last_viewer

    def attach(self, mesh: MeshNode, self_member: Member) -> None:
        self.mesh = mesh
        self.self_member = self_member

    # --- membership and ownership ---

    def owner(self, room_id: str) -> str:
        return self._ring.owner(room_id)

    def members(self) -> Sequence[Member]:
        return list(self._members)

    def owned_rooms(self) -> list[str]:
        return [r for r in super().owned_rooms() if self.owner(r) == self.instance_id]

    def set_members(self, members: Sequence[Member]) -> None:
        """A new membership view: rebuild the ring, drop departed peers, move subscriptions and ownership."""
        old_ids = {m.instance_id for m in self._members}
        self._members = sorted(members, key=lambda m: m.instance_id)
        if self.instance_id not in {m.instance_id for m in self._members}:
            self._members.append(self.self_member)
        new_ids = {m.instance_id for m in self._members}
        self._ring = Ring(new_ids)
        if self.mesh is not None:
            self.mesh.set_members([m for m in self._members if m.instance_id != self.instance_id])
        departed = old_ids - new_ids
        for peers in self._subscribers.values():
            peers -= departed
        for room_id, actor in list(self._actors.items()):
            for peer in departed:
                actor.drop_instance(peer)
            if self.owner(room_id) != self.instance_id:
                # Ownership moved: stop here; the new owner continues from the persisted state (fenced by epoch).
                self._actors.pop(room_id, None)
                self.count_handoff("released")
                self._spawn(actor.stop())
        for room_id in self.hub.rooms():
            self._repoint(room_id, departed)

    def set_can_own(self, allowed: bool) -> None:
        """Self-fencing: without a valid lease this instance must stop acting as an owner."""
        if allowed == self.can_own:
            return
        self.can_own = allowed
        if not allowed:
            log.warning("lease lost: stopping every room owned here")
            for room_id, actor in list(self._actors.items()):
                self._actors.pop(room_id, None)
                self._spawn(actor.stop())

    def _repoint(self, room_id: str, departed: frozenset[str] | set[str] = frozenset()) -> None:
        owner = self.owner(room_id)
        previous = self._subscribed.get(room_id)
        if previous == owner or (previous is None and owner == self.instance_id):
            return
        if previous and previous not in departed and self.mesh is not None:
            with contextlib.suppress(MeshError):
                self.mesh.subscribe(previous, room_id, False)
        self._last_seq.pop(room_id, None)
        if owner == self.instance_id:
            self._subscribed.pop(room_id, None)
        else:
            self._subscribed[room_id] = owner
            if self.mesh is not None:
                with contextlib.suppress(MeshError):
                    self.mesh.subscribe(owner, room_id, True)
        self._spawn(self._announce(room_id))

    async def _announce(self, room_id: str) -> None:
        presence = self.hub.presence(room_id)
        with contextlib.suppress(Exception):
            await self.submit(room_id, c.Presence(self.instance_id, presence, replace_all=True))

    def _first_viewer(self, room_id: str) -> None:
        self._repoint(room_id)

    def _last_viewer(self, room_id: str) -> None:
        owner = self._subscribed.pop(room_id, None)
        self._last_seq.pop(room_id, None)
        if owner and self.mesh is not None:
            with contextlib.suppress(MeshError):
                self.mesh.subscribe(owner, room_id, False)

    # --- commands ---

    async def submit(self, room_id: str, cmd: c.RoomCommand) -> c.Reply:
        """Apply `cmd` at the room's owner, wherever it is; retries keep the same op id."""
        owner = self.owner(room_id)
        with tracing.span("router.submit", {"synctv.instance": self.instance_id, "synctv.room": room_id,
                                            "synctv.owner": owner,
                                            "synctv.route": "local" if owner == self.instance_id else "mesh"}):
            return await self._route(room_id, cmd)

    async def _route(self, room_id: str, cmd: c.RoomCommand) -> c.Reply:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.command_timeout_s
        op_id = uuid.uuid4().hex
        payload: bytes | None = None
        delay = 0.02
        while True:
            target = self.owner(room_id)
            remaining = deadline - loop.time()
            if target == self.instance_id:
                if self.can_own:
                    return await self._submit_local(room_id, op_id, cmd)
            elif self.mesh is not None and remaining > 0:
                payload = payload or c.to_wire(cmd, tracing.inject())
                try:
                    started = time.perf_counter()
                    data = await self.mesh.command(target, room_id, op_id, payload, timeout=remaining)
                    self.remote_commands += 1
                    self.mesh.stats.record_rtt(target, time.perf_counter() - started)
                    return c.reply_from_wire(data)
                except NotOwner:
                    pass  # views disagree for a moment: re-resolve and retry with the same op id
                except (MeshError, TimeoutError) as exc:
                    log.debug("command to %s failed: %s", target, exc)
            if loop.time() + delay >= deadline:
                return c.Reply(error="room owner is unreachable, try again")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _submit_local(self, room_id: str, op_id: str, cmd: c.RoomCommand) -> c.Reply:
        return await self._submit_to_actor(room_id, cmd)

    async def handle_command(self, peer: str, room_id: str, op_id: str, payload: bytes) -> bytes:
        if not room_id:
            return await self._instance_query(payload)
        owner = self.owner(room_id)
        if owner != self.instance_id or not self.can_own:
            raise NotOwner(owner if owner != self.instance_id else "")
        cached = self._op_replies.get(op_id)
        if cached is not None:
            return cached
        inflight = self._op_inflight.get(op_id)
        if inflight is not None:
            return await asyncio.shield(inflight)
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._op_inflight[op_id] = fut
        try:
            cmd, carrier = c.from_wire_traced(payload)
            with tracing.span("mesh.command", {"synctv.instance": self.instance_id, "synctv.room": room_id,
                                               "synctv.peer": peer}, context=tracing.extract(carrier)):
                reply = await self._submit_to_actor(room_id, cmd)
            data = c.reply_to_wire(reply)
            self._op_replies[op_id] = data
            if len(self._op_replies) > OP_CACHE_SIZE:
                self._op_replies.popitem(last=False)
            fut.set_result(data)
            return data
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved
            raise
        finally:
            self._op_inflight.pop(op_id, None)

    # --- events ---

    def publish(self, room_id: str, first_seq: int, server_ts_ms: int, deliveries: list[dlv.Delivery]) -> None:
        super().publish(room_id, first_seq, server_ts_ms, deliveries)
        peers = self._subscribers.get(room_id)
        if not peers or self.mesh is None:
            return
        # Encode once per event, send once per subscribed instance.
        events = [MeshEvent(first_seq + i, server_ts_ms, dlv.encode(d)) for i, d in enumerate(deliveries)]
        for peer in list(peers):
            try:
                self.mesh.send_events(peer, room_id, events)
            except MeshError:
                log.debug("could not send events to %s", peer)

    async def handle_events(self, peer: str, room_id: str, events: Sequence[MeshEvent]) -> None:
        last = self._last_seq.get(room_id)
        batch: list[dlv.Delivery] = []
        gap = False
        for ev in events:
            if last is not None and last[0] == peer:
                if ev.seq <= last[1]:
                    continue  # duplicate after a stream reconnect
                if ev.seq != last[1] + 1:
                    gap = True
            last = (peer, ev.seq)
            batch.append(dlv.decode(ev.payload))
        if last is not None:
            self._last_seq[room_id] = last
        self.delivered += self.hub.deliver(room_id, batch)
        if gap:
            self._spawn(self._resync(room_id))

    async def _resync(self, room_id: str) -> None:
        """After a sequence gap, bring local viewers back to the owner's state with a fresh STATUS."""
        with contextlib.suppress(Exception):
            state = await self.state(room_id)
            status = playback.current_from_json(state.get("current")).status
            frame = frames.encode(WsMessage(MsgType.STATUS, timestamp=status.last_update_ms, status=status))
            self.hub.deliver(room_id, [dlv.Delivery(frame=frame)])

    async def handle_subscribe(self, peer: str, room_id: str, on: bool) -> None:
        if on:
            self._subscribers.setdefault(room_id, set()).add(peer)
        else:
            peers = self._subscribers.get(room_id)
            if peers is not None:
                peers.discard(peer)
                if not peers:
                    del self._subscribers[room_id]

    async def handle_presence(self, peer: str, room_id: str, payload: bytes) -> None:
        # Presence travels as commands (so it is ordered with everything else for the room).
        return None

    async def handle_snapshot(self, peer: str, room_id: str) -> bytes:
        actor = self.local_actor(room_id)
        if actor is None:
            raise KeyError("room not loaded here")
        snap = actor.snapshot()
        return json.dumps({"current": playback.current_to_json(snap.state.current), "seq": snap.seq,
                           "presence": snap.presence}).encode()

    async def handle_control(self, peer: str, kind: str, payload: bytes) -> None:
        if kind == "close_room":
            room_id = payload.decode()
            await RoomRouter.close_room(self, room_id, "room closed")
            return
        if self.on_control is not None:
            await self.on_control(kind, payload)

    async def handle_peer_down(self, peer: str) -> None:
        # A stream can drop and come back; membership (discovery) decides when a peer is gone.
        log.info("mesh stream to %s lost", peer)

    # --- cluster-wide reads ---

    async def close_room(self, room_id: str, reason: str) -> None:
        if self.mesh is not None:
            self.mesh.broadcast_control("close_room", room_id.encode())
        await RoomRouter.close_room(self, room_id, reason)

    async def _instance_query(self, payload: bytes) -> bytes:
        query = json.loads(payload)
        if query.get("q") == "counts":
            return json.dumps({r: self.local_viewer_count(r) for r in query.get("rooms", [])}).encode()
        if query.get("q") == "hot":
            return json.dumps(self.local_hot_rooms()).encode()
        if query.get("q") == "control" and self.on_control is not None:
            await self.on_control(str(query.get("kind", "")), str(query.get("payload", "")).encode())
            return b"{}"
        if query.get("q") == "owned":
            return json.dumps({"rooms": list(self.owned_rooms()), "connections": self.hub.connection_count()}
                              ).encode()
        raise ValueError("unknown query")

    async def _ask(self, peer: str, query: dict[str, Any]) -> Any:
        if self.mesh is None:
            raise MeshError("no mesh")
        data = await self.mesh.command(peer, "", uuid.uuid4().hex, json.dumps(query).encode(), QUERY_TIMEOUT_S)
        return json.loads(data)

    async def control_all(self, kind: str, payload: bytes) -> None:
        """Deliver a control message to every peer and wait until each applied it (read-your-writes across
        instances); a peer that does not answer in time gets it as a fire-and-forget broadcast."""
        peers = [m.instance_id for m in self._members if m.instance_id != self.instance_id]
        query = {"q": "control", "kind": kind, "payload": payload.decode()}
        answers = await asyncio.gather(*(self._ask(p, query) for p in peers), return_exceptions=True)
        if self.mesh is not None:
            for peer, answer in zip(peers, answers, strict=True):
                if isinstance(answer, BaseException):
                    with contextlib.suppress(MeshError):
                        self.mesh.send_control(peer, kind, payload)

    async def viewer_counts(self, room_ids: list[str]) -> dict[str, int]:
        by_owner: dict[str, list[str]] = {}
        for room_id in room_ids:
            by_owner.setdefault(self.owner(room_id), []).append(room_id)
        out = {r: 0 for r in room_ids}
        for owner, rooms in by_owner.items():
            if owner == self.instance_id:
                out.update({r: self.local_viewer_count(r) for r in rooms})
                continue
            with contextlib.suppress(MeshError, TimeoutError, ValueError):
                out.update({k: int(v) for k, v in (await self._ask(owner, {"q": "counts", "rooms": rooms})).items()})
        return out

    async def hot_rooms(self) -> list[tuple[str, int]]:
        result = dict(self.local_hot_rooms())
        peers = [m.instance_id for m in self._members if m.instance_id != self.instance_id]
        answers = await asyncio.gather(*(self._ask(p, {"q": "hot"}) for p in peers), return_exceptions=True)
        for answer in answers:
            if isinstance(answer, list):
                for room_id, count in answer:
                    # Only the room's current owner is authoritative.
                    if self.owner(room_id) != self.instance_id:
                        result[room_id] = int(count)
        return list(result.items())

    async def describe(self) -> list[dict[str, Any]]:
        """Members with their rooms, for operators (`/api/admin/cluster`, `synctv cluster status`)."""
        out: list[dict[str, Any]] = []
        for m in self._members:
            entry: dict[str, Any] = {"instanceId": m.instance_id, "httpAddress": m.http_address,
                                     "grpcAddress": m.grpc_address, "version": m.version,
                                     "startedAt": m.started_at_ms, "self": m.instance_id == self.instance_id}
            if m.instance_id == self.instance_id:
                entry.update(healthy=True, rooms=list(self.owned_rooms()), connections=self.hub.connection_count())
            else:
                try:
                    info = await self._ask(m.instance_id, {"q": "owned"})
                    entry.update(healthy=True, rooms=info["rooms"], connections=info["connections"])
                except (MeshError, TimeoutError, ValueError, KeyError) as exc:
                    entry.update(healthy=False, error=str(exc) or type(exc).__name__, rooms=[], connections=0)
            out.append(entry)
        return out

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await super().stop()


class Inspector:
    """Adapts the router to the mesh's inspection RPCs (Describe, Owner, OwnedRooms)."""

    def __init__(self, router: ClusterRouter) -> None:
        self.router = router

    def self_member(self) -> Member:
        return self.router.self_member

    def members(self) -> Sequence[Member]:
        return self.router.members()

    def owner(self, room_id: str) -> str:
        return self.router.owner(room_id)

    def owned_rooms(self) -> Sequence[str]:
        return self.router.owned_rooms()
