"""gRPC-only behaviour of MeshNode on loopback (the shared contract is in test_transport_contract.py)."""

from __future__ import annotations

import asyncio

import pytest

from synctv.mesh import MeshError
from tests.support.mesh import MeshFactory, command, echoed, event_batch, member_of, wait_until

pytestmark = pytest.mark.timeout(30)


async def test_reconnect_after_peer_restart(mesh_factory: MeshFactory) -> None:
    a, ha = await mesh_factory("a")
    b, _hb = await mesh_factory("b")
    a.set_members([member_of(a), member_of(b)])
    b.set_members([member_of(a), member_of(b)])
    assert echoed(await a.command("b", command("r", "op1", b"1"), timeout=5)) == b"ok:b:1"
    port = b.bound_port
    await b.stop(0)
    await wait_until(lambda: "b" in ha.peer_downs)
    assert ha.peer_downs.count("b") == 1
    # Same id, same port, new process state.
    b2, hb2 = await mesh_factory("b", port=port)
    b2.set_members([member_of(a), member_of(b2)])
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


async def test_a_graceful_stop_is_logged_as_a_leave_a_lost_stream_as_a_loss(
        mesh_factory: MeshFactory, caplog: pytest.LogCaptureFixture) -> None:
    a, ha = await mesh_factory("a")
    b, _ = await mesh_factory("b")
    c, _ = await mesh_factory("c")
    for node in (a, b, c):
        node.set_members([member_of(a), member_of(b), member_of(c)])
    for peer in ("b", "c"):
        assert echoed(await a.command(peer, command("r", "op-" + peer, b"1"), timeout=5)) == b"ok:%s:1" % peer.encode()
    caplog.set_level("INFO", logger="synctv.mesh")
    # b stops before a's discovery view drops it (what a slow watch looks like): its goodbye makes it a leave.
    await b.stop(0)
    await wait_until(lambda: "b" in ha.peer_downs)
    about_b = [r for r in caplog.records if "'b'" in r.getMessage()]
    assert any("stopping gracefully" in r.getMessage() for r in about_b), about_b
    assert any("left the cluster" in r.getMessage() for r in about_b), about_b
    assert all(r.levelname == "INFO" for r in about_b), [(r.levelname, r.getMessage()) for r in about_b]
    # c's process dies without a word: a loss, named as such.
    await c.stop(0, goodbye=False)
    await wait_until(lambda: "c" in ha.peer_downs)
    about_c = [r for r in caplog.records if "'c'" in r.getMessage()]
    assert [r.levelname for r in about_c if "down or unreachable" in r.getMessage()] == ["WARNING"], about_c
