"""Live channels across the cluster.

A channel is hosted where its publisher is connected or, for a pulled source (`live && proxy`), where the
room's owner chose to pull it (the owner itself, when an instance with viewers asks and nobody hosts it). The
host announces it to the room's owner, which keeps the directory (entries expire unless re-announced, so they
survive an owner change). Any other instance that has viewers asks the owner where the channel is and relays
it from the host over the mesh: one relay per instance and channel, whatever its number of viewers. The host
cuts the HLS segments once and relays them with their ids, so every instance serves the same playlist.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synctv._generated import mesh_pb2 as pb
from synctv.live.channel import Channel
from synctv.live.flv import Tag
from synctv.live.hls import Segment
from synctv.mesh import MeshError

if TYPE_CHECKING:
    from synctv.live.service import LiveService
    from synctv.rooms.router import RoomRouter

log = logging.getLogger(__name__)

ANNOUNCE_EVERY_S = 5.0
DIRECTORY_TTL_S = 15.0
WHERE_CACHE_S = 2.0
RELAY_IDLE_S = 30.0
QUERY_TIMEOUT_S = 2.0


@dataclass
class _Hosted:
    room_id: str
    host: str
    expires: float


@dataclass
class _Relay:
    host: str
    last_used: float
    last_seq: int = -1
    seq_offset: int = 0
    restarted: bool = False


@dataclass
class _Outbound:
    """A channel hosted here, relayed to one peer."""

    on_tag: Callable[[Tag], None]
    on_segment: Callable[[Segment], None]


def _tag_pb(tag: Tag) -> pb.LiveTag:
    return pb.LiveTag(kind=tag.kind, timestamp_ms=tag.timestamp, body=tag.body)


def _segment_pb(seg: Segment) -> pb.LiveSegment:
    return pb.LiveSegment(id=seg.id, seq=seg.seq, duration_s=seg.duration, data=seg.data,
                          discontinuity=seg.discontinuity)


class LiveCluster:
    def __init__(self, live: LiveService, router: RoomRouter) -> None:
        self.live = live
        self.router = router
        self.me = router.instance_id
        self.directory: dict[str, _Hosted] = {}  # on room owners: movie id -> host
        self.outbound: dict[str, dict[str, _Outbound]] = {}  # hosted here: movie id -> peer -> relay
        self.relays: dict[str, _Relay] = {}  # relayed here: movie id -> from which host
        self._where: dict[str, tuple[float, str]] = {}
        self.pulled: set[str] = set()  # movie ids of pulled sources viewers here asked for
        self._task: asyncio.Task[None] | None = None
        self.relay_streams_out = 0
        self.relay_streams_in = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._maintain())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- host side -----------------------------------------------------------------------------------------

    def publishing_changed(self, channel: Channel, on: bool) -> None:
        asyncio.get_running_loop().create_task(self._announce(channel.room_id, channel.movie_id, on))

    async def _announce(self, room_id: str, movie_id: str, on: bool) -> None:
        owner = self.router.owner(room_id)
        host = pb.LiveHost(room_id=room_id, movie_id=movie_id, host=self.me, on=on)
        if owner == self.me:
            self._record(host)
            return
        mesh = self.router.mesh
        if mesh is None:
            return
        with contextlib.suppress(MeshError, TimeoutError):
            await mesh.query(owner, pb.Query(live_host=host), QUERY_TIMEOUT_S)

    def _record(self, host: pb.LiveHost) -> None:
        current = self.directory.get(host.movie_id)
        if host.on:
            self.directory[host.movie_id] = _Hosted(host.room_id, host.host, time.monotonic() + DIRECTORY_TTL_S)
        elif current is not None and current.host == host.host:
            del self.directory[host.movie_id]

    def on_subscribe(self, peer: str, sub: pb.LiveSubscribe) -> None:
        mesh = self.router.mesh
        if mesh is None:
            return
        peers = self.outbound.setdefault(sub.movie_id, {})
        channel = self.live.find(sub.room_id, sub.movie_id)
        old = peers.pop(peer, None)
        if old is not None and channel is not None:
            self._detach(channel, old)
        if not sub.on:
            return
        if channel is None or not channel.live:
            with contextlib.suppress(MeshError):
                mesh.send_live_data(peer, pb.LiveData(room_id=sub.room_id, movie_id=sub.movie_id, closed=True))
            return

        def send(data: pb.LiveData) -> None:
            try:
                mesh.send_live_data(peer, data)
            except MeshError:
                self._drop_outbound(sub.movie_id, peer)

        def on_tag(tag: Tag) -> None:
            send(pb.LiveData(room_id=sub.room_id, movie_id=sub.movie_id, tags=[_tag_pb(tag)]))

        def on_segment(seg: Segment) -> None:
            send(pb.LiveData(room_id=sub.room_id, movie_id=sub.movie_id, segments=[_segment_pb(seg)]))

        send(pb.LiveData(room_id=sub.room_id, movie_id=sub.movie_id, start=True,
                         tags=[_tag_pb(t) for t in channel.start_tags()],
                         segments=[_segment_pb(s) for s in channel.segmenter.segments.values()]))
        out = peers[peer] = _Outbound(on_tag, on_segment)
        channel.tag_listeners.append(out.on_tag)
        channel.segment_listeners.append(out.on_segment)
        self.relay_streams_out += 1
        log.info("live relay out", extra={"movie_id": sub.movie_id, "peer": peer})

    def _detach(self, channel: Channel, out: _Outbound) -> None:
        with contextlib.suppress(ValueError):
            channel.tag_listeners.remove(out.on_tag)
        with contextlib.suppress(ValueError):
            channel.segment_listeners.remove(out.on_segment)
        self.relay_streams_out -= 1

    def _drop_outbound(self, movie_id: str, peer: str) -> None:
        out = self.outbound.get(movie_id, {}).pop(peer, None)
        channel = self.live.channels.get(movie_id)
        if out is not None and channel is not None:
            self._detach(channel, out)

    def channel_closed(self, channel: Channel) -> None:
        """A channel hosted or relayed here closed: tell the relays, forget the relay source."""
        mesh = self.router.mesh
        self.pulled.discard(channel.movie_id)
        for peer in list(self.outbound.pop(channel.movie_id, {})):
            self.relay_streams_out -= 1
            if mesh is not None:
                with contextlib.suppress(MeshError):
                    mesh.send_live_data(peer, pb.LiveData(room_id=channel.room_id, movie_id=channel.movie_id,
                                                          closed=True))
        relay = self.relays.pop(channel.movie_id, None)
        if relay is not None:
            self.relay_streams_in -= 1
            if mesh is not None:
                with contextlib.suppress(MeshError):
                    mesh.live_subscribe(relay.host, pb.LiveSubscribe(room_id=channel.room_id,
                                                                     movie_id=channel.movie_id, on=False))

    # -- edge side -----------------------------------------------------------------------------------------

    async def where(self, room_id: str, movie_id: str, pull: bool = False) -> str | None:
        """The instance hosting the channel ("" when nobody does, as far as the room's owner knows; None when
        the owner cannot be asked). With `pull` (viewers of a pulled source wait here) the owner starts the
        pull itself when nobody hosts the channel, and answers with itself."""
        cached = self._where.get(movie_id)
        now = time.monotonic()
        if cached is not None and cached[0] > now and (cached[1] or not pull):
            return cached[1]
        owner = self.router.owner(room_id)
        host: str | None = ""
        if owner == self.me:
            host = await self._host_of(room_id, movie_id, pull)
        elif self.router.mesh is None:
            host = None
        else:
            try:
                answer = await self.router.mesh.query(
                    owner, pb.Query(live_where=pb.LiveWhere(room_id=room_id, movie_id=movie_id, pull=pull)),
                    QUERY_TIMEOUT_S)
            except (MeshError, TimeoutError):
                host = None
            else:
                if answer.code == pb.OK and answer.WhichOneof("body") == "live_host":
                    host = answer.live_host.host
                elif answer.code != pb.OK:
                    host = None  # live streaming is off there: it can neither know nor choose
        if host is not None:
            self._where[movie_id] = (now + WHERE_CACHE_S, host)
        return host

    async def _host_of(self, room_id: str, movie_id: str, pull: bool) -> str:
        """On the room's owner: the directory's host, or (for a pulled source nobody hosts) this instance once
        its pull is started."""
        entry = self.directory.get(movie_id)
        if entry is not None and entry.room_id == room_id and entry.expires > time.monotonic():
            return entry.host
        if not pull or not await self.live.pull_here(room_id, movie_id):
            return ""
        self._record(pb.LiveHost(room_id=room_id, movie_id=movie_id, host=self.me, on=True))
        return self.me

    async def viewer_channel(self, room_id: str, movie_id: str, pull: bool = False) -> tuple[Channel, bool]:
        """The channel a viewer here reads: the local one, relayed from its host when that is elsewhere; and
        whether the room's owner had its say (False: it could not be asked, so the caller decides alone)."""
        channel = self.live.channel(room_id, movie_id)
        if channel.live and not channel.relay:
            return channel, True
        relay = self.relays.get(movie_id)
        if relay is not None:
            relay.last_used = time.monotonic()
            return channel, True
        if pull:
            self.pulled.add(movie_id)
        host = await self.where(room_id, movie_id, pull)
        if host and host != self.me and movie_id not in self.relays:
            self._subscribe(channel, host)
        return self.live.channel(room_id, movie_id), host is not None

    def _subscribe(self, channel: Channel, host: str) -> None:
        mesh = self.router.mesh
        if mesh is None:
            return
        try:
            mesh.live_subscribe(host, pb.LiveSubscribe(room_id=channel.room_id, movie_id=channel.movie_id, on=True))
        except MeshError:
            return
        previous = self.relays.get(channel.movie_id)
        self.relays[channel.movie_id] = _Relay(host, time.monotonic(),
                                               last_seq=previous.last_seq if previous else -1)
        channel.relay = True
        self.relay_streams_in += 1
        log.info("live relay in", extra={"movie_id": channel.movie_id, "host": host})

    def drop_relay(self, channel: Channel) -> None:
        """A publisher connected here: the channel is hosted here from now on."""
        relay = self.relays.pop(channel.movie_id, None)
        if relay is None:
            return
        self.relay_streams_in -= 1
        channel.relay = False
        if self.router.mesh is not None:
            with contextlib.suppress(MeshError):
                self.router.mesh.live_subscribe(relay.host, pb.LiveSubscribe(
                    room_id=channel.room_id, movie_id=channel.movie_id, on=False))

    def on_data(self, peer: str, data: pb.LiveData) -> None:
        relay = self.relays.get(data.movie_id)
        if relay is None or relay.host != peer:
            return  # not (or no longer) relaying this channel from that peer
        channel = self.live.find(data.room_id, data.movie_id)
        if channel is None:
            return
        if data.closed:
            # The host closed it (or no longer has it): viewers wait, the relay is looked up again.
            self.relays.pop(data.movie_id, None)
            self.relay_streams_in -= 1
            self._where.pop(data.movie_id, None)
            channel.relay_session_end()
            return
        if data.start:
            channel.relay_session_start()
            relay.restarted = relay.last_seq >= 0
            if data.segments and relay.last_seq >= data.segments[0].seq:
                relay.seq_offset = relay.last_seq + 1 - data.segments[0].seq
        for t in data.tags:
            channel.push(Tag(t.kind, t.timestamp_ms, t.body))
        for s in data.segments:
            seq = s.seq + relay.seq_offset
            if seq <= relay.last_seq:
                continue  # already have it
            seg = Segment(s.id, seq, s.duration_s, s.data, s.discontinuity or relay.restarted)
            relay.restarted = False
            relay.last_seq = seq
            channel.add_segment(dataclasses.replace(seg))

    def peer_down(self, peer: str) -> None:
        for movie_id, peers in self.outbound.items():
            if peer in peers:
                self._drop_outbound(movie_id, peer)
        for movie_id, relay in list(self.relays.items()):
            if relay.host == peer:
                self.relays.pop(movie_id)
                self.relay_streams_in -= 1
                self._where.pop(movie_id, None)
                channel = self.live.channels.get(movie_id)
                if channel is not None:
                    channel.relay_session_end()

    # -- queries -------------------------------------------------------------------------------------------

    async def answer(self, peer: str, query: pb.Query) -> pb.QueryReply:
        kind = query.WhichOneof("body")
        if kind == "live_host":
            if query.live_host.host != peer:
                return pb.QueryReply(code=pb.DENIED, error="an instance announces only its own channels")
            self._record(query.live_host)
            return pb.QueryReply(ack=pb.Ack())
        where = query.live_where
        # Only the room's owner chooses a puller (an asker with an older ring gets "nobody" and asks again).
        pull = where.pull and self.router.owner(where.room_id) == self.me
        host = await self._host_of(where.room_id, where.movie_id, pull)
        return pb.QueryReply(live_host=pb.LiveHost(room_id=where.room_id, movie_id=where.movie_id, host=host,
                                                   on=bool(host)))

    # -- upkeep --------------------------------------------------------------------------------------------

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(ANNOUNCE_EVERY_S / 2)
            try:
                await self._tick()
            except Exception:
                log.exception("live cluster upkeep failed")

    async def _tick(self) -> None:
        now = time.monotonic()
        for channel in self.live:
            if channel.live and not channel.relay:
                await self._announce(channel.room_id, channel.movie_id, True)
        for movie_id, entry in list(self.directory.items()):
            if entry.expires < now:
                del self.directory[movie_id]
        for channel in self.live:
            if channel.live and not channel.relay:
                continue
            relay = self.relays.get(channel.movie_id)
            idle = not channel.viewers and now - max(channel.last_hls_access,
                                                     relay.last_used if relay else 0) > RELAY_IDLE_S
            if idle:
                self.live.close_movie(channel.movie_id, "no viewers")
            elif relay is None:
                # Viewers wait here: find the host (the publisher may have reconnected elsewhere; a pulled
                # source's puller may have left, and the owner chooses another).
                host = await self.where(channel.room_id, channel.movie_id, channel.movie_id in self.pulled)
                if host and host != self.me and channel.movie_id not in self.relays:
                    self._subscribe(channel, host)
