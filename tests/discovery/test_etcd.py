"""etcd discovery against a real etcd server started on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synctv.config import ClusterConfig
from synctv.discovery import create_discovery
from synctv.discovery.etcd import EtcdDiscovery
from tests.support.discovery_scenarios import (
    member,
    scenario_crash_expires,
    scenario_join_and_graceful_leave,
    scenario_outage,
)
from tests.support.mesh import wait_until

pytestmark = [pytest.mark.etcd, pytest.mark.timeout(60)]

TTL = 2.0


@pytest.fixture
def make(etcd_server: Any) -> Any:
    made: list[EtcdDiscovery] = []

    def _make(instance_id: str) -> EtcdDiscovery:
        cfg = ClusterConfig()
        cfg.discovery.type = "etcd"
        cfg.discovery.ttl = f"{TTL}s"
        cfg.discovery.etcd.endpoints = [f"http://{etcd_server.endpoint}"]
        cfg.discovery.etcd.prefix = "/test/instances/"
        disc = create_discovery(cfg, member(instance_id))
        assert isinstance(disc, EtcdDiscovery)
        made.append(disc)
        return disc

    yield _make
    for disc in made:
        for task in disc._tasks:
            task.cancel()


async def test_join_and_graceful_leave(make: Any) -> None:
    await scenario_join_and_graceful_leave(make, leave_within=1.0)


async def test_crash_expires_within_ttl(make: Any) -> None:
    async def crash(disc: EtcdDiscovery) -> None:
        await disc.stop(revoke=False)

    await scenario_crash_expires(make, crash, within=TTL + 1)


async def test_etcd_outage_keeps_members_and_recovers(make: Any, etcd_server: Any) -> None:
    async def stop() -> None:
        await asyncio.to_thread(etcd_server.stop)

    async def start() -> None:
        await asyncio.to_thread(etcd_server.start)

    await scenario_outage(make, stop, start)


async def test_lease_validity_signal(make: Any, etcd_server: Any) -> None:
    a = make("node-a")
    seen: list[bool] = []
    a.on_lease_change(seen.append)
    await a.start()
    assert a.lease_valid
    await asyncio.to_thread(etcd_server.stop)
    # Keepalive fails for longer than 2/3 of the TTL: the instance must learn it may be dropped.
    await wait_until(lambda: not a.lease_valid, timeout=TTL * 2 + 1)
    assert seen == [True, False]
    await asyncio.to_thread(etcd_server.start)
    await wait_until(lambda: a.lease_valid and a.healthy, timeout=15)
    assert seen == [True, False, True]
    await a.stop()


async def test_start_fails_clearly_when_unreachable() -> None:
    cfg = ClusterConfig()
    cfg.discovery.type = "etcd"
    cfg.discovery.etcd.endpoints = ["127.0.0.1:1"]
    disc = create_discovery(cfg, member("node-a"))
    with pytest.raises(ConnectionError, match=r"cluster\.discovery\.etcd\.endpoints"):
        await asyncio.wait_for(disc.start(), 10)


async def test_resolve_kratos_service(make: Any, etcd_server: Any) -> None:
    import aetcd

    host, port = etcd_server.endpoint.split(":")
    async with aetcd.Client(host=host, port=int(port)) as client:
        await client.put(
            b"/microservices/bilibili/v1",
            b'{"id":"v1","name":"bilibili","version":"1","metadata":{"w":"1"},"endpoints":["grpc://10.0.0.1:9000"]}',
        )
    a = make("node-a")
    await a.start()
    got = await a.resolve("bilibili")
    assert [(m.instance_id, m.grpc_address, m.meta) for m in got] == [("v1", "10.0.0.1:9000", {"w": "1"})]
    assert [m.instance_id for m in await a.resolve("synctv")] == ["node-a"]
    await a.stop()
