"""This instance's channels and the RTMP authorization callback (upstream §1.14's rules plus key rotation)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from synctv.core.permissions import Role, RoomStatus
from synctv.core.validation import is_id
from synctv.live import flv
from synctv.live.channel import Channel, ChannelClosed, Publisher, Viewer
from synctv.live.flv import Tag
from synctv.live.keys import PublishKeyError, PublishKeys
from synctv.live.listener import RtmpHandler
from synctv.live.pull import Puller, is_pull_source
from synctv.live.rtmp import RtmpRefused, RtmpSession, serve_stream

if TYPE_CHECKING:
    from synctv.live.relay import LiveCluster
    from synctv.services import Services

log = logging.getLogger(__name__)

BAD_NAME = "NetStream.Publish.BadName"
UNAUTHORIZED = "NetStream.Publish.Unauthorized"


@dataclass
class LiveCounters:
    publishes: int = 0
    refused: int = 0
    bytes_in: int = 0
    bytes_out_flv: int = 0
    bytes_out_hls: int = 0
    hls_requests: int = 0


class _PublishTarget:
    def __init__(self, service: LiveService, channel: Channel, publisher: Publisher,
                 session: RtmpSession) -> None:
        self.service, self.channel, self.publisher, self.session = service, channel, publisher, session

    def push(self, tag: Tag) -> None:
        try:
            self.channel.push(tag)
        except flv.CodecError as exc:
            raise RtmpRefused(BAD_NAME, str(exc)) from None
        except ValueError as exc:
            raise RtmpRefused(BAD_NAME, f"malformed stream: {exc}") from None
        except ChannelClosed:
            raise RtmpRefused(BAD_NAME, "the channel was closed") from None

    def end(self) -> None:
        self.channel.detach(self.publisher)
        if self.service.cluster is not None:
            self.service.cluster.publishing_changed(self.channel, False)
        log.info("live publish stopped", extra={"room_id": self.channel.room_id, "movie_id": self.channel.movie_id,
                                                "remote": self.publisher.remote})


class _PlaySource:
    def __init__(self, channel: Channel, viewer: Viewer) -> None:
        self.channel, self.viewer = channel, viewer

    async def next(self) -> Tag | None:
        return await self.viewer.next()

    def end(self) -> None:
        self.channel.unsubscribe(self.viewer)


class LiveService:
    def __init__(self, svc: Services, keys: PublishKeys) -> None:
        self.svc = svc
        self.keys = keys
        self.channels: dict[str, Channel] = {}  # by movie id (movie ids are global)
        self.counters = LiveCounters()
        self.flv_viewers = 0
        self.cluster: LiveCluster | None = None
        self.pullers: dict[str, Puller] = {}

    # -- channels ------------------------------------------------------------------------------------------

    def channel(self, room_id: str, movie_id: str) -> Channel:
        ch = self.channels.get(movie_id)
        if ch is None or ch.closed or ch.room_id != room_id:
            ch = self.channels[movie_id] = Channel(room_id, movie_id)
        return ch

    async def viewer_channel(self, room_id: str, movie_id: str, base: dict[str, Any] | None = None) -> Channel:
        """The channel viewers here read (relayed from its host when the cluster has it elsewhere). A pulled
        source (`base` of a live proxied FLV/RTMP movie) is pulled where the room's owner chooses (the owner
        itself); here only without a cluster, or when the owner cannot be asked."""
        pull = base is not None and is_pull_source(base)
        if self.cluster is not None:
            channel, asked = await self.cluster.viewer_channel(room_id, movie_id, pull=pull)
            if asked:
                return channel
        else:
            channel = self.channel(room_id, movie_id)
        if base is not None and pull and not channel.live and not channel.relay:
            self.start_pull(channel, base)
        return channel

    def start_pull(self, channel: Channel, base: dict[str, Any]) -> bool:
        """Pull the movie's source into the channel here, unless a pull of it already runs."""
        running = self.pullers.get(channel.movie_id)
        if running is not None and running.channel is channel and running.task and not running.task.done():
            return True
        from synctv.media.service import media_proxy

        on_live = self.cluster.publishing_changed if self.cluster is not None else None
        puller = self.pullers[channel.movie_id] = Puller(channel, str(base.get("url", "")), base.get("headers") or {},
                                                         media_proxy(self.svc).fetcher, on_live)
        return puller.start()

    async def pull_here(self, room_id: str, movie_id: str) -> bool:
        """The room's owner chose this instance to pull a movie's source: True once the channel is live here
        (False when the movie is not a pulled source any more, or live proxying is off)."""
        channel = self.channel(room_id, movie_id)
        if channel.live and not channel.relay:
            return True
        if not is_id(movie_id) or not self.svc.store.settings.bool("live_proxy"):
            return False
        movie = await self.svc.store.movies.get(room_id, movie_id)
        if movie is None:
            return False
        base: dict[str, Any] = json.loads(movie.base)
        if not is_pull_source(base):
            return False
        if self.cluster is not None:
            self.cluster.drop_relay(channel)
        return self.start_pull(self.channel(room_id, movie_id), base)

    def pulls_running(self) -> int:
        return sum(1 for p in self.pullers.values() if p.task is not None and not p.task.done())

    def find(self, room_id: str, movie_id: str) -> Channel | None:
        ch = self.channels.get(movie_id)
        return ch if ch is not None and ch.room_id == room_id and not ch.closed else None

    def close_movie(self, movie_id: str, reason: str) -> bool:
        ch = self.channels.pop(movie_id, None)
        self.pullers.pop(movie_id, None)
        if ch is None:
            return False
        ch.close(reason)
        if self.cluster is not None:
            self.cluster.channel_closed(ch)
        log.info("live channel closed", extra={"room_id": ch.room_id, "movie_id": movie_id, "reason": reason})
        return True

    def close_room(self, room_id: str, reason: str) -> None:
        for movie_id in [m for m, ch in self.channels.items() if ch.room_id == room_id]:
            self.close_movie(movie_id, reason)

    def cut_publisher(self, movie_id: str, reason: str) -> None:
        ch = self.channels.get(movie_id)
        if ch is not None and ch.publisher is not None:
            ch.publisher.cut(reason)

    def close_all(self, reason: str) -> None:
        for movie_id in list(self.channels):
            self.close_movie(movie_id, reason)

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self.channels.values()))

    # -- RTMP authorization --------------------------------------------------------------------------------

    async def _active_room(self, room_id: str, code: str) -> None:
        if not is_id(room_id):
            raise RtmpRefused(code, "unknown room")
        room = await self.svc.store.rooms.get(room_id)
        if room is None:
            raise RtmpRefused(code, "unknown room")
        if room.status != RoomStatus.ACTIVE:
            raise RtmpRefused(code, "room is banned or pending approval")
        creator = await self.svc.store.users.get(room.creator_id)
        if creator is None or creator.role in (Role.BANNED, Role.PENDING):
            raise RtmpRefused(code, "room is unavailable")

    async def publish(self, app: str, stream: str, session: RtmpSession) -> _PublishTarget:
        try:
            return await self._publish(app, stream, session)
        except RtmpRefused:
            self.counters.refused += 1
            raise

    async def _publish(self, app: str, stream: str, session: RtmpSession) -> _PublishTarget:
        if self.svc.draining:
            raise RtmpRefused(BAD_NAME, "server restarting: publish again")
        await self._active_room(app, UNAUTHORIZED)
        try:
            key = self.keys.parse(stream)
        except PublishKeyError as exc:
            raise RtmpRefused(UNAUTHORIZED, str(exc)) from None
        if key.room_id != app:
            raise RtmpRefused(UNAUTHORIZED, "publish key is for another room")
        movie = await self.svc.store.movies.get(app, key.movie_id)
        if movie is None:
            raise RtmpRefused(BAD_NAME, "unknown movie")
        if not json.loads(movie.base).get("rtmpSource"):
            raise RtmpRefused(BAD_NAME, "movie is not an RTMP source")
        if await self.svc.store.live_keys.current(movie.id) != key.key_id:
            raise RtmpRefused(UNAUTHORIZED, "publish key was replaced by a newer one")
        channel = self.channel(app, movie.id)
        if channel.publisher is not None:
            raise RtmpRefused(BAD_NAME, "the channel already has a publisher")
        publisher = Publisher(key.key_id, session.remote, session.cut)
        if self.cluster is not None:
            self.cluster.drop_relay(channel)
        channel.attach(publisher)
        self.counters.publishes += 1
        if self.cluster is not None:
            self.cluster.publishing_changed(channel, True)
        log.info("live publish started", extra={"room_id": app, "movie_id": movie.id, "remote": session.remote})
        return _PublishTarget(self, channel, publisher, session)

    async def play(self, app: str, stream: str) -> _PlaySource:
        code = "NetStream.Play.Failed"
        if not self.svc.store.settings.bool("rtmp_player"):
            raise RtmpRefused(code, "RTMP playback is disabled on this server")
        await self._active_room(app, code)
        if not is_id(stream):
            raise RtmpRefused("NetStream.Play.StreamNotFound", "unknown movie")
        movie = await self.svc.store.movies.get(app, stream)
        if movie is None or not json.loads(movie.base).get("rtmpSource"):
            raise RtmpRefused("NetStream.Play.StreamNotFound", "unknown movie")
        channel = self.channel(app, movie.id)
        return _PlaySource(channel, channel.subscribe())

    # -- publish keys --------------------------------------------------------------------------------------

    async def issue_key(self, room_id: str, movie_id: str) -> str:
        """A new key for the movie; the previous key stops working and its publisher is cut."""
        token, key = self.keys.mint(room_id, movie_id)
        await self.svc.store.live_keys.replace(movie_id, key.key_id,
                                               datetime.fromtimestamp(key.expires, UTC).replace(tzinfo=None))
        await self.svc.invalidate("live_key", movie_id)
        return token

    def on_key_replaced(self, movie_id: str) -> None:
        self.cut_publisher(movie_id, "publish key replaced")


def live_service(svc: Services) -> LiveService:
    """The instance's live service, made on first use."""
    from synctv.config import parse_duration

    if svc.live is None:
        ttl = parse_duration(svc.cfg.server.rtmp.publish_key_ttl, "server.rtmp.publish_key_ttl")
        svc.live = LiveService(svc, PublishKeys(svc.cfg.jwt.secret, ttl))
        svc.router.on_room_closed = svc.live.close_room  # deleted, banned or set pending: on every instance
    return svc.live


def rtmp_handler(svc: Services) -> RtmpHandler:
    live = live_service(svc)

    def count(n: int) -> None:
        live.counters.bytes_in += n

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes) -> None:
        await serve_stream(reader, writer, live, first, count)

    return handle


def start_live_cluster(svc: Services) -> None:
    """Channels hosted elsewhere are relayed here over the mesh (a cluster member with RTMP on)."""
    from synctv.live.relay import LiveCluster

    live = live_service(svc)
    live.cluster = LiveCluster(live, svc.router)
    svc.router.live = live.cluster
    live.cluster.start()
