"""Workload for chaos tests: viewers that chat and follow STATUS continuously, reconnect when their instance goes
away, and record everything needed to judge loss, disconnections, rewinds and latency afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from synctv._generated import message_pb2 as pb
from tests.support.api_client import Api

T = pb.MessageType


@dataclass
class Interval:
    instance: str
    start: float
    end: float = float("inf")
    close_code: int | None = None
    joined: float | None = None


@dataclass
class Viewer:
    name: str
    token: str
    room: str
    apis: dict[str, Api]
    instance: str
    # What happened, with monotonic times.
    intervals: list[Interval] = field(default_factory=list)
    received_chat: dict[str, float] = field(default_factory=dict)
    sent_chat: dict[str, float] = field(default_factory=dict)
    acked_chat: dict[str, float] = field(default_factory=dict)
    statuses: list[tuple[float, float]] = field(default_factory=list)  # (time, position)
    errors: list[str] = field(default_factory=list)
    ws: Any = None
    _reader: asyncio.Task[None] | None = None
    stopping: bool = False

    async def connect(self, instance: str) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                self.ws = await self.apis[instance].ws(self.room, self.token)
                break
            except (aiohttp.ClientError, OSError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        self.instance = instance
        self.intervals.append(Interval(instance, time.monotonic()))
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws = self.ws.ws
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.BINARY:
                self.intervals[-1].end = time.monotonic()
                self.intervals[-1].close_code = ws.close_code
                return
            m = pb.Message()
            m.ParseFromString(msg.data)
            now = time.monotonic()
            if m.type == T.VIEWER_COUNT and self.intervals[-1].joined is None:
                self.intervals[-1].joined = now  # the owner has this connection's presence (and subscription)
            if m.type == T.CHAT:
                cid = m.chat_content
                self.received_chat.setdefault(cid, now)
                if cid in self.sent_chat:
                    self.acked_chat.setdefault(cid, now)
            elif m.type == T.STATUS:
                self.statuses.append((now, m.playback_status.current_time))
            elif m.type == T.ERROR:
                self.errors.append(m.error_message)

    @property
    def connected(self) -> bool:
        return bool(self.intervals) and self.intervals[-1].end == float("inf")

    async def send_chat(self, cid: str) -> None:
        if not self.connected:
            return
        self.sent_chat[cid] = time.monotonic()
        with contextlib.suppress(Exception):
            await self.ws.send(pb.Message(type=T.CHAT, chat_content=cid))

    async def send_status(self, position: float) -> None:
        if not self.connected:
            return
        with contextlib.suppress(Exception):
            await self.ws.send(pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                                          playback_status=pb.Status(is_playing=False, current_time=position,
                                                                    playback_rate=1.0)))

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


def was_connected(v: Viewer, start: float, end: float) -> bool:
    """True if one of the viewer's connections covered the whole [start, end] window."""
    return any(i.joined is not None and i.joined <= start and i.end >= end for i in v.intervals)


def lost_acknowledged(viewers: list[Viewer], grace: float = 1.0) -> tuple[int, int]:
    """(acknowledged chats, deliveries missing) among viewers connected throughout send..ack+grace."""
    acked = 0
    missing = 0
    for sender in viewers:
        for cid, ack in sender.acked_chat.items():
            acked += 1
            sent = sender.sent_chat[cid]
            for v in viewers:
                if v is sender or v.room != sender.room:
                    continue
                if was_connected(v, sent - 0.2, ack + grace) and cid not in v.received_chat:
                    missing += 1
    return acked, missing


def ack_latencies(viewers: list[Viewer]) -> list[float]:
    return [ack - v.sent_chat[cid] for v in viewers for cid, ack in v.acked_chat.items()]


def rewinds(viewers: list[Viewer]) -> int:
    """Received STATUS positions that went backwards (positions only ever increase in these workloads)."""
    count = 0
    for v in viewers:
        last = -1.0
        for _, pos in v.statuses:
            if pos < last:
                count += 1
            last = max(last, pos)
    return count


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def owners_by_room(instances: list[Any], secret: str) -> dict[str, str]:
    """room -> the instance whose actor runs it, asked of every instance (a room owned twice fails here)."""
    import grpc

    from synctv._generated import mesh_pb2, mesh_pb2_grpc
    from synctv.mesh.auth import inspection_metadata

    out: dict[str, str] = {}
    for inst in instances:
        address = getattr(inst, "inspect_address", f"127.0.0.1:{inst.grpc_port}")  # in a namespace: its address
        async with grpc.aio.insecure_channel(address) as ch:
            reply = await mesh_pb2_grpc.MeshStub(ch).OwnedRooms(
                mesh_pb2.Empty(), metadata=inspection_metadata(secret), timeout=5)
        for room in reply.room_ids:
            assert room not in out, f"{room} owned by {out[room]} and {inst.instance_id}"
            out[room] = inst.instance_id
    return out
