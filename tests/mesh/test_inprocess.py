"""The in-process transport: same API and ordering guarantees as the gRPC mesh, no sockets."""

from __future__ import annotations

import pytest

from synctv.discovery import Member
from synctv.mesh import MeshError, MeshEvent, NotOwner
from synctv.mesh.inprocess import InProcessNetwork, InProcessNode
from tests.support.mesh import RecordingHandler, wait_until

pytestmark = pytest.mark.timeout(10)


async def cluster(*names: str) -> tuple[InProcessNetwork, list[tuple[InProcessNode, RecordingHandler]]]:
    net = InProcessNetwork()
    out = []
    for name in names:
        handler = RecordingHandler(name)
        node = net.node(name, handler)
        await node.start()
        out.append((node, handler))
    members = [Member(n) for n in names]
    for node, _ in out:
        node.set_members(members)
    return net, out


async def test_command_events_snapshot_control() -> None:
    _, [(a, ha), (b, hb), (c, hc)] = await cluster("a", "b", "c")
    assert await a.command("b", "r", "op", b"x", timeout=1) == b"ok:b:x"
    hb.owned, hb.redirect_to = set(), "c"
    with pytest.raises(NotOwner) as info:
        await a.command("b", "r", "op2", b"x", timeout=1)
    assert info.value.owner == "c"
    for i in range(100):
        b.send_events("a", "r", [MeshEvent(i, i, b"")])
    await wait_until(lambda: len(ha.events) == 100)
    assert [e.seq for _, _, e in ha.events] == list(range(100))
    assert await a.snapshot("c", "r", timeout=1) == b"snapshot:c:r"
    a.broadcast_control("flush", b"1")
    await wait_until(lambda: hb.controls and hc.controls)
    a.send_presence("c", "r", b"p")
    c.subscribe("a", "r", True)
    await wait_until(lambda: hc.presence == [("a", "r", b"p")] and ha.subscribes == [("c", "r", True)])


async def test_crash_notifies_peers_and_fails_pending() -> None:
    net, [(a, ha), _] = await cluster("a", "b")
    assert await a.command("b", "r", "op", b"", timeout=1)
    await net.crash("b")
    await wait_until(lambda: ha.peer_downs == ["b"])
    with pytest.raises((MeshError, TimeoutError)):
        await a.command("b", "r", "op2", b"", timeout=0.3)
