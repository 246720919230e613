"""Live pull: a `live && proxy` movie with an `rtmp://` or HTTP(S) FLV source is pulled by the server into a
channel, as if it were published here, reconnecting with backoff while the channel has viewers. Same SSRF rules
as the media proxy: HTTP goes through its fetcher; RTMP connects only to an address the policy allows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp.resolver import DefaultResolver

from synctv.live import amf0, flv
from synctv.live.channel import Channel, ChannelClosed, Publisher
from synctv.live.flv import Tag
from synctv.live.rtmp import (
    AUDIO,
    COMMAND_AMF0,
    DATA_AMF0,
    HANDSHAKE_SIZE,
    OUT_CHUNK,
    SET_CHUNK_SIZE,
    VIDEO,
    ProtocolError,
    RtmpSession,
    _metadata_body,
)
from synctv.media.errors import ProxyError, TargetForbidden
from synctv.media.fetcher import Fetcher
from synctv.media.ssrf import GuardedResolver, check_literal

log = logging.getLogger(__name__)

IDLE_S = 30.0
BACKOFF_S = (1.0, 2.0, 4.0, 8.0)
CONNECT_TIMEOUT_S = 10.0


def is_pull_source(base: Mapping[str, Any]) -> bool:
    """Live proxied movies that are not HLS (those go through the HLS proxy instead)."""
    if not (base.get("live") and base.get("proxy")) or base.get("rtmpSource"):
        return False
    url = str(base.get("url", ""))
    scheme = urlsplit(url).scheme.lower()
    if scheme == "rtmp":
        return True
    from synctv.core.movies import infer_type

    return not infer_type(url, str(base.get("type", ""))).lower().startswith("m3u")


def _rtmp_target(url: str) -> tuple[str, int, str, str]:
    parts = urlsplit(url)
    if parts.scheme.lower() != "rtmp" or not parts.hostname:
        raise TargetForbidden("live pull source must be rtmp://HOST/APP/STREAM or an http(s) FLV URL")
    path = parts.path.strip("/")
    app, _, stream = path.partition("/")
    if not app or not stream:
        raise TargetForbidden("an rtmp source needs an app and a stream name (rtmp://HOST/APP/STREAM)")
    if parts.query:
        stream += "?" + parts.query
    return parts.hostname, parts.port or 1935, app, stream


async def check_rtmp_target(fetcher: Fetcher, url: str) -> list[str]:
    """The addresses an rtmp:// source may be reached at (TargetForbidden when the policy allows none)."""
    host, port, _, _ = _rtmp_target(url)
    policy = fetcher.policy()
    check_literal(policy, host)
    resolver = DefaultResolver()
    try:
        infos = await GuardedResolver(resolver, policy).resolve(host, port)
    except OSError as exc:
        raise TargetForbidden(f"cannot resolve live source host {host}: {exc.strerror or exc}") from None
    finally:
        await resolver.close()
    return [str(i["host"]) for i in infos]


class _PullTarget:
    """Collects what a pulled RTMP session plays (the client side reuses the server session's chunk reader)."""

    async def publish(self, app: str, stream: str, session: RtmpSession) -> Any:
        raise ProtocolError("not a server")

    async def play(self, app: str, stream: str) -> Any:
        raise ProtocolError("not a server")


async def _rtmp_tags(url: str, fetcher: Fetcher, channel: Channel) -> None:
    host, port, app, stream = _rtmp_target(url)
    addresses = await check_rtmp_target(fetcher, url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(addresses[0], port), CONNECT_TIMEOUT_S)
    session = RtmpSession(reader, writer, _PullTarget())
    try:
        c1 = struct.pack(">I", 0) + b"\x00" * 4 + os.urandom(HANDSHAKE_SIZE - 8)
        writer.write(b"\x03" + c1)
        s0s1 = await asyncio.wait_for(reader.readexactly(1 + HANDSHAKE_SIZE), CONNECT_TIMEOUT_S)
        await reader.readexactly(HANDSHAKE_SIZE)  # S2
        writer.write(s0s1[1:])  # C2
        session._write(2, SET_CHUNK_SIZE, 0, 0, struct.pack(">I", OUT_CHUNK))
        session._command(0, "connect", 1.0, {"app": app, "tcUrl": f"rtmp://{host}:{port}/{app}",
                                             "flashVer": "LNX 9,0,124,2", "fpad": False, "capabilities": 15.0,
                                             "audioCodecs": 3191.0, "videoCodecs": 252.0, "videoFunction": 1.0})
        session._command(0, "createStream", 2.0, None)
        await writer.drain()
        playing = False
        while True:
            msg = await asyncio.wait_for(session._read_message(), 30.0)
            if msg.type_id in (AUDIO, VIDEO):
                channel.push(Tag(flv.AUDIO if msg.type_id == AUDIO else flv.VIDEO, msg.timestamp, msg.body))
            elif msg.type_id == DATA_AMF0:
                channel.push(Tag(flv.DATA, msg.timestamp, _metadata_body(msg.body)))
            elif msg.type_id == COMMAND_AMF0:
                values = amf0.decode_all(msg.body)
                name = values[0] if values else ""
                info = values[3] if len(values) > 3 and isinstance(values[3], dict) else {}
                if name == "_result" and len(values) > 3 and values[1] == 2.0 and not playing:
                    stream_id = int(values[3]) if isinstance(values[3], float) else 1
                    session._write(8, COMMAND_AMF0, stream_id, 0, amf0.encode_all("play", 0.0, None, stream))
                    await writer.drain()
                    playing = True
                elif name in ("_error", "onStatus") and info.get("level") == "error":
                    raise ProtocolError(f"rtmp source refused: {info.get('code')} {info.get('description', '')}")
            else:
                await session._handle(msg)
                await writer.drain()
    finally:
        writer.close()


