"""gRPC-only behaviour of MeshNode on loopback (the shared contract is in test_transport_contract.py)."""

from __future__ import annotations

import asyncio

import pytest

from synctv.discovery import Member
from synctv.mesh import MeshError
from tests.support.mesh import MeshFactory, command, echoed, event_batch, wait_until

pytestmark = pytest.mark.timeout(30)


def member(node: object) -> Member:
    return Member(instance_id=node.instance_id, grpc_address=f"127.0.0.1:{node.bound_port}")  # type: ignore[attr-defined]


async def test_reconnect_after_peer_restart(mesh_factory: MeshFactory) -> None:
    a, ha = await mesh_factory("a")
    b, _hb = await mesh_factory("b")
    a.set_members([member(a), member(b)])
    b.set_members([member(a), member(b)])
    assert echoed(await a.command("b", command("r", "op1", b"1"), timeout=5)) == b"ok:b:1"
    port = b.bound_port
    await b.stop(0)
    await wait_until(lambda: "b" in ha.peer_downs)
    assert ha.peer_downs.count("b") == 1
    # Same id, same port, new process state.
    b2, hb2 = await mesh_factory("b", port=port)
    b2.set_members([member(a), member(b2)])
    # Commands during the outage fail or time out; once b is back the same link reconnects by itself.
    async def try_command() -> bytes:
        while True:
            try:
                return echoed(await a.command("b", command("r", "op2", b"2"), timeout=1))
            except (TimeoutError, MeshError):
                await asyncio.sleep(0.05)

    assert await asyncio.wait_for(try_command(), 10) == b"ok:b:2"
    a.send_events("b", event_batch("r", 1))
    await wait_until(lambda: len(hb2.events) == 1)
    assert a.stats.streams_up["b"] >= 2
