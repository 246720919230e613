"""Protocol clients for the load harness: one WebSocket client per viewer, shared stats, pacing, metering.

Measurement: a unique id rides in every message (CHAT: chat_content "m<id>"; STATUS: current_time=<id>,
paused, so the server stores it unchanged). Send and receive times come from this process's clock.
Every receiver is checked against what it should have received (CHAT: every connection of the room including
the sender's; STATUS: all but the sending connection): missing ids are "lost", per-sender order inversions
"reordered".
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
import uuid
from typing import Any

import aiohttp

from bench.procs import ClusterBackends, Deployment
from synctv._generated import message_pb2 as pb

T = pb.MessageType


class Stats:
    """Everything one scenario records (shared by all its clients)."""

    def __init__(self) -> None:
        self.sent_at: dict[int, float] = {}
        self.sender_of: dict[int, int] = {}  # message id -> client index
        self.latencies: list[float] = []
        self.delivered = 0
        self.duplicates = 0
        self.unexpected = 0
        self.errors: list[str] = []
        self.closed: list[str] = []
        self.next_id = 1

    def new_id(self) -> int:
        i = self.next_id
        self.next_id += 1
        return i


class Client:
    __slots__ = (
        "connected_at",
        "final_count",
        "first_vc",
        "got",
        "idx",
        "last_from",
        "reordered",
        "room",
        "stats",
        "task",
        "vc",
        "vc_final_at",
        "ws",
    )

    def __init__(self, idx: int, room: str, stats: Stats) -> None:
        self.idx = idx
        self.room = room
        self.stats = stats
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.got: set[int] = set()
        self.last_from: dict[int, int] = {}
        self.reordered = 0
        self.first_vc: float | None = None
        self.vc = 0
        self.final_count = 0  # join storm: the count to wait for
        self.vc_final_at: float | None = None
        self.task: asyncio.Task[None] | None = None
        self.connected_at: float | None = None

    async def connect(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        url = base.replace("http", "ws", 1) + f"/api/room/ws?roomId={self.room}"
        self.ws = await session.ws_connect(url, protocols=(token,), heartbeat=None, autoping=True,
                                           max_msg_size=1 << 20)
        self.connected_at = time.perf_counter()
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        ws = self.ws
        assert ws is not None
        stats = self.stats
        parse = pb.Message.FromString
        sent_at = stats.sent_at
        clock = time.perf_counter
        binary = aiohttp.WSMsgType.BINARY
        while True:
            msg = await ws.receive()
            if msg.type is not binary:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.ERROR):
                    stats.closed.append(f"client {self.idx}: {msg.type.name} {ws.close_code} {msg.extra or ''}")
                    return
                continue
            now = clock()
            m = parse(msg.data)
            t = m.type
            if t == T.CHAT:
                mid = int(m.chat_content[1:])
            elif t == T.STATUS:
                mid = int(m.playback_status.current_time)
            elif t == T.VIEWER_COUNT:
                if self.first_vc is None:
                    self.first_vc = now
                self.vc = m.viewer_count
                if self.final_count and self.vc_final_at is None and self.vc >= self.final_count:
                    self.vc_final_at = now
                continue
            elif t == T.ERROR:
                stats.errors.append(f"client {self.idx}: ERROR frame {m.error_message!r}")
                continue
            else:
                continue
            t0 = sent_at.get(mid)
            if t0 is None:
                stats.unexpected += 1
                continue
            if mid in self.got:
                stats.duplicates += 1
                continue
            self.got.add(mid)
            stats.delivered += 1
            stats.latencies.append(now - t0)
            sender = stats.sender_of[mid]
            if self.last_from.get(sender, 0) > mid:
                self.reordered += 1
            else:
                self.last_from[sender] = mid

    async def send_chat(self, mid: int) -> None:
        assert self.ws is not None
        await self.ws.send_bytes(pb.Message(type=T.CHAT, chat_content=f"m{mid}").SerializeToString())

    async def send_status(self, mid: int) -> None:
        assert self.ws is not None
        await self.ws.send_bytes(pb.Message(
            type=T.STATUS, timestamp=int(time.time() * 1000),
            playback_status=pb.Status(is_playing=False, current_time=float(mid), playback_rate=1.0),
        ).SerializeToString())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2)


def new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True),
                                 timeout=aiohttp.ClientTimeout(total=60))


async def create_room(session: aiohttp.ClientSession, base: str, token: str, name: str) -> str:
    async with session.post(base + "/api/room/create", headers={"Authorization": token},
                            json={"roomName": name, "password": "", "settings": {"hidden": False}}) as resp:
        body = await resp.json(content_type=None)
        if resp.status != 201:
            raise RuntimeError(f"create room: {resp.status} {body}")
        return str(body["data"]["roomId"])


async def make_rooms(dep: Deployment, session: aiohttp.ClientSession, count: int) -> list[str]:
    """Room r is created by user r (so user r is its creator and may send STATUS)."""
    if dep.kind == "bare":
        return [uuid.uuid4().hex for _ in range(count)]
    base = dep.bases[0]
    return [await create_room(session, base, dep.tokens[r], f"load-{uuid.uuid4().hex[:10]}") for r in range(count)]


async def connect_all(dep: Deployment, session: aiohttp.ClientSession, clients: list[Client],
                      users: list[int], concurrency: int = 100, wait_vc: bool = True) -> list[str]:
    """Connect clients[i] as user users[i] to instance i % n; wait for each one's first VIEWER_COUNT."""
    sem = asyncio.Semaphore(concurrency)
    failures: list[str] = []
    bases = dep.bases

    async def one(i: int, c: Client) -> None:
        async with sem:
            token = dep.tokens[users[i]] if dep.tokens else "bare-token"
            try:
                await c.connect(session, bases[i % len(bases)], token)
            except Exception as exc:
                failures.append(f"client {c.idx}: connect failed: {type(exc).__name__} {exc}")
                return
            if wait_vc:
                deadline = time.perf_counter() + 30
                while c.first_vc is None and time.perf_counter() < deadline and c.task and not c.task.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.01)

    await asyncio.gather(*(one(i, c) for i, c in enumerate(clients)))
    return failures


