"""Readiness: `/ready` false while the database is down or the instance drains, true again after; `/health`
names each component; the mesh's gRPC health service reports the same answer (NOT_SERVING while not ready)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from synctv.app import Runtime
from synctv.runtime.readiness import ReadinessLoop, evaluate
from tests.support.etcd_server import free_port
from tests.support.pg_server import PostgresServer, find_bin
from tests.support.servers import Server, make_config

SECRET = "health-test-cluster-secret-0123456789ab"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 8.0, what: str = "condition"
                     ) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.1)


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as resp:
        return resp.status, await resp.json(content_type=None)


async def grpc_status(port: int) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""),
                                                                timeout=3)
        return int(reply.status)


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.mark.postgres
async def test_ready_follows_database_outage_and_recovery(tmp_path: Path) -> None:
    if find_bin() is None:
        pytest.skip("PostgreSQL server not installed")
    pg = PostgresServer()  # its own server: this test stops it
    await asyncio.to_thread(pg.start)
    runtime: Runtime | None = None
    try:
        dsn = pg.create_database("h_" + uuid.uuid4().hex[:10])
        grpc_port = free_port()
        cfg = make_config(tmp_path / "data", dsn, SYNCTV_CLUSTER_ENABLED="true", SYNCTV_CLUSTER_INSTANCE_ID="h1",
                          SYNCTV_CLUSTER_SECRET=SECRET, SYNCTV_CLUSTER_GRPC_LISTEN="127.0.0.1",
                          SYNCTV_CLUSTER_GRPC_PORT=str(grpc_port), SYNCTV_CLUSTER_ADVERTISE_ADDRESS="127.0.0.1",
                          SYNCTV_CLUSTER_DISCOVERY_TYPE="static")
        runtime = Runtime(cfg)
        await runtime.start()
        base = f"http://127.0.0.1:{runtime.port}"
        async with aiohttp.ClientSession() as session:
            assert (await get(session, base + "/ready"))[0] == 200
            status, body = await get(session, base + "/health")
            assert status == 200 and body["ready"] is True
            assert set(body["components"]) >= {"database", "discovery", "draining"}
            assert all(c["ok"] for c in body["components"].values())
            assert await grpc_status(grpc_port) == SERVING

            await asyncio.to_thread(pg.stop_process)

            async def not_ready() -> bool:
                return (await get(session, base + "/ready"))[0] == 503
            await eventually(not_ready, what="/ready 503 with the database down")
            status, body = await get(session, base + "/health")
            assert status == 503 and body["ready"] is False and body["status"] == "degraded"
            assert body["components"]["database"]["ok"] is False
            assert body["components"]["draining"]["ok"] is True

            async def grpc_not_serving() -> bool:
                return await grpc_status(grpc_port) == NOT_SERVING
            await eventually(grpc_not_serving, what="gRPC NOT_SERVING with the database down")
            assert (await get(session, base + "/live"))[0] == 200  # alive, just not ready

            await asyncio.to_thread(pg.start)  # same data directory and port

            async def ready_again() -> bool:
                return (await get(session, base + "/ready"))[0] == 200
            await eventually(ready_again, what="/ready 200 after the database came back")
            status, body = await get(session, base + "/health")
            assert status == 200 and body["components"]["database"]["ok"] is True

            async def grpc_serving() -> bool:
                return await grpc_status(grpc_port) == SERVING
            await eventually(grpc_serving, what="gRPC SERVING after the database came back")

            # The instance works again (a write through the database).
            async with session.post(base + "/api/user/signup",
                                    json={"username": "back", "password": "password1"}) as resp:
                assert resp.status == 200

            # Draining wins over a healthy database, on HTTP and on the mesh.
            assert runtime.services is not None
            runtime.services.draining = True
            assert (await get(session, base + "/ready"))[0] == 503
            await eventually(grpc_not_serving, what="gRPC NOT_SERVING while draining")
    finally:
        if runtime is not None:
            await runtime.stop()
        await asyncio.to_thread(pg.stop)


async def test_ready_false_while_draining(sqlite_server: Server) -> None:
    svc = sqlite_server.runtime.services
    assert svc is not None
    base = sqlite_server.api.base
    session = sqlite_server.api.session
    assert (await get(session, base + "/ready"))[0] == 200
    svc.draining = True
    status, body = await get(session, base + "/ready")
    assert status == 503 and body == {"status": "not ready"}
    status, body = await get(session, base + "/health")
    assert status == 503 and body["components"]["draining"] == {"ok": False, "detail": "draining"}
    assert body["components"]["database"]["ok"] is True
    assert (await get(session, base + "/live"))[0] == 200
    svc.draining = False
    assert (await get(session, base + "/ready"))[0] == 200


async def test_stop_drains_before_anything_else(tmp_path: Path) -> None:
    runtime = Runtime(make_config(tmp_path / "data"))
    await runtime.start()
    svc, loop_ = runtime.services, runtime.readiness
    assert svc is not None and loop_ is not None
    stopping = asyncio.ensure_future(runtime.stop())
    await asyncio.sleep(0)  # stop() ran up to its first await
    assert svc.draining is True
    ready, components = await evaluate(svc)
    assert ready is False and components["draining"]["ok"] is False
    await stopping
    assert loop_._task is None


async def test_readiness_loop_reports_changes(sqlite_server: Server) -> None:
    svc = sqlite_server.runtime.services
    assert svc is not None
    seen: list[bool] = []
    flaky: dict[str, Any] = {"ok": True}

    async def check() -> tuple[bool, str]:
        if flaky["ok"] == "raise":
            raise RuntimeError("check exploded")
        return bool(flaky["ok"]), "fine" if flaky["ok"] else "broken"

    svc.health_checks["flaky"] = check
    loop_ = ReadinessLoop(svc, on_change=seen.append, interval=0.05)
    loop_.start()
    try:
        async def settled(expected: list[bool]) -> bool:
            return seen == expected
        await eventually(lambda: settled([True]), what="initial ready")
        flaky["ok"] = False
        await eventually(lambda: settled([True, False]), what="not ready on a failing check")
        assert loop_.components["flaky"] == {"ok": False, "detail": "broken"}
        flaky["ok"] = True
        await eventually(lambda: settled([True, False, True]), what="ready again")
        flaky["ok"] = "raise"
        await eventually(lambda: settled([True, False, True, False]), what="not ready on a raising check")
        assert loop_.components["flaky"]["detail"] == "check exploded"
        flaky["ok"] = True
        await eventually(lambda: settled([True, False, True, False, True]), what="ready after the raise")
        svc.draining = True
        await eventually(lambda: settled([True, False, True, False, True, False]), what="not ready on drain")
    finally:
        svc.draining = False
        del svc.health_checks["flaky"]
        await loop_.stop()
