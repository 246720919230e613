"""RoomRouter: where is a room's owner, and how does a command reach it. The only place that knows whether a
room's actor is local.

Every room has one owner, named by the same consistent-hash ring on every instance; a single node is the
cluster of one (a ring of one, no mesh) and takes exactly the same paths. Commands for a room owned elsewhere
travel to the owner over the mesh and are applied there once per op id; the owner's events travel back to
every instance with viewers of the room. Presence is announced by each edge and re-announced after any owner
change, so counts are rebuilt rather than migrated. Each room's ownership lifecycle here is the pure state
machine of `core.ownership`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from synctv._generated import mesh_pb2 as pb
from synctv.core import commands as c
from synctv.core import ownership as own
from synctv.core.errors import ErrorCode
from synctv.core.room import MsgType, WsMessage
from synctv.discovery import Member
from synctv.mesh import MeshError, MeshNode
from synctv.mesh.core import BATCH_MINOR
from synctv.observability import tracing
from synctv.rooms import frames, wire
from synctv.rooms.actor import RoomActor, RoomUnavailable
from synctv.rooms.cluster.feeds import EdgeFeeds, Subscribers
from synctv.rooms.cluster.handoff import Handoffs
from synctv.rooms.cluster.live_hook import LivePart
from synctv.rooms.cluster.ownership import Ownerships
from synctv.rooms.cluster.placement import Placement, left_out
from synctv.rooms.cluster.queries import ClusterQueries
from synctv.rooms.cluster.slots import ClusterSlots
from synctv.rooms.cluster.throttle import ClusterThrottle
from synctv.rooms.delivery import Delivery
from synctv.rooms.hub import LocalHub
from synctv.store import Store
from synctv.store.batching import Batcher

log = logging.getLogger(__name__)

# How long an edge keeps receiving a room's events from its previous owner after following a new one.
UNFOLLOW_DELAY_S = 5.0
# How long a room pushed here, or a peer's command for a room the ring gives us, waits while this instance is
# still authenticating with the cluster (tens of milliseconds after a restart), rather than being refused and
# reloaded from the database or retried by the sender.
JOINING_WAIT_S = 1.0

_UNREACHABLE = c.Reply.fail(ErrorCode.UNAVAILABLE, "room owner is unreachable, try again")
_HELD = c.Reply.fail(ErrorCode.UNAVAILABLE, "room is owned by another instance right now, try again")


class RoomRouter:
    def __init__(self, store: Store, hub: LocalHub, instance_id: str, *, idle_unload_s: float = 60.0,
                 command_timeout_s: float = 5.0) -> None:
        self.store = store
        self.hub = hub
        self.instance_id = instance_id
        self.idle_unload_s = idle_unload_s
        self.command_timeout_s = command_timeout_s
        self.mesh: MeshNode | None = None
        self.live: LivePart | None = None  # live channels' mesh traffic (synctv.live), when RTMP is on
        self.on_room_closed: Callable[[str, str], None] | None = None  # (room id, reason): live channels close
        self.placement = Placement(instance_id)
        # What discovery lists; the placement holds the authenticated part of it.
        self.discovered: list[Member] = []
        self.left_out = False
        self._own_blocks: set[str] = set()
        self._may_own = asyncio.Event()
        self._may_own.set()
        self._connecting = False
        self.ownership = Ownerships()
        self.subscribers = Subscribers()
        self.feeds = EdgeFeeds()
        self.handoff = Handoffs(self)
        self.queries = ClusterQueries(self)
        self.throttle = ClusterThrottle(self)
        self.slots = ClusterSlots(self)
        self._actors: dict[str, RoomActor] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._janitor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._presence_version = 0
        # One presence update in flight per room from this instance; joins meanwhile ride in the next one.
        self._announcers: dict[str, Batcher[str, None, c.Reply]] = {}
        # Plain counters, read by the metrics collector at scrape time.
        self.delivered = 0
        self.events_published = 0
        self.commands_applied = 0
        self.remote_commands = 0
        self.fence_rejections = 0
        self.handoffs: dict[str, int] = {}
        hub.on_first_viewer = self._repoint
        hub.on_last_viewer = self._last_viewer

    def attach(self, mesh: MeshNode, self_member: Member) -> None:
        self.mesh = mesh
        self.placement.self_member = self_member
        mesh.on_auth_change = self._auth_changed

    @property
    def self_member(self) -> Member:
        return self.placement.self_member

    async def start(self) -> None:
        self._janitor = asyncio.create_task(self._unload_idle_loop(), name="room-janitor")
        self.slots.start()

    async def stop(self) -> None:
        if self._janitor:
            self._janitor.cancel()
        self.slots.stop()
        for task in list(self._tasks):
            task.cancel()
        for actor in list(self._actors.values()):
            await actor.stop()
        self._actors.clear()

    # --- actors here ---

    def local_actor(self, room_id: str) -> RoomActor | None:
        actor = self._actors.get(room_id)
        return actor if actor is not None and not actor.stopped else None

    def owned_rooms(self) -> list[str]:
        return [r for r, a in self._actors.items() if not a.stopped]

    def take_actor(self, room_id: str, actor: RoomActor) -> None:
        """The actor stopped for good here (handed over, unloaded, closed)."""
        if self._actors.get(room_id) is actor:
            del self._actors[room_id]

    def drop_instance(self, instance_id: str) -> None:
        for actor in self._actors.values():
            actor.drop_instance(instance_id)

    async def load(self, room_id: str) -> RoomActor:
        """The room's actor here, started (from a pushed or pulled snapshot, or the database) if needed."""
        actor = self.local_actor(room_id)
        if actor is not None:
            return actor
        async with self._locks.setdefault(room_id, asyncio.Lock()):
            actor = self.local_actor(room_id)
            if actor is not None:
                return actor
            if not self.ownership.can_own:
                raise RoomUnavailable(ErrorCode.UNAVAILABLE,
                                      "this instance is not allowed to own rooms right now (lease lost, or not a "
                                      "member of the cluster)")
            stale = self._actors.get(room_id)
            if self.ownership.phase(room_id) is own.Phase.OWNED and (stale is None or stale.stopped):
                # Its actor stopped on its own (the room was closed, or the actor gave up): owned no more.
                self._stopped(room_id, stale)
            pushed = self.handoff.take_adopted(room_id)
            try:
                self.ownership.apply(room_id, own.AdoptStarted() if pushed else own.LoadStarted())
            except own.InvalidTransition:
                raise RoomUnavailable(ErrorCode.UNAVAILABLE, "room is owned by another instance") from None
            try:
                moved = pushed or await self.handoff.pull(room_id)
                actor = RoomActor(room_id, self.store, self.publish, on_fenced=self._fenced,
                                  instance_id=self.instance_id)
                if moved is not None:
                    self.subscribers.add_all(room_id, (p for p in moved.subscribers if p != self.instance_id))
                else:
                    # Taken over from the database (a crash, a partition): who has viewers is unknown, and edges
                    # subscribe only once their own view names this instance, which may be a moment later than
                    # ours. Every member gets the events meanwhile; an edge without viewers says so at once.
                    self.subscribers.add_all(room_id, self.placement.peer_ids())
                await actor.start(moved.snapshot if moved else None, moved.recent_ops if moved else None)
            except BaseException:
                self.ownership.apply(room_id, own.LoadFailed())
                raise
            self._actors[room_id] = actor
            self.ownership.apply(room_id, own.LoadDone())
            # Presence is rebuilt, not migrated: announce this instance's viewers to the new actor.
            presence = self.hub.presence(room_id)
            if presence:
                await actor.submit(self.presence(presence, replace_all=True))
        return actor

    def _fenced(self, room_id: str) -> None:
        self.fence_rejections += 1
        self._actors.pop(room_id, None)
        # Another instance took the room over with a higher epoch: leave it alone for a while instead of
        # taking it back at once (which would make the two fence each other in turn).
        self.ownership.apply(room_id, own.FenceRejected())

    def _stopped(self, room_id: str, actor: RoomActor | None) -> None:
        if actor is not None:
            self.take_actor(room_id, actor)
        with contextlib.suppress(own.InvalidTransition):
            self.ownership.apply(room_id, own.Stopped())

    def presence(self, counts: dict[str, int], *, replace_all: bool = False) -> c.UpdatePresence:
        """A presence update from this instance, versioned so the owner applies updates in the order made."""
        self._presence_version = max(time.time_ns(), self._presence_version + 1)
        return c.UpdatePresence(self.instance_id, counts, replace_all=replace_all, version=self._presence_version)

    async def announce(self, room_id: str, user_id: str) -> c.Reply:
        """Tell the owner how many connections `user_id` has here now; the reply carries the viewer count.

        A join storm would otherwise send the owner one update per socket: updates for one room are coalesced
        (counts are absolute and read when the update leaves, so merging loses nothing)."""
        batcher = self._announcers.get(room_id)
        if batcher is None:
            batcher = self._announcers[room_id] = Batcher(lambda users: self._announce_now(room_id, users))
        try:
            return await batcher.get(user_id, None)
        finally:
            if batcher.idle and self._announcers.get(room_id) is batcher:
                del self._announcers[room_id]

    async def _announce_now(self, room_id: str, users: dict[str, None]) -> dict[str, c.Reply | BaseException]:
        reply = await self.submit(room_id, self.presence({u: self.hub.user_connections(room_id, u) for u in users}))
        return dict.fromkeys(users, reply)

    def count_handoff(self, result: str) -> None:
        self.handoffs[result] = self.handoffs.get(result, 0) + 1

    # --- membership ---

    def members(self) -> Sequence[Member]:
        return self.placement.members()

    def owner(self, room_id: str) -> str:
        """Us while our actor runs or loads; the new owner for a while after we handed the room over;
        otherwise the ring's answer."""
        route, target = self.ownership.route(room_id)
        if route is own.Route.LOCAL:
            return self.instance_id
        if route is own.Route.REDIRECT:
            return target
        return self.placement.owner(room_id)

    def set_members(self, members: Sequence[Member]) -> None:
        """A new discovery view: dial its peers; the ring takes those mutually authenticated."""
        self.discovered = sorted(members, key=lambda m: m.instance_id)
        if self.mesh is not None:
            peers = [m for m in self.discovered if m.instance_id != self.instance_id]
            self.mesh.set_members(peers)
            self._connecting = True
            try:
                for m in peers:
                    self.mesh.connect(m.instance_id)  # streams (and authentication) before they are needed
            finally:
                self._connecting = False
        self._apply_view()

    def _auth_changed(self) -> None:
        if not self._connecting:  # set_members applies the view once it has dialled every peer
            self._apply_view()

    def excluded_peers(self) -> dict[str, str]:
        """Discovery peers left out of the ring: id -> why (a failed authentication, or not yet done)."""
        if self.mesh is None:
            return {}
        out: dict[str, str] = {}
        for m in self.discovered:
            if m.instance_id != self.instance_id and not self.mesh.authenticated(m.instance_id):
                out[m.instance_id] = self.mesh.auth_failure(m.instance_id) or "mesh authentication pending"
            elif m.instance_id != self.instance_id and self.mesh.silent(m.instance_id):
                out[m.instance_id] = f"nothing heard over the mesh for {self.mesh.silence_limit_s:g} s"
        return out

    def _apply_view(self) -> None:
        """Rebuild the ring from the authenticated members, drop departed peers, move subscriptions and
        ownership; an instance on the losing side of an authentication split owns nothing."""
        mesh = self.mesh
        # A silent peer (a cut link closes nothing) is out like an unauthenticated one: on a split, the side that
        # still hears a majority keeps the rooms and the other fences itself.
        members = [m for m in self.discovered if m.instance_id == self.instance_id or mesh is None
                   or (mesh.authenticated(m.instance_id) and not mesh.silent(m.instance_id))]
        was_left_out = self.left_out
        self.left_out = left_out(self.instance_id, self.discovered, members)
        if self.left_out and mesh is not None:
            # Owning nothing, this instance's ring only routes: while it joins, peers still authenticating stay
            # in it, so the ring does not pass through partial views (and wrong previous owners to pull from).
            members = [m for m in self.discovered if m.instance_id == self.instance_id
                       or mesh.authenticated(m.instance_id) or mesh.auth_pending(m.instance_id)]
        departed, _current, changed = self.placement.set_members(members)
        if self.left_out != was_left_out:
            excluded = self.excluded_peers()
            failed = sorted(p for p in excluded if mesh is not None and mesh.auth_failure(p))
            unreachable = sorted(p for p in excluded if mesh is not None and mesh.silent(p))
            if self.left_out and failed:
                log.error("this instance cannot authenticate with most of the cluster; it owns no rooms",
                          extra={"excluded": ",".join(sorted(excluded)), "failed": ",".join(failed)})
            elif self.left_out and unreachable:
                log.warning("most of the cluster is down or unreachable from here; this instance owns no rooms "
                            "until it hears from them again", extra={"unreachable": ",".join(unreachable)})
            elif self.left_out:
                # Joining: the handshakes with the peers are still under way (milliseconds).
                log.info("waiting for mesh authentication with most of the cluster before owning rooms",
                         extra={"pending": ",".join(sorted(excluded))})
            else:
                log.info("authenticated with the cluster; owning rooms again")
        self.set_can_own(not self.left_out, reason="membership")
        if changed:
            self.ownership.clear_holds()
            self.slots.ring_changed(departed)
        # A peer leaving gracefully keeps its stream while it drains; forget it when that stream closes.
        # A peer still in discovery but not (yet) authenticated -- a restarted peer re-authenticating -- keeps its
        # subscriptions: it will not subscribe again, since from its side nothing changed.
        discovered = {m.instance_id for m in self.discovered}
        self._forget_peers({p for p in departed if p not in discovered
                            and (self.mesh is None or not self.mesh.is_connected(p))})
        self.handoff.move_rooms()
        for room_id in self.hub.rooms():
            self._repoint(room_id, departed)

    def _forget_peers(self, peers: set[str]) -> None:
        if peers:
            self.subscribers.forget(peers)
            for peer in peers:
                self.drop_instance(peer)

    async def begin_leave(self, timeout: float) -> None:
        """Graceful leave: every owned room goes to its next owner; local viewers follow the new owners."""
        self.placement.begin_leave()
        tasks = self.handoff.move_rooms()
        for room_id in self.hub.rooms():
            self._repoint(room_id)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def set_can_own(self, allowed: bool, reason: str = "lease") -> None:
        """Self-fencing: without a valid lease, or left out of the membership, this instance must stop acting
        as an owner (it may own again once every reason is gone)."""
        if allowed:
            self._own_blocks.discard(reason)
        else:
            self._own_blocks.add(reason)
        allowed = not self._own_blocks
        if allowed == self.ownership.can_own:
            return
        self.ownership.can_own = allowed
        if allowed:
            self._may_own.set()
        else:
            self._may_own.clear()
            # Left out of the membership alone is logged where it is decided (an error only for a failed
            # authentication, not while joining).
            level = logging.INFO if self._own_blocks == {"membership"} else logging.WARNING
            log.log(level, "not allowed to own rooms (%s): stopping every room owned here",
                    ",".join(sorted(self._own_blocks)))
            for room_id, actor in list(self._actors.items()):
                self._stopped(room_id, actor)
                self.spawn(actor.stop())

    async def joined(self) -> bool:
        """Whether this instance may own rooms, after waiting (up to JOINING_WAIT_S) if the only reason it may
        not is that its mesh authentication with the cluster is still under way."""
        mesh = self.mesh
        if (not self.ownership.can_own and self._own_blocks == {"membership"} and mesh is not None
                and all(mesh.auth_pending(p) for p in self.excluded_peers())):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(JOINING_WAIT_S):
                    await self._may_own.wait()
        return self.ownership.can_own

    # --- edge subscriptions ---

    def _repoint(self, room_id: str, departed: frozenset[str] | set[str] = frozenset()) -> None:
        owner = self.owner(room_id)
        previous = self.feeds.subscribed.get(room_id)
        if previous == owner or (previous is None and owner == self.instance_id):
            return
        if previous and previous not in departed:
            # Not at once: views disagree for a moment (a healed partition reaches each instance at its own
            # time), and the previous owner may still be committing events until its own view moves the room.
            # By then it has handed its subscribers over, or the views agree and it no longer owns the room.
            asyncio.get_running_loop().call_later(UNFOLLOW_DELAY_S, self._unfollow, previous, room_id)
        self.feeds.follow(room_id, None if owner == self.instance_id else owner)
        if owner != self.instance_id:
            self._subscribe(owner, room_id, True)
        self.spawn(self._announce(room_id))

    def _unfollow(self, previous: str, room_id: str) -> None:
        if self.feeds.subscribed.get(room_id) != previous:
            self._subscribe(previous, room_id, False)

    def follow_owner(self, room_id: str, owner: str) -> None:
        """Our own viewers of a room we handed over follow its new owner like any edge's."""
        self.feeds.follow(room_id, owner)
        self._subscribe(owner, room_id, True)

    def _subscribe(self, peer: str, room_id: str, on: bool) -> None:
        if self.mesh is not None:
            with contextlib.suppress(MeshError):
                self.mesh.subscribe(peer, room_id, on)

    async def _announce(self, room_id: str) -> None:
        presence = self.hub.presence(room_id)
        with contextlib.suppress(Exception):
            await self.submit(room_id, self.presence(presence, replace_all=True))

    def _last_viewer(self, room_id: str) -> None:
        owner = self.feeds.drop(room_id)
        if owner:
            self._subscribe(owner, room_id, False)

    # --- commands ---

    async def submit(self, room_id: str, cmd: c.RoomCommand) -> c.Reply:
        """Apply `cmd` at the room's owner, wherever it is; retries keep the same op id."""
        owner = self.owner(room_id)
        if isinstance(cmd, c.ClientFrame) and cmd.more and owner != self.instance_id and self.mesh is not None \
                and self.mesh.peer_minor(owner) < BATCH_MINOR:
            return await self._one_by_one(room_id, cmd)  # an owner of an older release (a rolling upgrade)
        with tracing.span("router.submit", {"synctv.instance": self.instance_id, "synctv.room": room_id,
                                            "synctv.owner": owner,
                                            "synctv.route": "local" if owner == self.instance_id else "mesh"}):
            return await self._route(room_id, cmd)

    async def _one_by_one(self, room_id: str, cmd: c.ClientFrame) -> c.Reply:
        """A batch as separate commands, in order, answered as the batch would be."""
        answers: list[bytes] = []
        for data in (cmd.frame, *cmd.more):
            reply = await self.submit(room_id, c.ClientFrame(cmd.user, cmd.conn_id, data, joined_ms=cmd.joined_ms))
            if reply.code is ErrorCode.MALFORMED:
                return c.Reply(error=reply.error, frames=tuple(answers))
            answers += reply.frames
            if reply.error is not None:
                answers.append(frames.error_frame(reply.error.message))
        return c.Reply(frames=tuple(answers))

    async def _route(self, room_id: str, cmd: c.RoomCommand) -> c.Reply:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.command_timeout_s
        op_id = uuid.uuid4().hex
        command: pb.Command | None = None
        delay = 0.02
        hint = ""
        while True:
            target = hint or self.owner(room_id)
            hint = ""
            remaining = deadline - loop.time()
            if target == self.instance_id:
                if self.ownership.route(room_id)[0] is own.Route.HOLD:
                    return _HELD
                if self.ownership.can_own:
                    return await self.submit_local(room_id, cmd, op_id)
            elif self.mesh is not None and remaining > 0:
                if command is None:
                    command = pb.Command(room_id=room_id, op_id=op_id, body=wire.command_to_pb(cmd),
                                         trace=tracing.inject())
                try:
                    answer = await self.mesh.command(target, command, timeout=remaining)
                    if answer.code == pb.NOT_OWNER:
                        # Views disagree for a moment: follow the hint once, then re-resolve; same op id.
                        hint = answer.redirect_to if answer.redirect_to != target else ""
                    else:
                        self.remote_commands += 1
                        return wire.reply_from_pb(answer)
                except (MeshError, TimeoutError) as exc:
                    log.debug("command to %s failed: %s", target, exc)
            if loop.time() + delay >= deadline:
                return _UNREACHABLE
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def submit_local(self, room_id: str, cmd: c.RoomCommand, op_id: str = "") -> c.Reply:
        last = ""
        for _ in range(3):
            try:
                actor = await self.load(room_id)
                reply = await actor.submit(cmd, op_id)
                self.commands_applied += 1
                if isinstance(cmd, c.CloseRoom) and reply.error is None:
                    self._closed_here(room_id, cmd.reason)
                return reply
            except RoomUnavailable as exc:
                self._actors.pop(room_id, None)
                if exc.code is ErrorCode.NOT_FOUND:
                    return c.Reply.fail(exc.code, str(exc))  # gone for good: no point reading it again
                last = str(exc)
        return c.Reply.fail(ErrorCode.UNAVAILABLE, f"room is unavailable ({last}), try again")

    def entitled(self, peer: str, room_id: str) -> bool:
        """Whether `peer` may act on the room's ownership (push it here, close it): it owns the room in our
        view, or it is the owner our ring names (a view that has not caught up with a leave)."""
        return peer in (self.owner(room_id), self.placement.owner(room_id))

    def refusal(self, room_id: str) -> c.Reply | None:
        """Why a peer's command for the room must not be applied here (None: it may)."""
        owner = self.owner(room_id)
        if owner != self.instance_id:
            return c.Reply.fail(ErrorCode.NOT_OWNER, f"not owner; owner is {owner or 'unknown'}")
        if not self.ownership.can_own or self.ownership.route(room_id)[0] is own.Route.HOLD:
            return c.Reply.fail(ErrorCode.NOT_OWNER, "not owner; owner is unknown")
        return None

    # --- events ---

    def publish(self, room_id: str, first_seq: int, server_ts_ms: int, deliveries: list[Delivery]) -> None:
        """Called by a local actor, in sequence order: fan out here, and once to every subscribed instance."""
        self.events_published += len(deliveries)
        self.delivered += self.hub.deliver(room_id, deliveries)
        peers = self.subscribers.get(room_id)
        if not peers or self.mesh is None:
            return
        batch = pb.EventBatch(room_id=room_id)
        for i, d in enumerate(deliveries):
            wire.delivery_to_pb(d, batch.events.add(seq=first_seq + i, server_ts_ms=server_ts_ms).delivery)
        for peer in list(peers):
            try:
                self.mesh.send_events(peer, batch)
            except MeshError:
                log.debug("could not send events to %s", peer)

    def receive_events(self, peer: str, batch: pb.EventBatch) -> None:
        if not self.hub.has_viewers(batch.room_id):
            self._subscribe(peer, batch.room_id, False)  # an owner that took the room over sends to every member
            return
        fresh, gap = self.feeds.accept(peer, batch)
        self.delivered += self.hub.deliver(batch.room_id, [wire.delivery_from_pb(ev.delivery) for ev in fresh])
        if gap:
            self.spawn(self._resync(batch.room_id))

    async def _resync(self, room_id: str) -> None:
        """After a sequence gap, bring local viewers back to the owner's state with a fresh STATUS."""
        with contextlib.suppress(Exception):
            status = (await self.state(room_id)).current.status
            frame = frames.encode(WsMessage(MsgType.STATUS, timestamp=status.last_update_ms, status=status))
            self.hub.deliver(room_id, [Delivery(frame=frame)])

    def peer_down(self, peer: str) -> None:
        # A stream can drop and come back; membership (discovery) decides when a peer is gone, except for a
        # peer that already left the membership and was only draining.
        log.debug("mesh stream to %s lost", peer)
        if not self.placement.is_member(peer):
            self._forget_peers({peer})

    # --- reads and room-wide actions ---

    async def close_room(self, room_id: str, reason: str) -> None:
        """Disconnect everyone, on every instance, and unload (room deleted, banned or set pending).

        The close goes to the room's owner like any command: its kick reaches every subscribed edge as an
        event, and the owner (only it) tells the other instances too."""
        await self.submit(room_id, c.CloseRoom(reason))
        await self.close_local(room_id, reason)

    def _closed_here(self, room_id: str, reason: str) -> None:
        actor = self._actors.get(room_id)
        if actor is not None:
            self._stopped(room_id, actor)
            self.spawn(actor.stop())
        if self.mesh is not None:
            self.mesh.broadcast_control(pb.Control(room_closed=pb.RoomClosed(room_id=room_id, reason=reason)))

    async def close_local(self, room_id: str, reason: str) -> None:
        if self.on_room_closed is not None:
            self.on_room_closed(room_id, reason)
        actor = self.local_actor(room_id)
        if actor is not None:
            with contextlib.suppress(RoomUnavailable):
                await actor.submit(c.CloseRoom(reason))
            await actor.stop()
            self._stopped(room_id, actor)
        self.hub.deliver(room_id, [Delivery(kick=True, reason=reason)])

    async def state(self, room_id: str) -> c.StateView:
        reply = await self.submit(room_id, c.GetState())
        if not isinstance(reply.value, c.StateView):
            raise RoomUnavailable(reply.code if reply.error else ErrorCode.INTERNAL,
                                  reply.error.message if reply.error else "room unavailable")
        return reply.value

    def local_viewer_count(self, room_id: str) -> int:
        """Viewers of a room loaded here, 0 when it is not loaded (as upstream's REST lists)."""
        actor = self.local_actor(room_id)
        return actor.viewer_count() if actor is not None else 0

    def local_hot_rooms(self) -> list[tuple[str, int]]:
        return [(r, a.viewer_count()) for r, a in self._actors.items() if not a.stopped and a.viewer_count() > 0]

    async def viewer_counts(self, room_ids: list[str]) -> dict[str, int]:
        return await self.queries.viewer_counts(room_ids)

    async def hot_rooms(self) -> list[tuple[str, int]]:
        return await self.queries.hot_rooms()

    async def describe(self) -> list[dict[str, Any]]:
        return await self.queries.describe()

    # --- idle rooms ---

    async def _unload_idle_loop(self) -> None:
        interval = max(1.0, min(self.idle_unload_s / 2, 30.0))
        while True:
            await asyncio.sleep(interval)
            await self.unload_idle()

    async def unload_idle(self) -> None:
        self.ownership.sweep()
        self.handoff.sweep()
        now = time.monotonic()
        for room_id, actor in list(self._actors.items()):
            # A room with viewers anywhere is never evicted.
            if actor.viewer_count() == 0 and not self.hub.presence(room_id) and \
                    now - actor.last_active >= self.idle_unload_s:
                await actor.stop()
                self._stopped(room_id, actor)
                log.debug("room unloaded", extra={"room_id": room_id})

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