async def close_all(clients: list[Client]) -> None:
    for c in clients:
        if c.task is not None:
            c.task.cancel()
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def pace(rate: float, count: int, fn: Any) -> float:
    """Call fn(i) at an even `rate` (open loop: a slow send does not slow the schedule); return the lag."""
    start = time.perf_counter()
    lag = 0.0
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            lag = max(lag, -delay)
        await fn(i)
    return lag


class Meter:
    """Server CPU and RSS, this process's CPU, wall clock."""

    def __init__(self, dep: Deployment, backends: ClusterBackends | None = None) -> None:
        self.dep = dep
        self.backends = backends

    def mark(self) -> dict[str, float]:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {"cpu": self.dep.cpu(), "rss": float(self.dep.rss()), "self": ru.ru_utime + ru.ru_stime,
                "wall": time.perf_counter(),
                "backend": self.backends.cpu() if self.backends and self.backends.started else 0.0}

    @staticmethod
    def delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
        wall = b["wall"] - a["wall"]
        return {"server_cpu_s": b["cpu"] - a["cpu"], "wall_s": wall,
                "harness_cpu_util": (b["self"] - a["self"]) / wall if wall > 0 else float("nan"),
                "db_etcd_cpu_s": b["backend"] - a["backend"]}


def loss_report(clients: list[Client], stats: Stats, room_msgs: dict[str, list[tuple[int, str, int]]],
                status_to_sender: bool) -> dict[str, int]:
    expected = lost = reordered = 0
    for c in clients:
        want = 0
        missing = 0
        for mid, kind, sender in room_msgs.get(c.room, []):
            if kind == "status" and sender == c.idx and not status_to_sender:
                continue
            want += 1
            if mid not in c.got:
                missing += 1
        expected += want
        lost += missing
        reordered += c.reordered
    return {"expected": expected, "delivered": stats.delivered, "lost": lost, "duplicates": stats.duplicates,
            "reordered": reordered, "unexpected": stats.unexpected}


async def wait_drained(clients: list[Client], stats: Stats, expected: int, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while stats.delivered < expected and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
