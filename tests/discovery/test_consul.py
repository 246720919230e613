"""consul discovery against the in-repo Consul HTTP API emulation (tests/support/consul_emulator.py), with the
mesh on mutual TLS: every member is a real mesh endpoint, and the emulated agent dials its gRPC check with the
TLS settings the backend registered (GRPCUseTLS, TLSServerName) and its own certificate."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from synctv.config import ClusterConfig
from synctv.discovery import Member, create_discovery
from synctv.discovery.consul import ConsulDiscovery
from synctv.mesh import MeshNode
from tests.support.consul_emulator import AgentTls, ConsulEmulator
from tests.support.discovery_scenarios import (
    member,
    scenario_crash_expires,
    scenario_join_and_graceful_leave,
    scenario_outage,
)
from tests.support.mesh import CLUSTER_SECRET, RecordingHandler, wait_until
from tests.support.pki import make_pki

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")]

TTL = 2.0


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, str]:
    return make_pki(tmp_path / "pki")


@pytest.fixture
async def consul_emulator(pki: dict[str, str]) -> AsyncIterator[ConsulEmulator]:
    """An agent that verifies the mesh CA and presents its own certificate to checks (mutual TLS)."""
    emu = ConsulEmulator(agent_tls=AgentTls(pki["tls_ca_path"], pki["tls_cert_path"], pki["tls_key_path"]),
                         reap_scale=0.05)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


class Maker:
    """make(instance_id): a Consul discovery for a real mesh endpoint on mutual TLS."""

    def __init__(self, emulator: ConsulEmulator, pki: dict[str, str]) -> None:
        self.emulator = emulator
        self.pki = pki
        self.made: list[ConsulDiscovery] = []
        self.meshes: dict[str, MeshNode] = {}
        self.use_tls_in_check = True

    async def mesh(self, instance_id: str) -> MeshNode:
        node = MeshNode(instance_id, CLUSTER_SECRET, RecordingHandler(instance_id), listen="127.0.0.1", port=0,
                        tls_server_name="localhost", **self.pki)
        await node.start()
        self.meshes[instance_id] = node
        return node

    def __call__(self, instance_id: str, token: str = "") -> ConsulDiscovery:
        node = self.meshes[instance_id]
        cfg = ClusterConfig()
        cfg.discovery.type = "consul"
        cfg.discovery.ttl = f"{TTL}s"
        cfg.discovery.consul.address = self.emulator.address
        cfg.discovery.consul.service_name = "synctv-test"
        cfg.discovery.consul.token = token
        if self.use_tls_in_check:
            cfg.grpc.tls_cert_path, cfg.grpc.tls_key_path = self.pki["tls_cert_path"], self.pki["tls_key_path"]
            cfg.grpc.tls_ca_path, cfg.grpc.tls_server_name = self.pki["tls_ca_path"], "localhost"
        base = member(instance_id)
        me = Member(instance_id, http_address=base.http_address, grpc_address=f"127.0.0.1:{node.bound_port}",
                    version=base.version, started_at_ms=base.started_at_ms, meta=base.meta)
        disc = create_discovery(cfg, me)
        assert isinstance(disc, ConsulDiscovery)
        disc.grpc_check_interval = "0.2s"
        self.made.append(disc)
        return disc


@pytest.fixture
async def maker(consul_emulator: ConsulEmulator, pki: dict[str, str]) -> AsyncIterator[Maker]:
    made = Maker(consul_emulator, pki)
    for name in ("node-a", "node-b", "node-c"):
        await made.mesh(name)
    yield made
    for disc in made.made:
        for task in disc._tasks:
            task.cancel()
    for node in made.meshes.values():
        await node.stop(0)


@pytest.fixture
def make(maker: Maker) -> Maker:
    return maker


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


# -- the emulation's unfriendly behaviours, one test each -----------------------------------------------------


async def test_the_grpc_check_is_dialled_with_the_registered_tls_settings(maker: Maker,
                                                                          consul_emulator: ConsulEmulator) -> None:
    """Registered without GRPCUseTLS against a TLS mesh, the agent's plaintext dial fails: the instance stays
    critical and is nobody's member, though its TTL check passes."""
    a = maker("node-a")
    await a.start()
    maker.use_tls_in_check = False
    b = maker("node-b")
    await b.start()
    check = consul_emulator.checks["node-b:grpc"]
    assert not check.use_tls
    await wait_until(lambda: consul_emulator.probes >= 6, timeout=5)
    assert check.status == "critical" and consul_emulator.checks["node-b:ttl"].status == "passing"
    assert [m.instance_id for m in a.members()] == ["node-a"]
    tls_check = consul_emulator.checks["node-a:grpc"]
    assert tls_check.use_tls and tls_check.tls_server_name == "localhost" and tls_check.status == "passing"
    await b.stop()
    await a.stop()


