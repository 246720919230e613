"""Readiness: `/ready` is this instance's own state (false while it drains), never a shared dependency's: a
database outage shows in `/health` ("degraded") and the metrics, writes answer 503 and succeed on retry after
it, and `/ready` and the mesh's gRPC health (which reports the same answer) stay up throughout."""

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
async def test_a_database_outage_degrades_health_but_not_readiness(tmp_path: Path) -> None:
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
            assert status == 200 and body["ready"] is True and body["status"] == "ok"
            assert set(body["components"]) >= {"database", "discovery", "membership", "draining"}
            assert all(c["ok"] for c in body["components"].values())
            assert body["components"]["database"]["gates_ready"] is False
            assert body["components"]["membership"]["gates_ready"] is True
            assert await grpc_status(grpc_port) == SERVING

            await asyncio.to_thread(pg.stop_process)

            async def degraded() -> bool:
                status, body = await get(session, base + "/health")
                return bool(status == 200 and body["status"] == "degraded")
            await eventually(degraded, what="/health degraded with the database down")
            status, body = await get(session, base + "/health")
            assert body["ready"] is True and body["components"]["database"]["ok"] is False
            assert (await get(session, base + "/ready")) == (200, {"status": "ready"})
            assert await grpc_status(grpc_port) == SERVING  # Consul and load balancers keep the instance
            assert (await get(session, base + "/live"))[0] == 200
            async with session.get(base + "/metrics") as resp:
                text = await resp.text()
            assert 'synctv_component_healthy{component="database"} 0.0' in text
            assert "synctv_instance_ready 1.0" in text
            # A write: a clear, retryable refusal in the upstream envelope, nothing half-written.
            async with session.post(base + "/api/user/signup",
                                    json={"username": "during", "password": "password1"}) as resp:
                assert resp.status == 503
                assert (await resp.json())["error"] == "database unavailable, try again"
            for _ in range(5):  # the readiness loop sees the outage too: still ready, still serving
                await asyncio.sleep(0.3)
                assert (await get(session, base + "/ready"))[0] == 200
            assert runtime.readiness is not None and runtime.readiness.ready is True

            await asyncio.to_thread(pg.start)  # same data directory and port

            async def healthy_again() -> bool:
                status, body = await get(session, base + "/health")
                return bool(status == 200 and body["status"] == "ok")
            await eventually(healthy_again, what="/health ok after the database came back", timeout=15)
            # The same write, retried, succeeds.
            async with session.post(base + "/api/user/signup",
                                    json={"username": "during", "password": "password1"}) as resp:
                assert resp.status == 200

            # Draining is this instance's own state: it turns /ready, /health and the mesh's health down.
            assert runtime.services is not None
            runtime.services.draining = True
            assert (await get(session, base + "/ready"))[0] == 503

            async def grpc_not_serving() -> bool:
                return await grpc_status(grpc_port) == NOT_SERVING
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
    assert status == 503 and body["status"] == "not ready"
    assert body["components"]["draining"] == {"ok": False, "detail": "draining", "gates_ready": True}
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
    shared: dict[str, Any] = {"ok": True}

    async def check() -> tuple[bool, str]:
        if flaky["ok"] == "raise":
            raise RuntimeError("check exploded")
        return bool(flaky["ok"]), "fine" if flaky["ok"] else "broken"

    async def dependency() -> tuple[bool, str]:
        return bool(shared["ok"]), "up" if shared["ok"] else "down"

    svc.readiness_checks["flaky"] = check
    svc.health_checks["shared"] = dependency
    loop_ = ReadinessLoop(svc, on_change=seen.append, interval=0.05)
    loop_.start()
    try:
        async def settled(expected: list[bool]) -> bool:
            return seen == expected
        await eventually(lambda: settled([True]), what="initial ready")
        # A shared dependency failing is reported, never a readiness change.
        shared["ok"] = False
        await eventually(lambda: _is(loop_.components.get("shared", {}).get("ok"), False), what="reported")
        await asyncio.sleep(0.2)
        assert seen == [True] and loop_.ready is True
        assert loop_.components["shared"] == {"ok": False, "detail": "down", "gates_ready": False}
        shared["ok"] = True
        flaky["ok"] = False
        await eventually(lambda: settled([True, False]), what="not ready on a failing check")
        assert loop_.components["flaky"] == {"ok": False, "detail": "broken", "gates_ready": True}
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
        del svc.readiness_checks["flaky"]
        del svc.health_checks["shared"]
        await loop_.stop()


async def _is(value: object, expected: object) -> bool:
    return value is expected
