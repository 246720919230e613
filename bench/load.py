"""Load harness: real `synctv serve` processes driven by many asyncio WebSocket clients in this process.

Deployments (each scenario gets fresh server processes so memory and CPU deltas are its own):
  single   one `synctv serve --data-dir D --port P` with the default config (SQLite)
  cluster  three instances sharing PostgreSQL, found through etcd; clients spread round-robin over them
  bare     `bench.bare_broadcast`, a bare aiohttp fan-out server (the limit), for the fan-out scenarios only

Scenarios:
  join      N users open a WebSocket to one room at the same moment
  flood     one room, V viewers, R messages/s (half CHAT from rotating viewers, half STATUS from the creator)
  create    HTTP POST /api/room/create at R rooms/s (an admin token: admins have no room limit)
  multiroom K rooms of M users, ~10 messages/s per room (half CHAT, half STATUS)
  hold      C concurrent viewers on one instance (rooms of 100), resident memory

Users are inserted into the database before the servers start, all with one precomputed bcrypt hash, and
their tokens are signed with the server's JWT secret: 5,000 signups at bcrypt cost 10 would take minutes and
measure bcrypt, not the WebSocket path. Everything after that is the real protocol: HTTP for room creation,
WebSocket upgrade with the token as subprotocol, protobuf binary frames.

Measurement: a unique id rides in every message (CHAT: chat_content "m<id>"; STATUS: current_time=<id>,
paused, so the server stores it unchanged). Send and receive times come from this process's clock.
Every receiver is checked against what it should have received (CHAT: every connection of the room including
the sender's; STATUS: all but the sending connection): missing ids are "lost", per-sender order inversions
"reordered". Server CPU comes from /proc/<pid>/stat (utime+stime), resident memory from /proc/<pid>/status.

    .venv/bin/python -m bench.load [--quick] [--deployments single,cluster,bare] [--scenarios join,flood,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import summary_ms, table, write_json
from synctv._generated import message_pb2 as pb

T = pb.MessageType
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "password1"
CLUSTER_JWT_SECRET = "load-harness-jwt-secret-0123456789abcdef"

# Targets the results are reported against.
TARGET_P95_MS = 100.0
TARGET_P99_MS = 500.0
TARGET_EFFICIENCY = 0.7
TARGET_HOLD_BYTES = 1 << 30


# ----------------------------------------------------------------------------------------------- sizes

@dataclass(frozen=True)
class Sizes:
    join_users: int = 1000
    flood_viewers: int = 200
    flood_rate: float = 100.0
    flood_seconds: float = 20.0
    create_rate: float = 100.0
    create_seconds: float = 10.0
    multi_rooms: int = 10
    multi_users: int = 100
    multi_rate_per_room: float = 10.0
    multi_seconds: float = 20.0
    hold_viewers: int = 5000


FULL = Sizes()
QUICK = Sizes(join_users=300, flood_viewers=100, flood_seconds=6.0, create_rate=50.0, create_seconds=4.0,
              multi_rooms=5, multi_users=50, multi_seconds=6.0, hold_viewers=1000)


# ------------------------------------------------------------------------------------------ processes

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


PROBLEM = re.compile(r"WARNING|ERROR|CRITICAL|Traceback|Exception", re.IGNORECASE)


@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def problems(self, limit: int = 8) -> tuple[int, list[str]]:
        if not self.log_path.exists():
            return 0, []
        lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if PROBLEM.search(ln)]
        return len(lines), [f"{self.name}: {ln[:300]}" for ln in lines[:limit]]


@dataclass
class Deployment:
    kind: str  # single | cluster | bare
    servers: list[Server]
    tokens: list[str] = field(default_factory=list)  # ordinary users, index = user number
    admin_token: str = ""
    cleanup: list[Any] = field(default_factory=list)

    @property
    def bases(self) -> list[str]:
        return [s.base for s in self.servers]

    def cpu(self) -> float:
        return sum(proc_cpu(s.pid) for s in self.servers)

    def rss(self) -> int:
        return sum(proc_rss(s.pid) for s in self.servers)

    def alive(self) -> list[str]:
        return [f"{s.name} exited with {s.proc.returncode}" for s in self.servers if s.proc.poll() is not None]

    def problems(self) -> tuple[int, list[str]]:
        total, lines = 0, []
        for s in self.servers:
            n, ls = s.problems()
            total += n
            lines += ls
        return total, lines

    def stop(self) -> None:
        for fn in reversed(self.cleanup):
            with contextlib.suppress(Exception):
                fn()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def _spawn(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


async def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server not ready: {_tail(log)}")


async def _seed(cfg: Any, users: int) -> tuple[list[str], str]:
    """Insert `users` ordinary users and one admin; return their tokens (signed with the server's secret)."""
    from synctv.auth.passwords import hash_password_sync, user_version
    from synctv.auth.tokens import TokenCodec
    from synctv.core.permissions import Role
    from synctv.store import Store
    from synctv.store.database import sessionmaker
    from synctv.store.ids import new_id, utcnow
    from synctv.store.models import User

    hashed = hash_password_sync(PASSWORD)
    store = await Store.open(cfg)
    tag = uuid.uuid4().hex[:6]
    rows = []
    try:
        now = utcnow()
        for i in range(users + 1):
            rows.append(User(id=new_id(), created_at=now, updated_at=now,
                             username=f"admin-{tag}" if i == users else f"u{i}-{tag}", email=None,
                             hashed_password=hashed, role=int(Role.ADMIN if i == users else Role.USER),
                             registered_by_provider=False, registered_by_email=False))
        sessions = sessionmaker(store.engine)
        for start in range(0, len(rows), 1000):
            async with sessions() as s:
                s.add_all(rows[start:start + 1000])
                await s.commit()
    finally:
        await store.close()
    codec = TokenCodec(cfg.jwt.secret, 48 * 3600)
    version = user_version(hashed)
    tokens = [codec.issue(r.id, version) for r in rows]
    return tokens[:-1], tokens[-1]


async def start_single(users: int) -> Deployment:
    from synctv import config

    root = Path(tempfile.mkdtemp(prefix="synctv-load-"))
    data = root / "data"
    cfg = config.load(data)  # writes the default config.yaml (with its generated JWT secret) the server reads
    tokens, admin = await _seed(cfg, users)
    port = free_port()
    log_path = root / "server.log"
    proc = _spawn([sys.executable, "-m", "synctv", "serve", "--data-dir", str(data), "--listen", "127.0.0.1",
                   "--port", str(port)], log_path)
    server = Server("single", f"http://127.0.0.1:{port}", proc, log_path)
    dep = Deployment("single", [server], tokens, admin)
    dep.cleanup.append(lambda: shutil.rmtree(root, ignore_errors=True))
    dep.cleanup.append(lambda: _stop_proc(proc))
    await _wait_http(server.base + "/health", proc, log_path)
    return dep


def _stop_proc(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def start_bare() -> Deployment:
    root = Path(tempfile.mkdtemp(prefix="synctv-bare-"))
    port = free_port()
    log_path = root / "server.log"
    proc = _spawn([sys.executable, "-m", "bench.bare_broadcast", "--port", str(port)], log_path)
    server = Server("bare", f"http://127.0.0.1:{port}", proc, log_path)
    dep = Deployment("bare", [server])
    dep.cleanup.append(lambda: shutil.rmtree(root, ignore_errors=True))
    dep.cleanup.append(lambda: _stop_proc(proc))
    await _wait_http(server.base + "/health", proc, log_path)
    return dep


class ClusterBackends:
    """PostgreSQL and etcd, started once per run; each scenario gets its own database and servers."""

    def __init__(self) -> None:
        from tests.support.etcd_server import EtcdServer
        from tests.support.pg_server import PostgresServer

        self.pg = PostgresServer()
        self.etcd = EtcdServer()
        self.started = False

    def start(self) -> None:
        self.pg.start()
        self.etcd.start()
        self.started = True

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.etcd.stop()
        with contextlib.suppress(Exception):
            self.pg.stop()

    def cpu(self) -> float:
        """PostgreSQL (postmaster and backends) plus etcd, for context."""
        pids = []
        etcd = self.etcd._proc
        if etcd is not None:
            pids.append(etcd.pid)
        pg_dir = str(self.pg.dir)
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                with contextlib.suppress(OSError):
                    cmd = (p / "cmdline").read_bytes()
                    if cmd.startswith(b"postgres:") or (b"postgres" in cmd and pg_dir.encode() in cmd):
                        pids.append(int(p.name))
        return sum(proc_cpu(pid) for pid in pids)


async def start_cluster(backends: ClusterBackends, users: int, size: int = 3) -> Deployment:
    from synctv import config
    from tests.support.cluster_harness import ClusterProcesses

    dsn = backends.pg.create_database("load_" + uuid.uuid4().hex[:8])
    # The default discovery TTL (5 s), not the tests' 3 s.
    procs = ClusterProcesses(size, dsn, backends.etcd.endpoint, ttl="5s",
                             extra_env={"SYNCTV_JWT_SECRET": CLUSTER_JWT_SECRET})
    first = procs.instances[0]
    first.data_dir.mkdir(parents=True, exist_ok=True)
    cfg = config.load(first.data_dir, env=first.env, write_back=False)
    tokens, admin = await _seed(cfg, users)
    dep = Deployment("cluster", [], tokens, admin)
    dep.cleanup.append(lambda: shutil.rmtree(procs.root, ignore_errors=True))
    dep.cleanup.append(procs.stop)
    procs.start()
    await procs.wait_ready(timeout=90)
    for inst in procs.instances:
        assert inst.proc is not None
        dep.servers.append(Server(inst.instance_id, inst.base, inst.proc, inst.log_path))
    return dep


# --------------------------------------------------------------------------------------------- clients

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


# ------------------------------------------------------------------------------------------- scenarios

def _finish(result: dict[str, Any], dep: Deployment, stats: Stats | None, connect_failures: list[str]) -> None:
    errors = list(connect_failures)
    if stats is not None:
        errors += stats.errors + stats.closed
    result["errors"] = len(errors)
    result["error_samples"] = errors[:8]
    n, lines = dep.problems()
    result["server_log_problems"] = n
    result["server_log_samples"] = lines
    result["server_exited"] = dep.alive()


async def scenario_join(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    n = sz.join_users
    stats = Stats()
    async with new_session() as session:
        (room,) = await make_rooms(dep, session, 1)
        clients = [Client(i, room, stats) for i in range(n)]
        for c in clients:
            c.final_count = n
        rss0 = dep.rss()
        m0 = meter.mark()
        started_utc = time.strftime("%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        t0 = time.perf_counter()
        failures = await connect_all(dep, session, clients, list(range(n)), concurrency=n, wait_vc=False)
        connected = time.perf_counter()
        deadline = t0 + 30 + 10  # connect, then at least a couple of 5 s viewer-count ticks
        while time.perf_counter() < deadline:
            if all(c.vc_final_at is not None or (c.task is not None and c.task.done()) or c.ws is None
                   for c in clients):
                break
            await asyncio.sleep(0.05)
        m1 = meter.mark()
        rss1 = dep.rss()
        first = [c.first_vc - t0 for c in clients if c.first_vc is not None]
        finals = [c.vc_final_at - t0 for c in clients if c.vc_final_at is not None]
        result: dict[str, Any] = {
            "connections": n, "latency": summary_ms(first), "what_latency_is": "join start -> first VIEWER_COUNT",
            "storm_started_utc": started_utc,
            "all_connected_s": connected - t0,
            "all_see_final_count_s": max(finals) if len(finals) == n else None,
            "never_saw_final_count": n - len(finals),
            "never_got_viewer_count": n - len(first),
            "last_viewer_count_seen": dict(sorted(Counter(c.vc for c in clients).most_common(5))),
            "lost": n - len(finals),
            "server_cpu_per_join_ms": Meter.delta(m0, m1)["server_cpu_s"] / max(1, len(first)) * 1000,
            "rss_per_connection_kib": (rss1 - rss0) / max(1, len(first)) / 1024,
            "server_rss_mib": rss1 / 2**20,
            **Meter.delta(m0, m1),
        }
        await close_all(clients)
    _finish(result, dep, stats, failures)
    return result


async def _broadcast_run(dep: Deployment, meter: Meter, rooms_n: int, per_room: int, rate_total: float,
                         seconds: float) -> dict[str, Any]:
    """Shared by flood (1 room) and multiroom: connect, then send alternating CHAT/STATUS at rate_total."""
    stats = Stats()
    bare = dep.kind == "bare"
    async with new_session() as session:
        rooms = await make_rooms(dep, session, rooms_n)
        clients: list[Client] = []
        users: list[int] = []
        # In room r, the first client is the creator (user r, sends STATUS); the others are users after the
        # creators. Clients are interleaved across rooms so each room is spread over the instances.
        creators: list[Client] = []
        members: dict[str, list[Client]] = {r: [] for r in rooms}
        next_user = rooms_n
        for k in range(per_room):
            for r, room in enumerate(rooms):
                c = Client(len(clients), room, stats)
                clients.append(c)
                if k == 0:
                    users.append(r)
                    creators.append(c)
                else:
                    users.append(next_user)
                    next_user += 1
                members[room].append(c)
        rss0 = dep.rss()
        t_connect = time.perf_counter()
        failures = await connect_all(dep, session, clients, users, concurrency=100)
        connect_s = time.perf_counter() - t_connect
        await asyncio.sleep(1.0)
        rss1 = dep.rss()
        room_msgs: dict[str, list[tuple[int, str, int]]] = {r: [] for r in rooms}
        chat_turn = dict.fromkeys(rooms, 0)
        count = int(rate_total * seconds)

        async def send(i: int) -> None:
            r = i % rooms_n
            room = rooms[r]
            mid = stats.new_id()
            if (i // rooms_n) % 2 == 0:
                sender = creators[r]
                kind = "status"
            else:
                group = members[room]
                sender = group[chat_turn[room] % len(group)]
                chat_turn[room] += 1
                kind = "chat"
            stats.sender_of[mid] = sender.idx
            room_msgs[room].append((mid, kind, sender.idx))
            stats.sent_at[mid] = time.perf_counter()
            try:
                if kind == "status":
                    await sender.send_status(mid)
                else:
                    await sender.send_chat(mid)
            except Exception as exc:
                stats.errors.append(f"client {sender.idx}: send failed: {type(exc).__name__} {exc}")

        m0 = meter.mark()
        lag = await pace(rate_total, count, send)
        expected = sum(
            sum(1 for c in members[room] if not (kind == "status" and s == c.idx and not bare))
            for room in rooms for _mid, kind, s in room_msgs[room])
        await wait_drained(clients, stats, expected, timeout=10.0)
        m1 = meter.mark()
        loss = loss_report(clients, stats, room_msgs, status_to_sender=bare)
        d = Meter.delta(m0, m1)
        result: dict[str, Any] = {
            "connections": len(clients), "rooms": rooms_n, "messages_sent": count, "rate_per_s": rate_total,
            "latency": summary_ms(stats.latencies), "what_latency_is": "send -> receive, every delivery",
            **loss,
            "server_cpu_per_delivery_us": d["server_cpu_s"] / max(1, stats.delivered) * 1e6,
            "deliveries_per_cpu_s": stats.delivered / d["server_cpu_s"] if d["server_cpu_s"] > 0 else float("nan"),
            "rss_per_connection_kib": (rss1 - rss0) / max(1, len(clients)) / 1024,
            "server_rss_mib": dep.rss() / 2**20,
            "connect_s": connect_s, "sender_max_lag_ms": lag * 1000,
            **d,
        }
        await close_all(clients)
    _finish(result, dep, stats, failures)
    return result


async def scenario_flood(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    return await _broadcast_run(dep, meter, 1, sz.flood_viewers, sz.flood_rate, sz.flood_seconds)


async def scenario_multiroom(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    return await _broadcast_run(dep, meter, sz.multi_rooms, sz.multi_users, sz.multi_rate_per_room * sz.multi_rooms,
                                sz.multi_seconds)


async def scenario_create(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    count = int(sz.create_rate * sz.create_seconds)
    lat: list[float] = []
    failures: list[str] = []
    bases = dep.bases
    tag = uuid.uuid4().hex[:6]
    async with new_session() as session:
        async def one(i: int) -> None:
            t0 = time.perf_counter()
            try:
                async with session.post(bases[i % len(bases)] + "/api/room/create",
                                        headers={"Authorization": dep.admin_token},
                                        json={"roomName": f"c{tag}-{i}", "password": "",
                                              "settings": {"hidden": False}}) as resp:
                    body = await resp.read()
                    if resp.status != 201:
                        failures.append(f"create {i}: HTTP {resp.status} {body[:200]!r}")
                        return
            except Exception as exc:
                failures.append(f"create {i}: {type(exc).__name__} {exc}")
                return
            lat.append(time.perf_counter() - t0)

        tasks: list[asyncio.Task[None]] = []

        async def launch(i: int) -> None:
            tasks.append(asyncio.create_task(one(i)))

        m0 = meter.mark()
        lag = await pace(sz.create_rate, count, launch)
        await asyncio.gather(*tasks)
        m1 = meter.mark()
    d = Meter.delta(m0, m1)
    result: dict[str, Any] = {
        "requests": count, "rate_per_s": sz.create_rate, "created": len(lat),
        "achieved_per_s": len(lat) / d["wall_s"] if d["wall_s"] > 0 else float("nan"),
        "latency": summary_ms(lat), "what_latency_is": "POST /api/room/create round trip",
        "lost": count - len(lat),
        "server_cpu_per_room_ms": d["server_cpu_s"] / max(1, len(lat)) * 1000,
        "sender_max_lag_ms": lag * 1000, **d,
    }
    _finish(result, dep, None, failures)
    return result


async def scenario_hold(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    n = sz.hold_viewers
    per_room = 100
    rooms_n = max(1, (n + per_room - 1) // per_room)
    stats = Stats()
    async with new_session() as session:
        rooms = await make_rooms(dep, session, rooms_n)
        clients = [Client(i, rooms[i % rooms_n], stats) for i in range(n)]
        users = list(range(n))  # client r < rooms_n is in room r, whose creator is user r
        await asyncio.sleep(0.5)
        rss0 = dep.rss()
        m0 = meter.mark()
        failures = await connect_all(dep, session, clients, users, concurrency=200)
        m1 = meter.mark()
        await asyncio.sleep(6.0)  # a viewer-count tick with everyone connected
        rss1 = dep.rss()
        open_now = sum(1 for c in clients if c.ws is not None and not c.ws.closed)
        # Still alive? One CHAT per room, everyone should get it.
        room_msgs: dict[str, list[tuple[int, str, int]]] = {r: [] for r in rooms}
        for r, room in enumerate(rooms):
            mid = stats.new_id()
            sender = clients[r]
            stats.sender_of[mid] = sender.idx
            room_msgs[room].append((mid, "chat", sender.idx))
            stats.sent_at[mid] = time.perf_counter()
            with contextlib.suppress(Exception):
                await sender.send_chat(mid)
        await wait_drained(clients, stats, n, timeout=15.0)
        loss = loss_report(clients, stats, room_msgs, status_to_sender=False)
        d = Meter.delta(m0, m1)
        result: dict[str, Any] = {
            "connections": n, "open_after_tick": open_now, "rooms": rooms_n,
            "server_rss_mib": rss1 / 2**20, "server_rss_before_mib": rss0 / 2**20,
            "rss_per_connection_kib": (rss1 - rss0) / max(1, open_now) / 1024,
            "connect_s": d["wall_s"], "server_cpu_per_connect_ms": d["server_cpu_s"] / max(1, n) * 1000,
            "harness_cpu_util": d["harness_cpu_util"],
            "latency": summary_ms(stats.latencies),
            "what_latency_is": "one CHAT per room, all sent at once (a liveness check, not target-checked)",
            **loss,
        }
        await close_all(clients)
    _finish(result, dep, stats, failures)
    return result


SCENARIOS = {"join": scenario_join, "flood": scenario_flood, "create": scenario_create,
             "multiroom": scenario_multiroom, "hold": scenario_hold}


def users_needed(scenario: str, s: Sizes) -> int:
    return {"join": s.join_users, "flood": s.flood_viewers, "create": 1, "multiroom": s.multi_rooms * s.multi_users,
            "hold": s.hold_viewers}[scenario]
PLAN = {"single": ["join", "flood", "create", "multiroom", "hold"],
        "cluster": ["join", "flood", "create", "multiroom"],
        "bare": ["flood", "multiroom"]}


# ------------------------------------------------------------------------------------------ the runner

async def run_one(kind: str, scenario: str, sz: Sizes, backends: ClusterBackends | None) -> dict[str, Any]:
    users = users_needed(scenario, sz) + 10
    if kind == "single":
        dep = await start_single(users)
    elif kind == "cluster":
        assert backends is not None
        dep = await start_cluster(backends, users)
    else:
        dep = await start_bare()
    try:
        await asyncio.sleep(1.0)  # let start-up work settle before the baseline marks
        meter = Meter(dep, backends if kind == "cluster" else None)
        return await asyncio.wait_for(SCENARIOS[scenario](dep, meter, sz), timeout=240)
    finally:
        await asyncio.to_thread(dep.stop)


def verdicts(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, r in results.items():
        if "latency" not in r or key.startswith("bare/") or key.endswith("/hold"):
            continue
        lat = r["latency"]
        out[key] = {
            "p95<100ms": lat["p95_ms"] < TARGET_P95_MS,
            "p99<500ms": lat["p99_ms"] < TARGET_P99_MS,
            "0 lost": r.get("lost", 0) == 0 and r.get("errors", 0) == 0,
        }
    for scen in ("flood", "multiroom"):
        ours, bare = results.get(f"single/{scen}"), results.get(f"bare/{scen}")
        if ours and bare and bare.get("deliveries_per_cpu_s"):
            eff = ours["deliveries_per_cpu_s"] / bare["deliveries_per_cpu_s"]
            out[f"fan-out efficiency/{scen}"] = {"value": eff, f">={TARGET_EFFICIENCY}": eff >= TARGET_EFFICIENCY}
    hold = results.get("single/hold")
    if hold and "connections" in hold:
        out["single/hold"] = {"<1GiB": hold["server_rss_mib"] * 2**20 < TARGET_HOLD_BYTES,
                              "all open": hold["open_after_tick"] == hold["connections"],
                              "0 lost": hold.get("lost", 0) == 0 and hold.get("errors", 0) == 0}
        out["hold"] = {"viewers": hold["connections"], "open": hold["open_after_tick"],
                       "rss_mib": hold["server_rss_mib"], "met": all(out["single/hold"].values())}
    return out


def rows_for(results: dict[str, dict[str, Any]], verdict: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, r in results.items():
        lat = r.get("latency", {})
        v = verdict.get(key, {})
        cpu = (r.get("server_cpu_per_delivery_us") or r.get("server_cpu_per_join_ms") or
               r.get("server_cpu_per_room_ms") or r.get("server_cpu_per_connect_ms"))
        unit = ("us/deliv" if "server_cpu_per_delivery_us" in r else "ms/join" if "server_cpu_per_join_ms" in r
                else "ms/room" if "server_cpu_per_room_ms" in r else "ms/conn")
        met = "" if not v else ("met" if all(v.values()) else
                               "MISSED " + ",".join(k for k, ok in v.items() if not ok))
        rows.append({
            "scenario": key, "conns": r.get("connections", r.get("requests", "")),
            "n": lat.get("n", ""), "p50_ms": lat.get("p50_ms", float("nan")),
            "p95_ms": lat.get("p95_ms", float("nan")), "p99_ms": lat.get("p99_ms", float("nan")),
            "lost": r.get("lost", ""), "errors": r.get("errors", ""),
            "cpu": f"{cpu:.1f} {unit}" if isinstance(cpu, float) else "",
            "rss/conn_KiB": r.get("rss_per_connection_kib", float("nan")),
            "rss_MiB": r.get("server_rss_mib", float("nan")),
            "harness_cpu": r.get("harness_cpu_util", float("nan")),
            "targets": met,
        })
    return rows


def run(quick: bool, deployments: list[str], scenarios: list[str] | None = None,
        log: Any = print) -> dict[str, Any]:
    sz = QUICK if quick else FULL
    fd_limit = raise_fd_limit()
    results: dict[str, dict[str, Any]] = {}
    backends: ClusterBackends | None = None
    started = time.monotonic()
    try:
        for kind in deployments:
            plan = [s for s in PLAN[kind] if scenarios is None or s in scenarios]
            if kind == "cluster" and plan:
                backends = ClusterBackends()
                backends.start()
            for scen in plan:
                key = f"{kind}/{scen}"
                log(f"[{time.monotonic() - started:6.1f}s] {key} ...")
                try:
                    results[key] = _run_async(run_one(kind, scen, sz, backends))
                except Exception as exc:
                    results[key] = {"failed": f"{type(exc).__name__}: {exc}"[:2000]}
                r = results[key]
                lat = r.get("latency", {})
                log(f"    p50 {lat.get('p50_ms', float('nan')):.2f} ms  p95 {lat.get('p95_ms', float('nan')):.2f} ms"
                    f"  p99 {lat.get('p99_ms', float('nan')):.2f} ms  lost {r.get('lost', '?')}"
                    f"  errors {r.get('errors', '?')}" + (f"  FAILED {r['failed']}" if "failed" in r else ""))
            if backends is not None:
                backends.stop()
                backends = None
    finally:
        if backends is not None:
            backends.stop()
    verdict = verdicts(results)
    return {"quick": quick, "sizes": sz.__dict__, "fd_limit": fd_limit, "elapsed_s": time.monotonic() - started,
            "results": results, "verdicts": verdict, "rows": rows_for(results, verdict)}


def _run_async(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


COLUMNS = ["scenario", "conns", "n", "p50_ms", "p95_ms", "p99_ms", "lost", "errors", "cpu", "rss/conn_KiB",
           "rss_MiB", "harness_cpu", "targets"]


def report(out: dict[str, Any]) -> str:
    lines = [table(out["rows"], COLUMNS), ""]
    for key, v in out["verdicts"].items():
        if key.startswith("fan-out") or key == "hold":
            lines.append(f"{key}: " + ", ".join(f"{k}={val:.3f}" if isinstance(val, float) else f"{k}={val}"
                                                 for k, val in v.items()))
    for key, r in out["results"].items():
        if key.endswith("/join") and "connections" in r:
            final = r["all_see_final_count_s"]
            lines.append(f"{key}: {r['connections']} sockets open after {r['all_connected_s']:.2f} s; "
                         + (f"all saw viewer count {r['connections']} after {final:.2f} s" if final is not None else
                            f"{r['never_saw_final_count']} never saw viewer count {r['connections']}")
                         + f" (last counts seen: {r['last_viewer_count_seen']})")
        if "failed" in r:
            lines.append(f"{key}: FAILED {r['failed'][:500]}")
        for s in r.get("error_samples", [])[:3]:
            lines.append(f"{key}: error: {s}")
        if r.get("server_log_problems"):
            lines.append(f"{key}: {r['server_log_problems']} warning/error lines in server logs, e.g.:")
            lines += [f"    {s}" for s in r.get("server_log_samples", [])[:4]]
        if r.get("server_exited"):
            lines.append(f"{key}: {r['server_exited']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller numbers, about 3 minutes")
    parser.add_argument("--deployments", default="single,cluster,bare")
    parser.add_argument("--scenarios", default=None, help="comma list of " + ",".join(SCENARIOS))
    args = parser.parse_args()
    scen = args.scenarios.split(",") if args.scenarios else None
    out = run(args.quick, args.deployments.split(","), scen)
    print(report(out))
    print("wrote", write_json("load-quick" if args.quick else "load", out))


if __name__ == "__main__":
    random.seed(1)
    main()