async def test_mutual_tls_needs_the_agent_certificate(pki: dict[str, str], maker: Maker) -> None:
    """An agent with the CA but no certificate of its own cannot complete the mTLS handshake: critical."""
    emu = ConsulEmulator(agent_tls=AgentTls(pki["tls_ca_path"]))
    await emu.start()
    try:
        maker.emulator = emu
        a = maker("node-a")
        await a.start()
        await wait_until(lambda: emu.probes >= 3, timeout=5)
        assert emu.checks["node-a:grpc"].status == "critical"
        assert a.resolve is not None and await a.resolve("synctv-test") == []
        await a.stop()
    finally:
        await emu.stop()


async def test_a_wedged_instance_goes_critical_and_is_reaped(maker: Maker, consul_emulator: ConsulEmulator) -> None:
    """Its mesh answers NOT_SERVING: the gRPC check turns critical, the others drop it, and after
    DeregisterCriticalServiceAfter (1m, scaled to 3 s here) the agent removes the service; once it serves again
    the backend notices it is unknown to the agent and registers again."""
    a, b = maker("node-a"), maker("node-b")
    await a.start()
    await b.start()
    await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a", "node-b"], timeout=5)
    mesh_b = maker.meshes["node-b"]
    mesh_b.set_serving(False)
    await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a"], timeout=3)
    await wait_until(lambda: "node-b" in consul_emulator.reaped, timeout=6)
    assert "node-b" not in consul_emulator.services
    mesh_b.set_serving(True)
    await wait_until(lambda: "node-b" in consul_emulator.services, timeout=TTL + 2)
    await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a", "node-b"], timeout=5)
    await b.stop()
    await a.stop()


async def test_an_acl_filtered_read_is_not_a_membership(pki: dict[str, str], maker: Maker) -> None:
    """Consul answers a read the token may not fully make with 200, the entries left out, and
    X-Consul-Results-Filtered-By-ACLs: the backend refuses to start on it, and later keeps its last view and
    reports itself unhealthy rather than believing it is alone."""
    emu = ConsulEmulator(agent_tls=AgentTls(pki["tls_ca_path"], pki["tls_cert_path"], pki["tls_key_path"]),
                         acl={"full": {"synctv-test"}, "no-node-read": set()})
    await emu.start()
    try:
        maker.emulator = emu
        blind = maker("node-a", token="no-node-read")
        with pytest.raises(ConnectionError, match=r"cluster\.discovery\.consul\.token: .*filtered by ACLs"):
            await asyncio.wait_for(blind.start(), 10)
        a, b = maker("node-a", token="full"), maker("node-b", token="full")
        await a.start()
        await b.start()
        await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a", "node-b"], timeout=5)
        emu.acl["full"] = set()  # the policy loses its read rules
        await wait_until(lambda: a.acl_filtered and not a.healthy, timeout=15)
        assert [m.instance_id for m in a.members()] == ["node-a", "node-b"]
        emu.acl["full"] = {"synctv-test"}
        await wait_until(lambda: a.healthy and not a.acl_filtered, timeout=15)
        await b.stop()
        await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a"], timeout=3)
        await a.stop()
    finally:
        await emu.stop()


async def test_an_index_that_goes_backwards_restarts_the_watch(maker: Maker, consul_emulator: ConsulEmulator
                                                               ) -> None:
    """The agent lost its state: its index is now below the one the backend waits on. The blocking query
    returns after its wait (plus Consul's jitter) with the lower index, the backend reads afresh, and a join
    made after the reset is seen; the backend never turns unhealthy for it."""
    from synctv.discovery import consul as consul_backend

    assert consul_emulator.jitter
    a = maker("node-a")
    await a.start()
    for _ in range(5):  # drive the index well above 1
        await consul_emulator._bump()
    await asyncio.sleep(0.3)
    consul_emulator.reset_index()
    b = maker("node-b")
    # Registering bumps the reset index to 2 or 3: still below the one node-a waits on.
    await b.start()
    started = asyncio.get_running_loop().time()
    health: list[bool] = []
    a.on_health_change(health.append)
    await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a", "node-b"],
                     timeout=consul_backend.BLOCKING_WAIT_S * 17 / 16 + 5)
    waited = asyncio.get_running_loop().time() - started
    assert health == [] and a.healthy
    assert waited > 1.0  # it was seen only once the wait on the old index ended
    await b.stop()
    await wait_until(lambda: [m.instance_id for m in a.members()] == ["node-a"], timeout=3)
    await a.stop()
