"""RoomRouter: where is a room's owner, and how does a command reach it.

The only place that knows whether a room's actor is local. On a single node every room is owned locally; the
cluster runtime (rooms/cluster.py) extends this with the ring and the mesh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from synctv.core.room import Snapshot
from synctv.observability import tracing
from synctv.rooms import commands as c
from synctv.rooms.actor import RoomActor, RoomUnavailable
from synctv.rooms.delivery import Delivery
from synctv.rooms.hub import LocalHub
from synctv.store import Store

log = logging.getLogger(__name__)


class RoomRouter:
    def __init__(self, store: Store, hub: LocalHub, instance_id: str, *, idle_unload_s: float = 60.0) -> None:
        self.store = store
        self.hub = hub
        self.instance_id = instance_id
        self.idle_unload_s = idle_unload_s
        self._actors: dict[str, RoomActor] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._janitor: asyncio.Task[None] | None = None
        # Plain counters, read by the metrics collector at scrape time.
        self.delivered = 0
        self.events_published = 0
        self.commands_applied = 0
        self.fence_rejections = 0
        self.handoffs: dict[str, int] = {}
        self._presence_version = 0

    async def start(self) -> None:
        self._janitor = asyncio.create_task(self._unload_idle_loop(), name="room-janitor")

    async def stop(self) -> None:
        if self._janitor:
            self._janitor.cancel()
        for actor in list(self._actors.values()):
            await actor.stop()
        self._actors.clear()

    # --- ownership ---

    def local_actor(self, room_id: str) -> RoomActor | None:
        actor = self._actors.get(room_id)
        return actor if actor is not None and not actor.stopped else None

    def owned_rooms(self) -> list[str]:
        return [r for r, a in self._actors.items() if not a.stopped]

    async def _load(self, room_id: str) -> RoomActor:
        actor = self.local_actor(room_id)
        if actor is not None:
            return actor
        lock = self._locks.setdefault(room_id, asyncio.Lock())
        async with lock:
            actor = self.local_actor(room_id)
            if actor is None:
                self._check_can_load(room_id)
                actor = RoomActor(room_id, self.store, self.publish, on_fenced=self._fenced,
                                  instance_id=self.instance_id)
                snapshot = await self._takeover_snapshot(room_id)
                await actor.start(snapshot, self._takeover_ops(room_id))
                self._actors[room_id] = actor
                # Presence is rebuilt, not migrated: announce this instance's viewers to the new actor.
                presence = self.hub.presence(room_id)
                if presence:
                    await actor.submit(self.presence(presence, replace_all=True))
        return actor

    def presence(self, counts: dict[str, int], *, replace_all: bool = False) -> c.Presence:
        """A presence update from this instance, versioned so the owner applies updates in the order made."""
        self._presence_version = max(time.time_ns(), self._presence_version + 1)
        return c.Presence(self.instance_id, counts, replace_all=replace_all, version=self._presence_version)

    def _check_can_load(self, room_id: str) -> None:
        """Raise RoomUnavailable when this instance must not take the room over right now."""

    async def _takeover_snapshot(self, room_id: str) -> Snapshot | None:
        """State handed over by a previous owner, if any (single node: none, load from the database)."""
        return None

    def _takeover_ops(self, room_id: str) -> dict[str, c.Reply] | None:
        """Op ids the previous owner already applied (handed over with the snapshot)."""
        return None

    def _fenced(self, room_id: str) -> None:
        self.fence_rejections += 1
        self._actors.pop(room_id, None)

    def count_handoff(self, result: str) -> None:
        self.handoffs[result] = self.handoffs.get(result, 0) + 1

    # --- commands and events ---

    async def submit(self, room_id: str, cmd: c.RoomCommand) -> c.Reply:
        with tracing.span("router.submit", {"synctv.instance": self.instance_id, "synctv.room": room_id,
                                            "synctv.owner": self.instance_id, "synctv.route": "local"}):
            return await self._submit_to_actor(room_id, cmd)

    async def _submit_to_actor(self, room_id: str, cmd: c.RoomCommand, op_id: str = "") -> c.Reply:
        last = ""
        for _ in range(3):
            try:
                actor = await self._load(room_id)
                reply = await actor.submit(cmd, op_id)
                self.commands_applied += 1
                return reply
            except RoomUnavailable as exc:
                self._actors.pop(room_id, None)
                last = str(exc)
                if last == "room not found":
                    return c.Reply(error=last)  # gone for good: no point reading it again
        return c.Reply(error=f"room is unavailable ({last}), try again")

    def publish(self, room_id: str, first_seq: int, server_ts_ms: int, deliveries: list[Delivery]) -> None:
        """Called by a local actor, in sequence order: fan out to this instance's viewers."""
        self.events_published += len(deliveries)
        self.delivered += self.hub.deliver(room_id, deliveries)

    async def close_room(self, room_id: str, reason: str) -> None:
        """Disconnect everyone and unload (room deleted, banned or set pending)."""
        actor = self.local_actor(room_id)
        if actor is not None:
            with contextlib.suppress(RoomUnavailable):
                await actor.submit(c.CloseRoom(reason))
            await actor.stop()
            self._actors.pop(room_id, None)
        self.hub.deliver(room_id, [Delivery(kick=True, reason=reason)])

    async def state(self, room_id: str) -> dict[str, Any]:
        reply = await self.submit(room_id, c.GetState())
        if reply.error or reply.value is None:
            raise RoomUnavailable(reply.error or "room unavailable")
        return reply.value

    def local_viewer_count(self, room_id: str) -> int:
        """Viewers of a room loaded here, 0 when it is not loaded (as upstream's REST lists)."""
        actor = self.local_actor(room_id)
        return actor.viewer_count() if actor is not None else 0

    async def viewer_counts(self, room_ids: list[str]) -> dict[str, int]:
        """Viewer counts of rooms, wherever they are owned (0 for rooms not loaded)."""
        return {r: self.local_viewer_count(r) for r in room_ids}

    def local_hot_rooms(self) -> list[tuple[str, int]]:
        return [(r, a.viewer_count()) for r, a in self._actors.items() if not a.stopped and a.viewer_count() > 0]

    async def hot_rooms(self) -> list[tuple[str, int]]:
        """Rooms with viewers, cluster-wide."""
        return self.local_hot_rooms()

    async def describe(self) -> list[dict[str, Any]]:
        """This instance as the only member, with the rooms it owns (the cluster router lists every member)."""
        return [{"instanceId": self.instance_id, "self": True, "healthy": True, "rooms": self.owned_rooms(),
                 "connections": self.hub.connection_count()}]

    def owner(self, room_id: str) -> str:
        return self.instance_id

    async def _unload_idle_loop(self) -> None:
        interval = max(1.0, min(self.idle_unload_s / 2, 30.0))
        while True:
            await asyncio.sleep(interval)
            await self.unload_idle()

    async def unload_idle(self) -> None:
        now = time.monotonic()
        for room_id, actor in list(self._actors.items()):
            # A room with viewers anywhere is never evicted.
            if actor.viewer_count() == 0 and not self.hub.presence(room_id) and \
                    now - actor.last_active >= self.idle_unload_s:
                await actor.stop()
                if self._actors.get(room_id) is actor:
                    del self._actors[room_id]
                log.debug("room unloaded", extra={"room_id": room_id})
