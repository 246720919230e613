"""Transport-independent half of a mesh node: the public send API, reply correlation and inbound dispatch.

A transport (gRPC in `node.py`, in-process in `inprocess.py`) supplies one ordered outbound link per peer
(`_link(peer).enqueue(envelope)`) and feeds every envelope received from a peer to `_dispatch`, in order.

Everything this instance sends to one peer -- commands, replies, events, presence, snapshots -- goes through
that peer's single outbound link, so the peer sees it in exactly the order it was sent. Replies therefore
never overtake (or fall behind) events sent to the same peer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from synctv._generated import mesh_pb2 as pb
from synctv.discovery.base import Member
from synctv.mesh.api import MeshEvent, MeshHandler, MeshStats
from synctv.mesh.errors import MeshError, NotOwner

log = logging.getLogger(__name__)


class Link(Protocol):
    def enqueue(self, envelope: pb.Envelope) -> None: ...


def kind_of(envelope: pb.Envelope) -> str:
    return envelope.WhichOneof("body") or "empty"


# How long a gracefully departing peer's stream is kept after it left the membership (its drain time).
DEPARTING_GRACE_S = 45.0


class MeshCore:
    def __init__(self, instance_id: str, handler: MeshHandler) -> None:
        self.instance_id = instance_id
        self.handler = handler
        self.stats = MeshStats()
        self.started_at_ms = int(time.time() * 1000)
        self._members: dict[str, Member] = {}
        # Peers that left the membership but still have a live stream (draining): kept until it closes.
        self._departing: dict[str, Member] = {}
        self._pending_commands: dict[tuple[str, str], list[asyncio.Future[pb.Reply]]] = {}
        self._pending_snapshots: dict[str, tuple[str, asyncio.Future[pb.SnapshotResponse]]] = {}
        self._peer_alive: dict[str, bool] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    # -- transport hooks ---------------------------------------------------------------------------------

    def _link(self, peer: str) -> Link:
        raise NotImplementedError

    def _drop_link(self, peer: str) -> None:
        """The peer left the membership: close its outbound link."""

    def _link_connected(self, peer: str) -> bool:
        return False

    # -- membership ----------------------------------------------------------------------------------------

    @property
    def peers(self) -> list[str]:
        return sorted(self._members)

    def set_members(self, members: Sequence[Member]) -> None:
        """Peers to talk to; this instance is skipped. Links to peers that left are closed."""
        new = {m.instance_id: m for m in members if m.instance_id != self.instance_id}
        gone = set(self._members) - set(new)
        old = self._members
        self._members = new
        for peer in new:
            self._departing.pop(peer, None)
        for peer in gone:
            # Callers waiting on a departed peer retry elsewhere (the ring no longer names it).
            self._fail_pending(peer, MeshError(f"peer {peer} left the cluster"))
            if self._link_connected(peer):
                # A peer that leaves gracefully is still draining: keep its stream (its viewers still get
                # events) until the stream closes or the grace period ends.
                self._departing[peer] = old[peer]
                loop = asyncio.get_running_loop()
                loop.call_later(DEPARTING_GRACE_S, self._forget_departed, peer)
                continue
            self._drop_link(peer)

    def _forget_departed(self, peer: str) -> None:
        if self._departing.pop(peer, None) is not None and peer not in self._members:
            self._drop_link(peer)
            self._fail_pending(peer, MeshError(f"peer {peer} left the cluster"))

    # -- sending -----------------------------------------------------------------------------------------

    def _send(self, peer: str, envelope: pb.Envelope) -> None:
        if peer == self.instance_id:
            raise MeshError("cannot send to self")
        if self._closing:
            raise MeshError("mesh is stopping")
        self.stats.sent[(peer, kind_of(envelope))] += 1
        self._link(peer).enqueue(envelope)

    async def command(self, peer: str, room_id: str, op_id: str, payload: bytes, timeout: float) -> bytes:
        """Send a command to `peer` and wait for its reply.

        Raises NotOwner(owner) when the peer redirects, MeshError when the peer's handler failed or the
        stream was lost (the caller may retry with the same op_id), asyncio.TimeoutError on timeout.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[pb.Reply] = loop.create_future()
        key = (peer, op_id)
        self._pending_commands.setdefault(key, []).append(fut)
        started = time.monotonic()
        try:
            deadline = int(time.time() * 1000 + timeout * 1000)
            cmd = pb.Command(room_id=room_id, op_id=op_id, deadline_unix_ms=deadline, payload=payload)
            self._send(peer, pb.Envelope(command=cmd))
            reply = await asyncio.wait_for(fut, timeout)
        finally:
            waiters = self._pending_commands.get(key)
            if waiters is not None:
                if fut in waiters:
                    waiters.remove(fut)
                if not waiters:
                    del self._pending_commands[key]
        self.stats.record_rtt(peer, time.monotonic() - started)
        if reply.ok:
            return bytes(reply.payload)
        if reply.redirect_to:
            raise NotOwner(reply.redirect_to)
        raise MeshError(reply.error or "command failed")

    def send_events(self, peer: str, room_id: str, events: Sequence[MeshEvent]) -> None:
        """Queue events for `peer`; never blocks. Adjacent batches of one room are merged before sending."""
        if not events:
            return
        batch = pb.EventBatch(
            room_id=room_id,
            events=[pb.Event(seq=e.seq, server_ts_ms=e.server_ts_ms, payload=e.payload) for e in events],
        )
        self.stats.events_sent[peer] += len(events)
        self._send(peer, pb.Envelope(events=batch))

    def send_presence(self, peer: str, room_id: str, payload: bytes) -> None:
        self._send(peer, pb.Envelope(presence=pb.Presence(room_id=room_id, payload=payload)))

    def subscribe(self, peer: str, room_id: str, on: bool) -> None:
        self._send(peer, pb.Envelope(subscribe=pb.Subscribe(room_id=room_id, on=on)))

    async def snapshot(self, peer: str, room_id: str, timeout: float) -> bytes:
        request_id = uuid.uuid4().hex
        fut: asyncio.Future[pb.SnapshotResponse] = asyncio.get_running_loop().create_future()
        self._pending_snapshots[request_id] = (peer, fut)
        try:
            req = pb.SnapshotRequest(request_id=request_id, room_id=room_id)
            self._send(peer, pb.Envelope(snapshot_request=req))
            resp = await asyncio.wait_for(fut, timeout)
        finally:
            self._pending_snapshots.pop(request_id, None)
        if not resp.ok:
            raise MeshError(resp.error or "snapshot failed")
        return bytes(resp.payload)

    def broadcast_control(self, kind: str, payload: bytes) -> None:
        for peer in self.peers:
            self.send_control(peer, kind, payload)

    def send_control(self, peer: str, kind: str, payload: bytes) -> None:
        self._send(peer, pb.Envelope(control=pb.Control(kind=kind, payload=payload)))

    # -- receiving -----------------------------------------------------------------------------------------

    async def _dispatch(self, peer: str, env: pb.Envelope) -> None:
        """Handle one envelope from `peer`. Called in stream order; returns when ordered work is done."""
        kind = kind_of(env)
        self.stats.received[(peer, kind)] += 1
        try:
            if kind == "events":
                b = env.events
                evs = [MeshEvent(e.seq, e.server_ts_ms, bytes(e.payload)) for e in b.events]
                await self.handler.handle_events(peer, b.room_id, evs)
            elif kind == "presence":
                await self.handler.handle_presence(peer, env.presence.room_id, bytes(env.presence.payload))
            elif kind == "subscribe":
                await self.handler.handle_subscribe(peer, env.subscribe.room_id, env.subscribe.on)
            elif kind == "control":
                await self.handler.handle_control(peer, env.control.kind, bytes(env.control.payload))
            elif kind == "command":
                # Commands run concurrently (rooms are independent); tasks start in arrival order, so the
                # rooms layer sees them in order, and its per-room actor keeps them in order.
                self._spawn(self._run_command(peer, env.command))
            elif kind == "snapshot_request":
                self._spawn(self._run_snapshot(peer, env.snapshot_request))
            elif kind == "reply":
                for fut in self._pending_commands.get((peer, env.reply.op_id), []):
                    if not fut.done():
                        fut.set_result(env.reply)
            elif kind == "snapshot_response":
                entry = self._pending_snapshots.get(env.snapshot_response.request_id)
                if entry is not None and entry[0] == peer and not entry[1].done():
                    entry[1].set_result(env.snapshot_response)
        except Exception:
            # A failing handler must not tear down the stream that also carries other rooms' traffic.
            log.exception("mesh: handler failed for %s from %s", kind, peer)

    async def _run_command(self, peer: str, cmd: pb.Command) -> None:
        reply = pb.Reply(op_id=cmd.op_id)
        try:
            reply.payload = await self.handler.handle_command(peer, cmd.room_id, cmd.op_id, bytes(cmd.payload))
            reply.ok = True
        except NotOwner as exc:
            reply.redirect_to = exc.owner
            reply.error = str(exc)
        except Exception as exc:
            reply.error = str(exc) or type(exc).__name__
        self._reply(peer, pb.Envelope(reply=reply))

    async def _run_snapshot(self, peer: str, req: pb.SnapshotRequest) -> None:
        resp = pb.SnapshotResponse(request_id=req.request_id)
        try:
            resp.payload = await self.handler.handle_snapshot(peer, req.room_id)
            resp.ok = True
        except Exception as exc:
            resp.error = str(exc) or type(exc).__name__
        self._reply(peer, pb.Envelope(snapshot_response=resp))

    def _reply(self, peer: str, env: pb.Envelope) -> None:
        try:
            self._send(peer, env)
        except MeshError as exc:
            log.info("mesh: dropped %s to %s: %s", kind_of(env), peer, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- peer liveness -------------------------------------------------------------------------------------

    def _stream_up(self, peer: str) -> None:
        self.stats.streams_up[peer] += 1
        self._peer_alive[peer] = True

    def _stream_down(self, peer: str, outbound: bool) -> None:
        """A stream to or from `peer` ended. Fire handle_peer_down once per loss."""
        self.stats.streams_down[peer] += 1
        if outbound:
            # Commands written on the lost stream may never be answered: fail them so callers retry.
            self._fail_pending(peer, MeshError(f"stream to {peer} lost"))
            if peer in self._departing:
                self._forget_departed(peer)
        if self._peer_alive.get(peer) and not self._closing:
            self._peer_alive[peer] = False
            self._spawn(self._notify_down(peer))

    async def _notify_down(self, peer: str) -> None:
        try:
            await self.handler.handle_peer_down(peer)
        except Exception:
            log.exception("mesh: handle_peer_down(%s) failed", peer)

    def _fail_pending(self, peer: str, exc: Exception) -> None:
        for (p, _op), futs in list(self._pending_commands.items()):
            if p == peer:
                for fut in futs:
                    if not fut.done():
                        fut.set_exception(exc)
        for p, fut2 in list(self._pending_snapshots.values()):
            if p == peer and not fut2.done():
                fut2.set_exception(exc)

    async def _close_core(self) -> None:
        self._closing = True
        for peer in list(self._peer_alive):
            self._fail_pending(peer, MeshError("mesh is stopping"))
        for peer in list(self._members):
            self._fail_pending(peer, MeshError("mesh is stopping"))
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def merge_batches(envs: list[pb.Envelope]) -> list[pb.Envelope]:
    """Merge adjacent event batches of the same room into one envelope; keeps every other order intact."""
    out: list[pb.Envelope] = []
    merged: set[int] = set()
    for env in envs:
        last = out[-1] if out else None
        if (
            last is not None
            and kind_of(env) == "events"
            and kind_of(last) == "events"
            and last.events.room_id == env.events.room_id
        ):
            if id(last) not in merged:
                # Copy before extending: the caller may still hold the original envelope.
                copy = pb.Envelope()
                copy.CopyFrom(last)
                out[-1] = last = copy
                merged.add(id(copy))
            last.events.events.extend(env.events.events)
        else:
            out.append(env)
    return out
