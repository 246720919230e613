"""An RTMP server session over asyncio streams: handshake, chunk stream, AMF0 commands, publish and play.

Reading is pull-based: a message is read only once the previous one has been handed to the channel, so a
publisher faster than the server is slowed down by TCP rather than buffered here. Sizes a peer announces
(chunk size, message length) are bounded before anything is allocated.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from synctv.live import amf0, flv
from synctv.live.flv import Tag

log = logging.getLogger(__name__)

HANDSHAKE_SIZE = 1536
MAX_MESSAGE = 8 * 1024 * 1024
MAX_CHUNK_STREAMS = 64
OUT_CHUNK = 4096
WINDOW = 2_500_000
HANDSHAKE_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 30.0

SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK, PEER_BW = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0 = 8, 9, 15, 17, 18, 20


class RtmpRefused(Exception):
    """Ends the session with an `onStatus` error (code, description) sent to the client."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class ProtocolError(Exception):
    pass


class PublishTarget(Protocol):
    """What a publish resolves to: tags in, and `end` once the publisher leaves."""

    def push(self, tag: Tag) -> None: ...

    def end(self) -> None: ...


class PlaySource(Protocol):
    async def next(self) -> Tag | None: ...

    def end(self) -> None: ...


class Authorizer(Protocol):
    async def publish(self, app: str, stream: str, session: RtmpSession) -> PublishTarget: ...

    async def play(self, app: str, stream: str) -> PlaySource: ...


@dataclass
class _ChunkState:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    buf: bytearray | None = None


@dataclass(frozen=True, slots=True)
class Message:
    type_id: int
    stream_id: int
    timestamp: int
    body: bytes


