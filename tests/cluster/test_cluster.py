"""A real 3-instance cluster (separate processes, real etcd, real PostgreSQL): clients on different instances
see one coherent room, every instance answers the HTTP API the same way, and the mesh refuses forged peers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest

from synctv._generated import mesh_pb2, mesh_pb2_grpc
from synctv._generated import message_pb2 as pb
from synctv.auth.passwords import hash_password
from synctv.core.permissions import Role
from synctv.mesh.ring import Ring
from synctv.store import Store
from tests.support.api_client import Api
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer
from tests.support.require import missing
from tests.support.servers import make_config

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres]
T = pb.MessageType


@pytest.fixture(scope="module")
def cluster(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcesses]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    dsn = pg_server.create_database("c_" + uuid.uuid4().hex[:12])
    procs = ClusterProcesses(3, dsn, etcd.endpoint)
    procs.start()
    try:
        asyncio.run(procs.wait_ready())
        asyncio.run(_make_admin(dsn, tmp_path_factory.mktemp("admin")))
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def _make_admin(dsn: str, data_dir: Path) -> None:
    store = await Store.open(make_config(data_dir, dsn))
    try:
        await store.users.create("operator", await hash_password("operator1"), Role.ADMIN)
    finally:
        await store.close()


async def test_one_room_seen_from_every_instance(cluster: ClusterProcesses) -> None:
    async with aiohttp.ClientSession() as session:
        apis = [Api(inst.base, session) for inst in cluster.instances]
        alice = await apis[0].signup("alice")
        bob = await apis[1].signup("bob")
        carol = await apis[2].signup("carol")
        # A token issued by one instance is valid on every instance.
        for api in apis:
            assert (await api.me(bob))["username"] == "bob"
        room = await apis[0].create_room(alice, "cluster room")

        ws_a = await apis[0].ws(room, alice)
        ws_b = await apis[1].ws(room, bob)
        ws_c = await apis[2].ws(room, carol)
        clients = (ws_a, ws_b, ws_c)

        # The creator works through instances other than the one she is connected to.
        movie = await apis[2].push_movie(alice, room, "clip", "https://example.com/clip.mp4")
        for ws in clients:
            assert (await ws.expect(T.MOVIES)).sender.username == "alice"
        await apis[1].ok("POST", "/api/room/movie/current", expect=204, token=alice, room=room,
                         json={"id": movie["id"]})
        for ws in clients:
            await ws.expect(T.CURRENT)

        await ws_a.send(pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                                   playback_status=pb.Status(is_playing=True, current_time=30.0, playback_rate=1.25)))
        for ws in (ws_b, ws_c):
            got = await ws.expect(T.STATUS)
            assert got.playback_status.playback_rate == 1.25 and got.sender.username == "alice"
        await ws_c.send(pb.Message(type=T.CHAT, chat_content="hello from n3"))
        for ws in clients:
            chat = await ws.expect(T.CHAT)
            assert chat.chat_content == "hello from n3"
        # Viewer count is cluster-wide and reaches every instance within a tick.
        for ws in clients:
            deadline = time.monotonic() + 8
            while True:
                msg = await ws.expect(T.VIEWER_COUNT, timeout=max(deadline - time.monotonic(), 0.1))
                if msg.viewer_count == 3:
                    break

        # Every instance answers the same for the room's live state and lists.
        currents = [await api.ok("GET", "/api/room/movie/current", token=alice, room=room) for api in apis]
        assert {c["movie"]["id"] for c in currents} == {movie["id"]}
        assert {c["status"]["playbackRate"] for c in currents} == {1.25}
        positions = [c["status"]["currentTime"] for c in currents]
        assert max(positions) - min(positions) < 2.0
        checks = [await api.ok("GET", "/api/room/check", params={"roomId": room}) for api in apis]
        assert {c["viewerCount"] for c in checks} == {3}
        lists = [await api.ok("GET", "/api/room/list") for api in apis]
        assert all(lst["list"][0]["viewerCount"] == 3 for lst in lists)
        members = [await api.ok("GET", "/api/room/members", token=alice, room=room) for api in apis]
        assert all(sorted(m["onlineCount"] for m in lst["list"]) == [1, 1, 1] for lst in members)

        # The room's actor runs on the ring's owner, and every instance agrees on who that is.
        op = await apis[0].login("operator", "operator1")
        views = [await api.ok("GET", "/api/admin/cluster", token=op) for api in apis]
        ring = Ring(m["instanceId"] for m in views[0]["members"])
        owner = ring.owner(room)
        for api in apis:
            assert (await api.ok("GET", "/api/admin/cluster/owner", token=op, params={"id": room}))["owner"] == owner
        owning = [m["instanceId"] for m in views[0]["members"] if room in m["rooms"]]
        assert owning == [owner]

        # A site setting changed through one instance applies on all of them at once.
        await apis[0].ok("POST", "/api/admin/settings", expect=204, token=op, json={"p2p_zone": "eu"})
        for api in apis:
            assert (await api.ok("GET", "/api/public/settings"))["p2pZone"] == "eu"

        await _check_metrics(session, cluster, viewers=3)
        for ws in clients:
            await ws.close()

        # The operator's view from the command line agrees with the ring.
        inst = cluster.instances[0]
        env = dict(inst.env)
        out = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "synctv", "cluster", "owner", room, "--data-dir",
                             str(inst.data_dir)], env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == owner
        out = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "synctv", "cluster", "status", "--data-dir", str(inst.data_dir)],
            env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.strip().splitlines()[1:]
        assert sorted(line.split()[0] for line in lines) == ["n1", "n2", "n3"]
        assert all(line.split()[1] == "up" for line in lines)
        assert any(room in line for line in lines if line.split()[0] == owner)


REQUIRED_METRICS = [
    "synctv_room_active_total", "synctv_room_viewers_total", "synctv_room_messages_sent_total",
    "synctv_room_messages_received_total", "synctv_http_requests_total", "synctv_http_request_duration_seconds",
    "synctv_websocket_connections_active", "synctv_websocket_messages_sent_total",
    "synctv_websocket_messages_received_total", "synctv_db_connections_active", "synctv_db_connections_idle",
    "synctv_db_query_duration_seconds", "synctv_instance_uptime_seconds", "synctv_instance_memory_bytes",
    "synctv_instance_tasks", "synctv_mesh_messages_sent_total", "synctv_mesh_messages_received_total",
    "synctv_mesh_stream_up", "synctv_mesh_command_duration_seconds", "synctv_ring_members", "synctv_rooms_owned",
    "synctv_handoffs_total", "synctv_fence_rejections_total", "synctv_discovery_errors_total",
    "synctv_mesh_unauthenticated_total",
]


async def _check_metrics(session: aiohttp.ClientSession, cluster: ClusterProcesses, viewers: int) -> None:
    """Scrape every instance after traffic: each required metric is there, and the values add up."""
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, float] = {}
    for inst in cluster.instances:
        async with session.get(inst.base + "/metrics") as resp:
            assert resp.status == 200
            families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
        for name in REQUIRED_METRICS:
            base = name.removesuffix("_total")
            assert name in families or base in families, f"{inst.instance_id} lacks {name}"
        for fam in families.values():
            for sample in fam.samples:
                if not sample.labels or fam.name.startswith("synctv_mesh"):
                    totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
        ring = [s.value for s in families["synctv_ring_members"].samples]
        assert ring == [3.0]
        assert families["synctv_instance_memory_bytes"].samples[0].value > 10_000_000
        routes = {s.labels.get("route") for s in families["synctv_http_requests"].samples}
        assert all(r is None or "{" in r or r.startswith("/") for r in routes)
        assert not any(len(r or "") == 32 for r in routes)  # templates, never raw ids
    assert totals["synctv_room_viewers_total"] == viewers
    assert totals["synctv_websocket_connections_active"] == viewers
    assert totals["synctv_rooms_owned"] >= 1
    assert totals["synctv_websocket_messages_received_total"] >= 2
    assert totals["synctv_mesh_messages_sent_total"] > 0


async def test_mesh_refuses_forged_peers_but_serves_health_and_reflection(cluster: ClusterProcesses) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    from synctv.mesh.auth import TokenSigner, audience_of

    target = f"127.0.0.1:{cluster.instances[0].grpc_port}"
    async with grpc.aio.insecure_channel(target) as channel:
        stub = mesh_pb2_grpc.MeshStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as no_token:
            await stub.Describe(mesh_pb2.Empty(), timeout=5)
        assert no_token.value.code() == grpc.StatusCode.UNAUTHENTICATED
        forged = TokenSigner("intruder", "not-the-cluster-secret-0123456789abcdef").token(audience_of("n1"))
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.Describe(mesh_pb2.Empty(), metadata=(("authorization", f"Bearer {forged}"),), timeout=5)
        assert bad.value.code() == grpc.StatusCode.UNAUTHENTICATED

        health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        services: list[Any] = []
        async for resp in refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])):
            services = [s.name for s in resp.list_services_response.service]
            break
        assert "synctv.mesh.v1.Mesh" in services and "grpc.health.v1.Health" in services