async def _http_flv_tags(url: str, headers: Mapping[str, str], fetcher: Fetcher, channel: Channel) -> None:
    reader = flv.TagReader()
    async with fetcher.open(url, headers=headers) as resp:
        async for chunk in resp.content.iter_any():
            for tag in reader.feed(chunk):
                channel.push(tag)


class Puller:
    def __init__(self, channel: Channel, url: str, headers: Mapping[str, str], fetcher: Fetcher,
                 on_live: Any = None) -> None:
        self.channel, self.url, self.headers, self.fetcher = channel, url, dict(headers), fetcher
        self.on_live = on_live  # (channel, on) -> None: the cluster's directory
        self.task: asyncio.Task[None] | None = None
        self.publisher: Publisher | None = None
        self.attempts = 0
        self.last_error = ""

    def start(self) -> bool:
        """Attach to the channel at once (it is live from now on, so relays to other instances can start
        before the source answers) and pull in the background; False if the channel is closed."""
        self.publisher = Publisher("pull", self.url, self._cut)
        try:
            self.channel.attach(self.publisher)
        except ChannelClosed:
            return False
        if self.on_live is not None:
            self.on_live(self.channel, True)
        self.task = asyncio.get_running_loop().create_task(self._run())
        self.task.add_done_callback(self._stopped)  # also when cancelled before it ran
        return True

    def _stopped(self, _task: asyncio.Task[None]) -> None:
        ch, publisher = self.channel, self.publisher
        if publisher is None or ch.publisher is not publisher:
            return
        ch.detach(publisher)
        if self.on_live is not None:
            self.on_live(ch, False)
        log.info("live pull stopped", extra={"room_id": ch.room_id, "movie_id": ch.movie_id})

    def _cut(self, reason: str) -> None:
        if self.task is not None:
            self.task.cancel()

    def _idle(self) -> bool:
        ch = self.channel
        return not ch.viewers and not ch.tag_listeners and time.monotonic() - ch.last_hls_access > IDLE_S

    async def _run(self) -> None:
        ch = self.channel
        log.info("live pull started", extra={"room_id": ch.room_id, "movie_id": ch.movie_id})
        ch.last_hls_access = time.monotonic()
        try:
            while not ch.closed and not self._idle():
                self.attempts += 1
                try:
                    source = (_rtmp_tags(self.url, self.fetcher, ch) if self.url.lower().startswith("rtmp:")
                              else _http_flv_tags(self.url, self.headers, self.fetcher, ch))
                    await self._until_idle(source)
                    self.last_error = "source ended"
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError, ProxyError,
                        amf0.AmfError, ValueError) as exc:
                    self.last_error = str(exc) or type(exc).__name__
                    log.info("live pull failed", extra={"movie_id": ch.movie_id, "reason": self.last_error})
                ch.segmenter.restart()
                ch.relay_session_start()  # the next connection is a new session on the same timeline
                await asyncio.sleep(BACKOFF_S[min(max(self.attempts - 1, 0), len(BACKOFF_S) - 1)])
        except asyncio.CancelledError:
            pass  # the done callback detaches

    async def _until_idle(self, source: Any) -> None:
        task = asyncio.ensure_future(source)
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=5.0)
                if not task.done() and self._idle():
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.attempts = 0
        finally:
            if not task.done():
                task.cancel()