class RtmpSession:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, auth: Authorizer,
                 *, on_bytes: Callable[[int], None] | None = None) -> None:
        self.reader = reader
        self.writer = writer
        self.auth = auth
        self.remote = str(writer.get_extra_info("peername") or "")
        self.app = ""
        self._in_chunk = 128
        self._chunks: dict[int, _ChunkState] = {}
        self._received = 0
        self._acked = 0
        self._peer_window = 0
        self._target: PublishTarget | None = None
        self._play_task: asyncio.Task[None] | None = None
        self._closing = False
        self._on_bytes = on_bytes

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def run(self, first: bytes = b"") -> None:
        try:
            await asyncio.wait_for(self._handshake(first), HANDSHAKE_TIMEOUT_S)
            while not self._closing:
                # A player may send nothing for long; a publisher that goes quiet is gone.
                timeout = None if self._play_task is not None else IDLE_TIMEOUT_S
                msg = await asyncio.wait_for(self._read_message(), timeout)
                await self._handle(msg)
        except RtmpRefused as exc:
            log.info("rtmp refused", extra={"remote": self.remote, "app": self.app, "code": exc.code,
                                            "reason": exc.description})
            await self._send_status("error", exc.code, exc.description)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, ProtocolError, amf0.AmfError) as exc:
            if not self._closing:
                log.debug("rtmp session ended", extra={"remote": self.remote, "reason": repr(exc)})
        finally:
            self._end_publish()
            if self._play_task is not None:
                self._play_task.cancel()
            self.writer.close()

    def cut(self, reason: str) -> None:
        """Close from the server's side (rotation, channel closed, instance draining)."""
        if self._closing:
            return
        self._closing = True
        log.info("rtmp publisher cut", extra={"remote": self.remote, "app": self.app, "reason": reason})
        with_status = self._status_message("error", "NetStream.Publish.Stop" if self._target else
                                           "NetConnection.Connect.Closed", reason)
        try:
            self.writer.write(with_status)
        except (ConnectionError, RuntimeError):
            pass
        self.writer.close()

    def _end_publish(self) -> None:
        if self._target is not None:
            target, self._target = self._target, None
            target.end()

    # -- handshake -----------------------------------------------------------------------------------------

    async def _handshake(self, first: bytes) -> None:
        c0 = first[:1] or await self.reader.readexactly(1)
        if c0[0] != 3:
            raise ProtocolError(f"unsupported RTMP version {c0[0]}")
        rest = first[1:]
        c1 = rest + await self.reader.readexactly(HANDSHAKE_SIZE - len(rest)) if len(rest) < HANDSHAKE_SIZE \
            else rest[:HANDSHAKE_SIZE]
        s1 = struct.pack(">I", int(time.monotonic() * 1000) & 0xFFFFFFFF) + b"\x00" * 4 + \
            os.urandom(HANDSHAKE_SIZE - 8)
        self.writer.write(b"\x03" + s1 + c1)
        await self.writer.drain()
        await self.reader.readexactly(HANDSHAKE_SIZE)  # C2: an echo of S1, not checked (simple handshake)

    # -- reading -------------------------------------------------------------------------------------------

    async def _read(self, n: int) -> bytes:
        data = await self.reader.readexactly(n)
        self._received += n
        if self._on_bytes is not None:
            self._on_bytes(n)
        if self._peer_window and self._received - self._acked >= self._peer_window:
            self._acked = self._received
            self._write(2, ACK, 0, 0, struct.pack(">I", self._received & 0xFFFFFFFF))
        return data

    async def _read_message(self) -> Message:
        while True:
            b0 = (await self._read(1))[0]
            fmt, csid = b0 >> 6, b0 & 0x3F
            if csid == 0:
                csid = 64 + (await self._read(1))[0]
            elif csid == 1:
                b = await self._read(2)
                csid = 64 + b[0] + b[1] * 256
            state = self._chunks.get(csid)
            if state is None:
                if len(self._chunks) >= MAX_CHUNK_STREAMS:
                    raise ProtocolError("too many chunk streams")
                if fmt != 0:
                    raise ProtocolError("first chunk of a chunk stream without a full header")
                state = self._chunks[csid] = _ChunkState()
            new_message = state.buf is None
            if fmt <= 2:
                h = await self._read(11 if fmt == 0 else 7 if fmt == 1 else 3)
                ts = int.from_bytes(h[0:3], "big")
                if fmt <= 1:
                    state.length = int.from_bytes(h[3:6], "big")
                    state.type_id = h[6]
                    if state.length > MAX_MESSAGE:
                        raise ProtocolError("message too large")
                if fmt == 0:
                    state.stream_id = int.from_bytes(h[7:11], "little")
                state.extended = ts == 0xFFFFFF
                if state.extended:
                    ts = int.from_bytes(await self._read(4), "big")
                if fmt == 0:
                    state.timestamp, state.delta = ts, 0
                else:
                    state.delta = ts
                    state.timestamp = (state.timestamp + ts) & 0xFFFFFFFF
            else:
                if state.extended:
                    await self._read(4)
                if new_message:
                    state.timestamp = (state.timestamp + state.delta) & 0xFFFFFFFF
            if new_message:
                state.buf = bytearray()
            assert state.buf is not None
            want = min(self._in_chunk, state.length - len(state.buf))
            if want:
                state.buf += await self._read(want)
            if len(state.buf) >= state.length:
                body, state.buf = bytes(state.buf), None
                return Message(state.type_id, state.stream_id, state.timestamp, body)

    # -- writing -------------------------------------------------------------------------------------------

    def _chunked(self, csid: int, type_id: int, stream_id: int, timestamp: int, body: bytes) -> bytes:
        ts = timestamp & 0xFFFFFFFF
        ext = ts >= 0xFFFFFF
        header = bytes([csid & 0x3F]) + (0xFFFFFF if ext else ts).to_bytes(3, "big") + \
            len(body).to_bytes(3, "big") + bytes([type_id]) + stream_id.to_bytes(4, "little")
        ext_bytes = ts.to_bytes(4, "big") if ext else b""
        out = bytearray(header + ext_bytes)
        out += body[:OUT_CHUNK]
        for pos in range(OUT_CHUNK, len(body), OUT_CHUNK):
            out += bytes([0xC0 | (csid & 0x3F)]) + ext_bytes + body[pos:pos + OUT_CHUNK]
        return bytes(out)

    def _write(self, csid: int, type_id: int, stream_id: int, timestamp: int, body: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(self._chunked(csid, type_id, stream_id, timestamp, body))

    def _command(self, stream_id: int, *values: Any) -> None:
        self._write(3 if stream_id == 0 else 5, COMMAND_AMF0, stream_id, 0, amf0.encode_all(*values))

    def _status_message(self, level: str, code: str, description: str) -> bytes:
        return self._chunked(5, COMMAND_AMF0, 1, 0, amf0.encode_all(
            "onStatus", 0, None, {"level": level, "code": code, "description": description}))

    async def _send_status(self, level: str, code: str, description: str) -> None:
        try:
            self.writer.write(self._status_message(level, code, description))
            await asyncio.wait_for(self.writer.drain(), 2.0)
        except (ConnectionError, TimeoutError, RuntimeError):
            pass

    # -- messages ------------------------------------------------------------------------------------------

    async def _handle(self, msg: Message) -> None:
        t = msg.type_id
        if t == SET_CHUNK_SIZE:
            if len(msg.body) < 4:
                raise ProtocolError("short set chunk size")
            size = int.from_bytes(msg.body[:4], "big") & 0x7FFFFFFF
            if size < 1:
                raise ProtocolError("bad chunk size")
            self._in_chunk = min(size, MAX_MESSAGE)
        elif t == ABORT:
            if len(msg.body) >= 4:
                state = self._chunks.get(int.from_bytes(msg.body[:4], "big"))
                if state is not None:
                    state.buf = None
        elif t == WINDOW_ACK:
            if len(msg.body) >= 4:
                self._peer_window = int.from_bytes(msg.body[:4], "big")
        elif t in (AUDIO, VIDEO):
            if self._target is None:
                return  # media before publish: ignored, as other servers do
            self._target.push(Tag(flv.AUDIO if t == AUDIO else flv.VIDEO, msg.timestamp, msg.body))
        elif t in (DATA_AMF0, DATA_AMF3):
            body = msg.body[1:] if t == DATA_AMF3 else msg.body
            if self._target is not None:
                self._target.push(Tag(flv.DATA, msg.timestamp, _metadata_body(body)))
        elif t in (COMMAND_AMF0, COMMAND_AMF3):
            body = msg.body[1:] if t == COMMAND_AMF3 else msg.body
            await self._command_in(msg.stream_id, amf0.decode_all(body))

    async def _command_in(self, stream_id: int, values: list[Any]) -> None:
        if not values or not isinstance(values[0], str):
            raise ProtocolError("command without a name")
        name = values[0]
        txn = values[1] if len(values) > 1 and isinstance(values[1], float) else 0.0
        args = values[3:]
        if name == "connect":
            obj = values[2] if len(values) > 2 and isinstance(values[2], dict) else {}
            self.app = str(obj.get("app", "")).strip("/").split("?", 1)[0]
            self._write(2, WINDOW_ACK, 0, 0, struct.pack(">I", WINDOW))
            self._write(2, PEER_BW, 0, 0, struct.pack(">IB", WINDOW, 2))
            self._write(2, SET_CHUNK_SIZE, 0, 0, struct.pack(">I", OUT_CHUNK))
            self._command(0, "_result", txn, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
                          {"level": "status", "code": "NetConnection.Connect.Success",
                           "description": "Connection succeeded.", "objectEncoding": 0.0})
        elif name == "createStream":
            self._command(0, "_result", txn, None, 1.0)
        elif name in ("releaseStream", "FCPublish", "FCUnpublish", "getStreamLength"):
            if txn:
                self._command(0, "_result", txn, None, amf0.UNDEF)
            if name == "FCUnpublish":
                self._end_publish()
        elif name == "publish":
            await self._publish(str(args[0]) if args else "")
        elif name == "play":
            await self._play(str(args[0]) if args else "")
        elif name in ("deleteStream", "closeStream"):
            self._end_publish()
            self._closing = True
        await self.writer.drain()

    async def _publish(self, stream: str) -> None:
        if self._target is not None:
            raise RtmpRefused("NetStream.Publish.BadName", "already publishing")
        if not self.app:
            raise RtmpRefused("NetStream.Publish.BadName", "connect first")
        self._target = await self.auth.publish(self.app, stream.split("?", 1)[0], self)
        self._write(5, COMMAND_AMF0, 1, 0, amf0.encode_all(
            "onStatus", 0, None, {"level": "status", "code": "NetStream.Publish.Start",
                                  "description": "Start publishing"}))

    async def _play(self, stream: str) -> None:
        source = await self.auth.play(self.app, stream.split("?", 1)[0])
        self._write(2, USER_CONTROL, 0, 0, struct.pack(">HI", 0, 1))  # StreamBegin
        self._write(5, COMMAND_AMF0, 1, 0, amf0.encode_all(
            "onStatus", 0, None, {"level": "status", "code": "NetStream.Play.Start", "description": "Start"}))
        self._play_task = asyncio.create_task(self._play_loop(source))

    async def _play_loop(self, source: PlaySource) -> None:
        try:
            while True:
                tag = await source.next()
                if tag is None:
                    break
                type_id = {flv.AUDIO: AUDIO, flv.VIDEO: VIDEO}.get(tag.kind, DATA_AMF0)
                self._write(4 if tag.kind == flv.AUDIO else 6, type_id, 1, tag.timestamp, tag.body)
                await self.writer.drain()
        except (ConnectionError, RuntimeError):
            pass
        finally:
            source.end()
            self._closing = True
            self.writer.close()


def _metadata_body(body: bytes) -> bytes:
    """`@setDataFrame onMetaData {...}` as sent by publishers becomes the FLV script tag `onMetaData {...}`."""
    try:
        values = amf0.decode_all(body)
    except amf0.AmfError:
        return body
    if values and values[0] == "@setDataFrame":
        return amf0.encode_all(*values[1:])
    return body


async def serve_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, auth: Authorizer,
                       first: bytes = b"", on_bytes: Callable[[int], None] | None = None) -> None:
    await RtmpSession(reader, writer, auth, on_bytes=on_bytes).run(first)


ServeFn = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
