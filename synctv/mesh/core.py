"""Transport-independent half of a mesh node: the public send API, reply correlation and inbound dispatch.

A transport (gRPC in `node.py`, in-process in `inprocess.py`) supplies one ordered outbound link per peer
(`link(peer).enqueue(envelope)`) and hands every frame received from a peer to `dispatch_frame`, in order.

Everything this instance sends to one peer -- commands, replies, events, queries -- goes through that peer's
single outbound link, so the peer sees it in exactly the order it was sent. Replies therefore never overtake
(or fall behind) events sent to the same peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from synctv._generated import mesh_pb2 as pb
from synctv.discovery.base import Member
from synctv.mesh.api import MeshHandler, MeshStats
from synctv.mesh.errors import MeshError
from synctv.mesh.version import PROTOCOL_MAJOR, PROTOCOL_MINOR

log = logging.getLogger(__name__)


class Link(Protocol):
    def enqueue(self, envelope: pb.Envelope) -> None: ...


def kind_of(envelope: pb.Envelope) -> str:
    return envelope.WhichOneof("body") or "empty"


# Commands one peer may have running here at once; beyond that they are answered BUSY (the sender retries).
MAX_INFLIGHT_PER_PEER = 4096
# How long a gracefully departing peer's stream is kept after it left the membership (its drain time).
DEPARTING_GRACE_S = 45.0
# A link with nothing to send writes an empty frame this often, so that its peer can tell a quiet link from a
# cut one (a partition closes nothing: the stream just goes quiet). Peers of this protocol minor on send them.
HEARTBEAT_S = 0.5
HEARTBEAT_MINOR = 8
# Peers of this protocol minor on apply a ClientFrame's `more_frames` (older ones would drop them).
BATCH_MINOR = 8


@dataclass
class PeerAuth:
    """Mutual authentication with one discovery peer: it accepted our token and hello (outbound), and we
    accepted its token and hello (inbound). Sticky: a lost stream is not a failed authentication; only a refusal
    (a bad token, another protocol major, another instance at the address) is."""

    outbound: bool = False
    inbound: bool = False
    failure: str = ""

    @property
    def ok(self) -> bool:
        return self.outbound and self.inbound and not self.failure


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
        self._pending_queries: dict[str, tuple[str, asyncio.Future[pb.QueryReply]]] = {}
        self._peer_alive: dict[str, bool] = {}
        self._inflight: dict[str, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._auth: dict[str, PeerAuth] = {}
        # The last discovery record of every peer ever seen (a restart shows as a new started_at_ms).
        self._records: dict[str, Member] = {}
        # Called when a peer's authentication state changes (the rooms layer rebuilds its ring).
        self.on_auth_change: Callable[[], None] | None = None
        # A peer not heard from for this long is silent: left out of the ring until it is heard again (0: off).
        self.silence_limit_s = 0.0
        self._heard: dict[str, float] = {}
        self._peer_minor: dict[str, int] = {}
        self._silent: set[str] = set()
        # Peers that announced a graceful stop: the end of their streams is a leave, not a loss.
        self._leaving: set[str] = set()

    # -- transport hooks ---------------------------------------------------------------------------------

    def link(self, peer: str) -> Link:
        raise NotImplementedError

    def drop_link(self, peer: str) -> None:
        """The peer left the membership: close its outbound link."""

    def link_connected(self, peer: str) -> bool:
        return False

    async def flush_links(self, timeout: float) -> None:
        """Wait (at most `timeout`) until what was queued for connected peers has been written."""

    # -- membership ----------------------------------------------------------------------------------------

    @property
    def peers(self) -> list[str]:
        return sorted(self._members)

    def member(self, peer: str) -> Member | None:
        """The discovery record of a current (or still draining) peer."""
        return self._members.get(peer) or self._departing.get(peer)

    def members(self) -> list[Member]:
        return list(self._members.values())

    def set_members(self, members: Sequence[Member]) -> None:
        """Peers to talk to; this instance is skipped. Links to peers that left are closed."""
        new = {m.instance_id: m for m in members if m.instance_id != self.instance_id}
        gone = set(self._members) - set(new)
        old = self._members
        self._members = new
        now = time.monotonic()
        for peer, record in new.items():
            self._departing.pop(peer, None)
            seen = self._records.get(peer)
            if peer not in old or (seen is not None and seen.started_at_ms != record.started_at_ms):
                self._heard[peer] = now  # a member (or a new process) gets the silence limit to be heard
            if seen is not None and record.started_at_ms and seen.started_at_ms != record.started_at_ms:
                # A new process under this id: dialled at once, not after the old link's reconnect backoff (it is
                # not ready until it has authenticated with us). Its membership stands meanwhile -- every ring
                # takes it back at the same moment, as discovery says -- and a refusal of the new dial (another
                # secret or release) takes it out within milliseconds.
                self.drop_link(peer)
            self._records[peer] = record
        for peer in gone:
            log.info("mesh: instance %r left discovery%s", peer,
                     " (draining: its stream stays open until it closes)" if self.link_connected(peer) else "")
            # Authentication outlives a discovery blip (a lease that expired during an etcd outage): the peer's
            # stream may never be opened again to prove it anew. A restarted peer is checked on its new stream.
            # Callers waiting on a departed peer retry elsewhere (the ring no longer names it).
            self._fail_pending(peer, MeshError(f"peer {peer} left the cluster"))
            if self.link_connected(peer):
                # A peer that leaves gracefully is still draining: keep its stream (its viewers still get
                # events) until the stream closes or the grace period ends.
                self._departing[peer] = old[peer]
                loop = asyncio.get_running_loop()
                loop.call_later(DEPARTING_GRACE_S, self._forget_departed, peer)
                continue
            self.drop_link(peer)

    def _forget_departed(self, peer: str) -> None:
        if self._departing.pop(peer, None) is not None and peer not in self._members:
            self.drop_link(peer)
            self._fail_pending(peer, MeshError(f"peer {peer} left the cluster"))

    # -- mutual authentication -----------------------------------------------------------------------------

    def authenticated(self, peer: str) -> bool:
        """`peer` and this instance accepted each other's credentials and protocol."""
        auth = self._auth.get(peer)
        return auth is not None and auth.ok

    def auth_failure(self, peer: str) -> str:
        """Why `peer` failed mesh authentication ("" when it did not, or not yet)."""
        auth = self._auth.get(peer)
        return auth.failure if auth is not None else ""

    def auth_pending(self, peer: str) -> bool:
        return not self.authenticated(peer) and not self.auth_failure(peer)

    def note_authenticated(self, peer: str, *, outbound: bool) -> None:
        """One direction of the handshake with `peer` succeeded (outbound: it accepted us)."""
        auth = self._auth.setdefault(peer, PeerAuth())
        before = (auth.ok, auth.failure)
        if outbound:
            auth.outbound = True
            auth.failure = ""  # it accepts us now (restarted with the right secret or release)
        else:
            auth.inbound = True
        if auth.ok and before[0] is False and before[1]:
            log.warning("mesh: %s authenticated again; it rejoins the ring", peer)
        self._auth_changed(before, auth)

    def note_auth_failed(self, peer: str, reason: str) -> None:
        """`peer` refused our credentials or protocol, or we refused its hello: it is left out of the ring."""
        auth = self._auth.setdefault(peer, PeerAuth())
        before = (auth.ok, auth.failure)
        if auth.failure != reason:
            self.stats.auth_failures[peer] += 1
            log.error("mesh: instance %r failed mesh authentication: %s; it is left out of this instance's "
                      "ring (check that every instance has the same cluster.secret and release)", peer, reason)
        auth.failure = reason
        auth.outbound = False
        self._auth_changed(before, auth)

    def _auth_changed(self, before: tuple[bool, str], auth: PeerAuth) -> None:
        if (auth.ok, auth.failure) != before and self.on_auth_change is not None:
            self.on_auth_change()

    # -- liveness ------------------------------------------------------------------------------------------

    def heard(self, peer: str) -> None:
        self._heard[peer] = time.monotonic()

    def peer_minor(self, peer: str) -> int:
        """The protocol minor of `peer`'s last accepted hello (0: none yet)."""
        return self._peer_minor.get(peer, 0)

    def silent(self, peer: str) -> bool:
        """An authenticated peer that has gone quiet (a cut link, a stuck process): not a member meanwhile."""
        return peer in self._silent

    def check_silence(self) -> None:
        """Recompute the silent peers; the rooms layer rebuilds its ring when the set changes."""
        if self.silence_limit_s <= 0:
            return
        now = time.monotonic()
        silent = {p for p in self._members if self._peer_minor.get(p, 0) >= HEARTBEAT_MINOR
                  and now - self._heard.get(p, now) > self.silence_limit_s}
        if silent == self._silent:
            return
        for peer in sorted(silent - self._silent):
            self.stats.silences[peer] += 1
            quiet_s = now - self._heard.get(peer, now)
            if self._peer_alive.get(peer) is False:
                # Its stream was lost already (logged then): most likely down, its discovery record not yet gone.
                log.warning("mesh: instance %r is still down or unreachable after %.1f s; it is left out of this "
                            "instance's ring until it is heard again", peer, quiet_s)
            else:
                log.error("mesh: nothing heard from %s for %.1f s though its stream is open; it is left out of this "
                          "instance's ring until it is heard again", peer, quiet_s)
            # Callers waiting on it retry at the room's next owner (same op id: never applied twice).
            self._fail_pending(peer, MeshError(f"peer {peer} went silent"))
        for peer in sorted(self._silent - silent):
            log.warning("mesh: %s is heard again; it rejoins the ring", peer)
        self._silent = silent
        if self.on_auth_change is not None:
            self.on_auth_change()

    async def watch_silence(self) -> None:
        while not self._closing:
            self.check_silence()
            await asyncio.sleep(HEARTBEAT_S / 2)

    # -- hello and versions --------------------------------------------------------------------------------

    def hello(self, grpc_address: str = "") -> pb.Hello:
        return pb.Hello(instance_id=self.instance_id, started_at_ms=self.started_at_ms, grpc_address=grpc_address,
                        protocol_major=PROTOCOL_MAJOR, protocol_minor=PROTOCOL_MINOR)

    def version_refusal(self, peer: str, hello: pb.Hello) -> str:
        """Why a peer's hello cannot be accepted ("" = it can); counted and logged once per refusal."""
        if hello.protocol_major == PROTOCOL_MAJOR:
            self._peer_minor[peer] = hello.protocol_minor
            return ""
        self.stats.protocol_mismatches += 1
        reason = (f"mesh protocol {hello.protocol_major}.{hello.protocol_minor} of {peer!r} is incompatible with "
                  f"this instance's {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}")
        log.error("%s: refusing its stream; run one release on every instance, or upgrade through a release "
                  "that speaks both", reason)
        return reason

    # -- sending -----------------------------------------------------------------------------------------

    def _send(self, peer: str, envelope: pb.Envelope) -> None:
        if peer == self.instance_id:
            raise MeshError("cannot send to self")
        if self._closing:
            raise MeshError("mesh is stopping")
        self.stats.sent[(peer, kind_of(envelope))] += 1
        self.link(peer).enqueue(envelope)

    async def command(self, peer: str, command: pb.Command, timeout: float) -> pb.Reply:
        """Send a room command to `peer` and wait for its reply (whatever its code).

        Raises MeshError when the stream was lost or the mesh is stopping (the caller may retry with the same
        op id), TimeoutError on timeout.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[pb.Reply] = loop.create_future()
        key = (peer, command.op_id)
        self._pending_commands.setdefault(key, []).append(fut)
        started = time.perf_counter()
        try:
            self._send(peer, pb.Envelope(command=command))
            reply = await asyncio.wait_for(fut, timeout)
        finally:
            waiters = self._pending_commands.get(key)
            if waiters is not None:
                if fut in waiters:
                    waiters.remove(fut)
                if not waiters:
                    del self._pending_commands[key]
        self.stats.record_rtt(peer, time.perf_counter() - started)
        return reply

    async def query(self, peer: str, query: pb.Query, timeout: float) -> pb.QueryReply:
        """Ask `peer` an instance query and wait for its answer (whatever its code)."""
        query.query_id = uuid.uuid4().hex
        fut: asyncio.Future[pb.QueryReply] = asyncio.get_running_loop().create_future()
        self._pending_queries[query.query_id] = (peer, fut)
        try:
            self._send(peer, pb.Envelope(query=query))
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pending_queries.pop(query.query_id, None)

    def send_events(self, peer: str, batch: pb.EventBatch) -> None:
        """Queue a room's events for `peer`; never blocks."""
        if not batch.events:
            return
        self.stats.events_sent[peer] += len(batch.events)
        self._send(peer, pb.Envelope(events=batch))

    def subscribe(self, peer: str, room_id: str, on: bool) -> None:
        self._send(peer, pb.Envelope(subscribe=pb.Subscribe(room_id=room_id, on=on)))

    def send_live_data(self, peer: str, data: pb.LiveData) -> None:
        self._send(peer, pb.Envelope(live_data=data))

    def live_subscribe(self, peer: str, sub: pb.LiveSubscribe) -> None:
        self._send(peer, pb.Envelope(live_subscribe=sub))

    def broadcast_control(self, control: pb.Control) -> None:
        for peer in self.peers:
            self.send_control(peer, control)

    def send_control(self, peer: str, control: pb.Control) -> None:
        self._send(peer, pb.Envelope(control=control))

    # -- receiving -----------------------------------------------------------------------------------------

    async def dispatch_frame(self, peer: str, frame: pb.Frame) -> None:
        self._heard[peer] = time.monotonic()  # an empty frame is a heartbeat: heard, nothing to do
        for env in frame.envelopes:
            await self.dispatch(peer, env)

    async def dispatch(self, peer: str, env: pb.Envelope) -> None:
        """Handle one envelope from `peer`. Called in stream order; returns when ordered work is done."""
        kind = kind_of(env)
        self.stats.received[(peer, kind)] += 1
        try:
            if kind == "events":
                await self.handler.handle_events(peer, env.events)
            elif kind == "subscribe":
                await self.handler.handle_subscribe(peer, env.subscribe.room_id, env.subscribe.on)
            elif kind == "control":
                await self.handler.handle_control(peer, env.control)
            elif kind == "live_data":
                await self.handler.handle_live_data(peer, env.live_data)
            elif kind == "live_subscribe":
                await self.handler.handle_live_subscribe(peer, env.live_subscribe)
            elif kind == "command":
                # Commands run concurrently (rooms are independent); tasks start in arrival order, so the
                # rooms layer sees them in order, and its per-room actor keeps them in order.
                if self._inflight.get(peer, 0) >= MAX_INFLIGHT_PER_PEER:
                    self._reply(peer, pb.Envelope(reply=pb.Reply(op_id=env.command.op_id, code=pb.BUSY,
                                                                 error="too many commands in flight, try again")))
                    return
                self._inflight[peer] = self._inflight.get(peer, 0) + 1
                self._spawn(self._run_command(peer, env.command))
            elif kind == "query":
                self._spawn(self._run_query(peer, env.query))
            elif kind == "leaving":
                if peer not in self._leaving:
                    self._leaving.add(peer)
                    log.info("mesh: instance %r is stopping gracefully", peer)
            elif kind == "reply":
                for fut in self._pending_commands.get((peer, env.reply.op_id), []):
                    if not fut.done():
                        fut.set_result(env.reply)
            elif kind == "query_reply":
                entry = self._pending_queries.get(env.query_reply.query_id)
                if entry is not None and entry[0] == peer and not entry[1].done():
                    entry[1].set_result(env.query_reply)
        except Exception:
            # A failing handler must not tear down the stream that also carries other rooms' traffic.
            log.exception("mesh: handler failed for %s from %s", kind, peer)

    async def _run_command(self, peer: str, cmd: pb.Command) -> None:
        try:
            reply = await self.handler.handle_command(peer, cmd)
        except Exception as exc:
            log.exception("mesh: command handler failed")
            reply = pb.Reply(code=pb.INTERNAL, error=f"internal error: {type(exc).__name__}")
        finally:
            self._inflight[peer] -= 1
        reply.op_id = cmd.op_id
        self._reply(peer, pb.Envelope(reply=reply))

    async def _run_query(self, peer: str, query: pb.Query) -> None:
        try:
            answer = await self.handler.handle_query(peer, query)
        except Exception as exc:
            log.exception("mesh: query handler failed")
            answer = pb.QueryReply(code=pb.INTERNAL, error=f"internal error: {type(exc).__name__}")
        answer.query_id = query.query_id
        self._reply(peer, pb.Envelope(query_reply=answer))

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

    def stream_up(self, peer: str) -> None:
        self.stats.streams_up[peer] += 1
        if self._peer_alive.get(peer) is False:
            self._leaving.discard(peer)  # a new process under the id (or the old one, back after a cut)
            log.info("mesh: instance %r is reachable again", peer)
        self._peer_alive[peer] = True

    def stream_down(self, peer: str, outbound: bool) -> None:
        """A stream to or from `peer` ended. Fire handle_peer_down once per loss."""
        self.stats.streams_down[peer] += 1
        if outbound:
            # Commands written on the lost stream may never be answered: fail them so callers retry.
            self._fail_pending(peer, MeshError(f"stream to {peer} lost"))
            if peer in self._departing:
                self._forget_departed(peer)
        if self._peer_alive.get(peer) and not self._closing:
            self._peer_alive[peer] = False
            if peer in self._members and peer not in self._leaving:
                # Still listed by discovery: it crashed, hangs or the network between us broke. Not an
                # authentication matter; discovery drops it when its record expires.
                log.warning("mesh: instance %r is down or unreachable (its stream was lost); it stays a member "
                            "until its discovery record expires", peer)
            else:
                log.info("mesh: instance %r left the cluster (its stream closed)", peer)
            self._spawn(self._notify_down(peer))

    def stream_superseded(self, peer: str) -> None:
        """One of several inbound streams of a peer ended while another is up (not a loss of the peer)."""
        self.stats.streams_down[peer] += 1

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
        for p, fut2 in list(self._pending_queries.values()):
            if p == peer and not fut2.done():
                fut2.set_exception(exc)

    async def say_leaving(self, timeout: float) -> None:
        """Tell every connected peer that this instance stops gracefully, and give the words `timeout` to leave."""
        peers = [p for p in sorted(set(self._members) | set(self._departing)) if self.link_connected(p)]
        for peer in peers:
            with contextlib.suppress(MeshError):
                self._send(peer, pb.Envelope(leaving=pb.Leaving()))
        if peers:
            await self.flush_links(timeout)

    async def close_core(self) -> None:
        self._closing = True
        for peer in list(self._peer_alive):
            self._fail_pending(peer, MeshError("mesh is stopping"))
        for peer in list(self._members):
            self._fail_pending(peer, MeshError("mesh is stopping"))
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def build_frame(envs: list[pb.Envelope]) -> pb.Frame:
    """One stream write's worth of envelopes; adjacent event batches of the same room are merged."""
    frame = pb.Frame()
    last: pb.Envelope | None = None
    for env in envs:
        if (last is not None and kind_of(env) == "events" and kind_of(last) == "events"
                and last.events.room_id == env.events.room_id):
            last.events.events.extend(env.events.events)
            continue
        last = frame.envelopes.add()
        last.CopyFrom(env)
    return frame
