"""consul discovery against the in-repo Consul HTTP API emulation (tests/consul_emulator.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synctv.config import ClusterConfig
from synctv.discovery import create_discovery
from synctv.discovery.consul import ConsulDiscovery
from tests.support.discovery_scenarios import (
    member,
    scenario_crash_expires,
    scenario_join_and_graceful_leave,
    scenario_outage,
)
from tests.support.mesh import wait_until

pytestmark = pytest.mark.timeout(60)

TTL = 2.0


@pytest.fixture
def make(consul_emulator: Any) -> Any:
    made: list[ConsulDiscovery] = []

    def _make(instance_id: str) -> ConsulDiscovery:
        cfg = ClusterConfig()
        cfg.discovery.type = "consul"
        cfg.discovery.ttl = f"{TTL}s"
        cfg.discovery.consul.address = consul_emulator.address
        cfg.discovery.consul.service_name = "synctv-test"
        disc = create_discovery(cfg, member(instance_id))
        assert isinstance(disc, ConsulDiscovery)
        made.append(disc)
        return disc

    yield _make
    for disc in made:
        for task in disc._tasks:
            task.cancel()


async def test_join_and_graceful_leave(make: Any) -> None:
    await scenario_join_and_graceful_leave(make, leave_within=1.0)


async def test_crash_goes_critical_within_ttl(make: Any) -> None:
    async def crash(disc: ConsulDiscovery) -> None:
        await disc.stop(deregister=False)

    await scenario_crash_expires(make, crash, within=TTL + 1)


async def test_agent_outage_keeps_members_and_recovers(make: Any, consul_emulator: Any) -> None:
    await scenario_outage(make, consul_emulator.stop, consul_emulator.start)


async def test_registration_shape(make: Any, consul_emulator: Any) -> None:
    a = make("node-a")
    await a.start()
    svc = consul_emulator.services["node-a"]
    assert svc["Service"] == "synctv-test"
    assert svc["Meta"]["instance_id"] == "node-a" and svc["Meta"]["grpc"] == a.self_member.grpc_address
    assert svc["Port"] == int(a.self_member.grpc_address.rsplit(":", 1)[1])
    kinds = sorted(c.kind for c in consul_emulator.checks.values() if c.service_id == "node-a")
    assert kinds == ["grpc", "ttl"]
    # Membership follows health: a failing TTL check removes the member though it is still in the catalog.
    b = make("node-b")
    await b.start()
    await wait_until(lambda: len(a.members()) == 2)
    for task in b._tasks:
        task.cancel()
    await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a"], timeout=TTL + 2)
    assert "node-b" in consul_emulator.services
    assert [m.instance_id for m in await a.resolve("synctv-test")] == ["node-a"]
    await a.stop()
    assert "node-a" not in consul_emulator.services


async def test_agent_forgetting_us_reregisters(make: Any, consul_emulator: Any) -> None:
    a = make("node-a")
    await a.start()
    consul_emulator.services.clear()
    consul_emulator.checks.clear()
    await wait_until(lambda: "node-a" in consul_emulator.services, timeout=TTL + 1)
    await a.stop()


async def test_acl_token_and_unreachable() -> None:
    from tests.support.consul_emulator import ConsulEmulator

    emu = ConsulEmulator(token="sekrit")
    await emu.start()
    try:
        cfg = ClusterConfig()
        cfg.discovery.type = "consul"
        cfg.discovery.consul.address = emu.address
        disc = create_discovery(cfg, member("node-a"))
        with pytest.raises(ConnectionError, match=r"cluster\.discovery\.consul\.address"):
            await asyncio.wait_for(disc.start(), 10)
        cfg.discovery.consul.token = "sekrit"
        disc = create_discovery(cfg, member("node-a"))
        await asyncio.wait_for(disc.start(), 10)
        assert "node-a" in emu.services
        await disc.stop()
    finally:
        await emu.stop()
