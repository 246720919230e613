"""Membership needs a working mesh: three instances found through real etcd, and a fourth started with
another `cluster.secret` (what running the README's random-secret recipe in a new shell gives). Discovery lists
all four; the fourth owns no room, never turns ready, and the others name it on /health, in the metrics and in
`synctv cluster status`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import grpc
import pytest

from synctv._generated import mesh_pb2, mesh_pb2_grpc
from synctv.mesh.auth import inspection_metadata
from synctv.mesh.ring import Ring
from tests.support.api_client import Api
from tests.support.cluster_harness import CLUSTER_SECRET, ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer
from tests.support.require import missing

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres, pytest.mark.timeout(180)]

WRONG_SECRET = "a-fresh-random-secret-from-another-shell-0123"


@pytest.fixture
def four(pg_server: PostgresServer) -> Iterator[ClusterProcesses]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    procs = ClusterProcesses(4, pg_server.create_database("m_" + uuid.uuid4().hex[:12]), etcd.endpoint)
    procs.instances[3].env["SYNCTV_CLUSTER_SECRET"] = WRONG_SECRET
    try:
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as resp:
        return resp.status, await resp.json(content_type=None) if "json" in resp.content_type else await resp.text()


async def _owned(port: int, secret: str) -> list[str]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        reply = await mesh_pb2_grpc.MeshStub(ch).OwnedRooms(mesh_pb2.Empty(), metadata=inspection_metadata(secret),
                                                             timeout=5)
    return list(reply.room_ids)


async def test_an_instance_with_another_secret_is_left_out_and_named(four: ClusterProcesses) -> None:
    good, bad = four.instances[:3], four.instances[3]
    for inst in good:
        inst.start()
    await four.wait_ready(members=3)
    bad.start()
    async with aiohttp.ClientSession() as session:
        # Discovery lists the fourth on every good instance...
        deadline = time.monotonic() + 30
        while True:
            _, body = await _get(session, good[0].base + "/health")
            if body["components"]["discovery"]["detail"].startswith("4 members"):
                break
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.2)
        api = Api(good[0].base, session)
        rooms: list[str] = []
        creators: list[str] = []
        sockets = []
        ring4 = Ring(["n1", "n2", "n3", "n4"])
        # ... yet over the next seconds: n4 never ready, the others always; every room lives on n1..n3.
        for i in range(24):
            creator = await api.signup(f"creator{i}")  # one room each (a user's room count is limited)
            room = await api.create_room(creator, f"room {i}")
            rooms.append(room)
            creators.append(creator)
            sockets.append(await Api(good[i % 3].base, session).ws(room, creator))
            for inst in good:
                assert (await _get(session, inst.base + "/ready"))[0] == 200, inst.instance_id
            status, body = await _get(session, bad.base + "/ready")
            assert status == 503 and body == {"status": "not ready"}
        assert sum(ring4.owner(r) == "n4" for r in rooms) >= 2  # rooms the four-instance ring would give n4
        # Every room accepts a command through each good instance (nothing waits for an unreachable owner).
        for room, creator, ws in zip(rooms, creators, sockets, strict=True):
            started = time.monotonic()
            movie = await Api(good[0].base, session).push_movie(creator, room, "clip", "https://example.com/a.mp4")
            assert movie and time.monotonic() - started < 2.0
            await ws.close()
        owned_by_bad = await _owned(bad.grpc_port, WRONG_SECRET)
        assert owned_by_bad == []
        owned = [set(await _owned(inst.grpc_port, CLUSTER_SECRET)) for inst in good]
        assert set(rooms) <= set().union(*owned)

        # The good instances name it: /health, metrics, logs.
        for inst in good:
            status, body = await _get(session, inst.base + "/health")
            assert status == 200 and body["ready"] is True and body["status"] == "degraded"
            peers = body["components"]["peers"]
            assert peers["ok"] is False and "n4" in peers["detail"] and "UNAUTHENTICATED" in peers["detail"]
            assert body["components"]["membership"]["detail"].startswith("3 of 4")
            _, metrics = await _get(session, inst.base + "/metrics")
            assert 'synctv_cluster_excluded_peers{peer="n4"} 1.0' in metrics
            assert 'synctv_mesh_auth_failures_total{peer="n4"}' in metrics
            assert "'n4' failed mesh authentication" in inst.log_path.read_text()
        # The fourth says why it is not ready.
        status, body = await _get(session, bad.base + "/health")
        assert status == 503 and body["status"] == "not ready"
        assert body["components"]["membership"]["ok"] is False
        assert body["components"]["membership"]["detail"].startswith("left out")
        _, metrics = await _get(session, bad.base + "/metrics")
        assert "synctv_cluster_left_out 1.0" in metrics

    argv = [sys.executable, "-m", "synctv", "cluster", "status", "--data-dir", str(good[0].data_dir), "--address",
            f"127.0.0.1:{good[0].grpc_port}"]
    status_out = await asyncio.to_thread(subprocess.run, argv, env=good[0].env, capture_output=True, text=True,
                                         timeout=30)
    assert status_out.returncode == 0, status_out.stderr
    lines = status_out.stdout.splitlines()
    assert any(line.split()[:2] == ["n4", "excluded"] for line in lines), status_out.stdout
    assert any(line.startswith("excluded n4:") and "UNAUTHENTICATED" in line for line in lines)
    for iid in ("n1", "n2", "n3"):
        assert any(line.split()[:2] == [iid, "up"] for line in lines), status_out.stdout
