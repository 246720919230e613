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
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from synctv.core import playback
from synctv.core.room import MsgType, Snapshot, WsMessage
from synctv.discovery import Member
from synctv.mesh import MeshError, MeshEvent, MeshNode, NotOwner, Ring
from synctv.observability import tracing
from synctv.rooms import commands as c
from synctv.rooms import delivery as dlv
from synctv.rooms import frames, handoff
from synctv.rooms.actor import RoomUnavailable
from synctv.rooms.hub import LocalHub
from synctv.rooms.router import RoomRouter
from synctv.store import Store

log = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 2.0
# Rooms handed over at the same time (a join or leave moves ~1/N of the rooms; do it in bounded batches).
HANDOFF_CONCURRENCY = 16
HANDOFF_TIMEOUT_S = 3.0
# How long a handed-off room's commands are forwarded to its new owner, and a fenced room is left alone.
HANDED_OFF_TTL_S = 15.0
FENCE_HOLD_S = 10.0
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
        # Owner side: which peers have viewers of a room.
        self._subscribers: dict[str, set[str]] = {}
        # Ownership moves: the ring before the last change (who to pull a room from), rooms handed to another
        # instance (target, snapshot, until), rooms whose write was fenced (until), and whether we are leaving.
        self._prev_ring: Ring | None = None
        self._handed_off: dict[str, tuple[str, bytes, float]] = {}
        self._fence_hold: dict[str, float] = {}
        self._handoff_slots = asyncio.Semaphore(HANDOFF_CONCURRENCY)
        self.leaving = False
        self._adopted: dict[str, bytes] = {}
        self._releasing: dict[str, asyncio.Future[bytes]] = {}
        self._pending_ops: dict[str, dict[str, c.Reply]] = {}
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
        """The instance to send the room's commands to: us while our actor runs (until it is handed over),
        the new owner for a while after we handed it over, otherwise the ring's answer."""
        if self.local_actor(room_id) is not None:
            return self.instance_id
        handed = self._handed_off.get(room_id)
        if handed is not None:
            if time.monotonic() < handed[2]:
                return handed[0]
            del self._handed_off[room_id]
        return self._ring.owner(room_id)

    def _build_ring(self) -> Ring:
        ids = {m.instance_id for m in self._members}
        if self.leaving and len(ids) > 1:
            ids.discard(self.instance_id)
        return Ring(ids)

    def members(self) -> Sequence[Member]:
        return list(self._members)

    def set_members(self, members: Sequence[Member]) -> None:
        """A new membership view: rebuild the ring, drop departed peers, move subscriptions and ownership."""
        old_ids = {m.instance_id for m in self._members}
        self._members = sorted(members, key=lambda m: m.instance_id)
        if self.instance_id not in {m.instance_id for m in self._members}:
            self._members.append(self.self_member)
        new_ids = {m.instance_id for m in self._members}
        if self._ring.instance_ids == (self.instance_id,) and len(new_ids) > 1:
            # Joining: the rooms the ring now gives us were owned by the others; pull them from there.
            self._prev_ring = Ring(new_ids - {self.instance_id})
        else:
            self._prev_ring = self._ring
        self._ring = self._build_ring()
        if self.mesh is not None:
            self.mesh.set_members([m for m in self._members if m.instance_id != self.instance_id])
            for peer in new_ids - {self.instance_id}:
                self.mesh.connect(peer)  # streams up before they are needed (and liveness is known)
        departed = old_ids - new_ids
        if old_ids != new_ids:
            self._fence_hold.clear()  # a new view: whoever the ring names may take rooms again
        # A peer leaving gracefully keeps its stream while it drains; forget it when that stream closes.
        gone = {p for p in departed if self.mesh is None or not self.mesh.is_connected(p)}
        self._forget_peers(gone)
        self._move_rooms()
        for room_id in self.hub.rooms():
            self._repoint(room_id, departed)

    def _forget_peers(self, peers: set[str]) -> None:
        if not peers:
            return
        for subscribed in self._subscribers.values():
            subscribed -= peers
        for actor in list(self._actors.values()):
            for peer in peers:
                actor.drop_instance(peer)

    def _move_rooms(self) -> list[asyncio.Task[Any]]:
        """Hand every room the ring no longer assigns to us to its new owner."""
        tasks = []
        for room_id in list(self._actors):
            target = self._ring.owner(room_id)
            if target != self.instance_id and room_id not in self._handed_off:
                tasks.append(self._spawn(self._hand_over(room_id, target)))
        return tasks

    async def _hand_over(self, room_id: str, target: str) -> None:
        """Stop taking commands for the room, finish those in flight, and push a snapshot to the new owner.

        Commands that reach us afterwards are redirected to `target`; if the push fails, the new owner loads
        the room from the database (the actor persisted before it published), with a higher epoch.
        """
        async with self._handoff_slots:
            actor = self._actors.get(room_id)
            if actor is None:
                return
            payload = await self._release(room_id, actor, target)
            try:
                await self._ask(target, {"q": "adopt", "room": room_id, "snapshot": payload.decode()},
                                timeout=HANDOFF_TIMEOUT_S)
                self.count_handoff("pushed")
            except (MeshError, TimeoutError, ValueError) as exc:
                log.warning("handoff of a room failed; the new owner loads it from the database",
                            extra={"room_id": room_id, "target": target, "error": str(exc)})
                self.count_handoff("failed")

    async def _release(self, room_id: str, actor: Any, target: str) -> bytes:
        # A push and a pull of the same room can cross: the second one waits for the first release.
        pending = self._releasing.get(room_id)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._releasing[room_id] = fut
        try:
            payload = await self._do_release(room_id, actor, target)
            fut.set_result(payload)
            return payload
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: the caller gets the exception itself
            raise
        finally:
            self._releasing.pop(room_id, None)

    async def _do_release(self, room_id: str, actor: Any, target: str) -> bytes:
        # Redirect first, so nothing new reaches the actor while it drains its queue.
        self._handed_off[room_id] = (target, b"", time.monotonic() + HANDED_OFF_TTL_S)
        await actor.stop()
        if self._actors.get(room_id) is actor:
            del self._actors[room_id]
        subscribers = self._subscribers.pop(room_id, set())
        if self.hub.presence(room_id):
            # Our own viewers now follow the room like any edge's: the new owner sends us its events.
            subscribers.add(self.instance_id)
            self._subscribed[room_id] = target
            self._last_seq.pop(room_id, None)
            if self.mesh is not None:  # also directly, in case the new owner loads the room on its own
                with contextlib.suppress(MeshError):
                    self.mesh.subscribe(target, room_id, True)
        payload = handoff.encode(actor.snapshot(), subscribers, actor.recent_ops)
        self._handed_off[room_id] = (target, payload, time.monotonic() + HANDED_OFF_TTL_S)
        return payload

    async def begin_leave(self, timeout: float) -> None:
        """Graceful leave: every owned room goes to its next owner; local viewers follow the new owners."""
        self.leaving = True
        self._prev_ring, self._ring = self._ring, self._build_ring()
        tasks = self._move_rooms()
        for room_id in self.hub.rooms():
            self._repoint(room_id)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

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

    def _check_can_load(self, room_id: str) -> None:
        if not self.can_own:
            raise RoomUnavailable("this instance is not allowed to own rooms right now (lease lost)")
        held = self._fence_hold.get(room_id)
        if held is not None:
            if time.monotonic() < held:
                raise RoomUnavailable("room is owned by another instance")
            del self._fence_hold[room_id]

    async def _takeover_snapshot(self, room_id: str) -> Snapshot | None:
        """Pull the room from its previous owner (join, or a command that beat the push); None = database."""
        pushed = self._adopted.pop(room_id, None)
        if pushed is not None:
            return self._apply_handoff(room_id, pushed)
        prev = self._prev_ring.owner(room_id) if self._prev_ring is not None and len(self._prev_ring) else ""
        if not prev or prev == self.instance_id or self.mesh is None or prev not in self._ring:
            return None
        try:
            data = await self.mesh.snapshot(prev, room_id, timeout=HANDOFF_TIMEOUT_S)
        except (MeshError, TimeoutError):
            return None  # not loaded there (or gone): the database has the state
        self.count_handoff("pulled")
        return self._apply_handoff(room_id, data)

    def _apply_handoff(self, room_id: str, data: bytes) -> Snapshot:
        moved = handoff.decode(data)
        self._handed_off.pop(room_id, None)
        self._subscribers.setdefault(room_id, set()).update(p for p in moved.subscribers if p != self.instance_id)
        self._pending_ops[room_id] = moved.recent_ops
        return moved.snapshot

    def _takeover_ops(self, room_id: str) -> dict[str, c.Reply] | None:
        return self._pending_ops.pop(room_id, None)

    def _fenced(self, room_id: str) -> None:
        super()._fenced(room_id)
        # Another instance took the room over with a higher epoch: leave it alone for a while instead of
        # taking it back at once (which would make the two fence each other in turn).
        self._fence_hold[room_id] = time.monotonic() + FENCE_HOLD_S

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
            await self.submit(room_id, self.presence(presence, replace_all=True))

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
        hint = ""
        while True:
            target = hint or self.owner(room_id)
            hint = ""
            remaining = deadline - loop.time()
            if target == self.instance_id:
                if room_id in self._fence_hold and time.monotonic() < self._fence_hold[room_id]:
                    return c.Reply(error="room is owned by another instance right now, try again")
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
                except NotOwner as exc:
                    # Views disagree for a moment: follow the hint once, then re-resolve; same op id.
                    hint = exc.owner if exc.owner and exc.owner != target else ""
                except (MeshError, TimeoutError) as exc:
                    log.debug("command to %s failed: %s", target, exc)
            if loop.time() + delay >= deadline:
                return c.Reply(error="room owner is unreachable, try again")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _submit_local(self, room_id: str, op_id: str, cmd: c.RoomCommand) -> c.Reply:
        return await self._submit_to_actor(room_id, cmd, op_id)

    async def handle_command(self, peer: str, room_id: str, op_id: str, payload: bytes) -> bytes:
        if not room_id:
            return await self._instance_query(payload)
        # A room adopted here is ours even if our view of the ring has not caught up yet.
        owner = self.instance_id if self.local_actor(room_id) is not None else self.owner(room_id)
        if owner != self.instance_id or not self.can_own or room_id in self._fence_hold:
            raise NotOwner(owner if owner != self.instance_id else "")
        cmd, carrier = c.from_wire_traced(payload)
        with tracing.span("mesh.command", {"synctv.instance": self.instance_id, "synctv.room": room_id,
                                           "synctv.peer": peer}, context=tracing.extract(carrier)):
            reply = await self._submit_to_actor(room_id, cmd, op_id)
        return c.reply_to_wire(reply)

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
        """A new owner pulls a room: release it to them (or repeat the snapshot already handed over)."""
        handed = self._handed_off.get(room_id)
        if handed is not None and handed[0] == peer and handed[1]:
            return handed[1]
        pending = self._releasing.get(room_id)
        if pending is not None:
            return await asyncio.shield(pending)
        actor = self.local_actor(room_id)
        if actor is None:
            raise KeyError("room not loaded here")
        self.count_handoff("released")
        return await self._release(room_id, actor, peer)

    async def handle_control(self, peer: str, kind: str, payload: bytes) -> None:
        if kind == "close_room":
            room_id = payload.decode()
            await RoomRouter.close_room(self, room_id, "room closed")
            return
        if self.on_control is not None:
            await self.on_control(kind, payload)

    async def handle_peer_down(self, peer: str) -> None:
        # A stream can drop and come back; membership (discovery) decides when a peer is gone, except for a
        # peer that already left the membership and was only draining.
        log.info("mesh stream to %s lost", peer)
        if peer not in {m.instance_id for m in self._members}:
            self._forget_peers({peer})

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
        if query.get("q") == "adopt":
            room_id = str(query["room"])
            if self.local_actor(room_id) is None:
                self._adopted[room_id] = str(query["snapshot"]).encode()
                await self._load(room_id)
            else:  # a command got here first and loaded it from the database; keep who is subscribed
                self._apply_handoff(room_id, str(query["snapshot"]).encode())
            self._adopted.pop(room_id, None)
            return b"{}"
        if query.get("q") == "owned":
            return json.dumps({"rooms": list(self.owned_rooms()), "connections": self.hub.connection_count()}
                              ).encode()
        raise ValueError("unknown query")

    async def _ask(self, peer: str, query: dict[str, Any], timeout: float = QUERY_TIMEOUT_S) -> Any:
        if self.mesh is None:
            raise MeshError("no mesh")
        data = await self.mesh.command(peer, "", uuid.uuid4().hex, json.dumps(query).encode(), timeout)
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

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

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
