"""Server processes for the load harness: CPU, memory, the fd limit, free ports, and the three deployments.

Deployments (each scenario gets fresh server processes so memory and CPU deltas are its own):
  single   one `synctv serve --data-dir D --port P` with the default config (SQLite)
  cluster  three instances sharing PostgreSQL, found through etcd (PostgreSQL and etcd started once per run,
           a new database per scenario)
  bare     `bench.bare_broadcast`, a bare aiohttp fan-out server (the limit)

Users are inserted into the database before the servers start, all with one precomputed bcrypt hash, and
their tokens are signed with the server's JWT secret: 5,000 signups at bcrypt cost 10 would take minutes and
measure bcrypt, not the WebSocket path. Server CPU comes from /proc/<pid>/stat (utime+stime), resident memory
from /proc/<pid>/status.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "password1"
CLUSTER_JWT_SECRET = "load-harness-jwt-secret-0123456789abcdef"
BARE_JWT_SECRET = "load-harness-bare-secret-0123456789abcdef"


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


# Every simulated viewer connects from 127.0.0.1: lift the per-address WebSocket limit for the load runs.
LOAD_ENV = {"SYNCTV_ROOMS_MAX_CONNECTIONS_PER_ADDRESS": "1000000"}


def _spawn(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **LOAD_ENV})


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


async def start_bare(users: int) -> Deployment:
    """The bare server, verifying real user tokens (signed as the real server signs them) on every join."""
    from synctv.auth.tokens import TokenCodec
    from synctv.store.ids import new_id

    root = Path(tempfile.mkdtemp(prefix="synctv-bare-"))
    port = free_port()
    log_path = root / "server.log"
    codec = TokenCodec(BARE_JWT_SECRET, 48 * 3600)
    tokens = [codec.issue(new_id(), 1) for _ in range(users)]
    proc = _spawn([sys.executable, "-m", "bench.bare_broadcast", "--port", str(port),
                   "--jwt-secret", BARE_JWT_SECRET], log_path)
    server = Server("bare", f"http://127.0.0.1:{port}", proc, log_path)
    dep = Deployment("bare", [server], tokens)
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
                             extra_env={"SYNCTV_JWT_SECRET": CLUSTER_JWT_SECRET, **LOAD_ENV})
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
