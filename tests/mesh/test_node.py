"""Two and three MeshNodes over real gRPC on loopback."""

from __future__ import annotations

import asyncio

import pytest

from synctv.discovery import Member
from synctv.mesh import MeshError, MeshEvent, NotOwner
from tests.support.mesh import MeshFactory, wait_until

pytestmark = pytest.mark.timeout(30)


def member(node: object) -> Member:
    return Member(instance_id=node.instance_id, grpc_address=f"127.0.0.1:{node.bound_port}")  # type: ignore[attr-defined]


async def test_command_roundtrip_and_redirect(mesh_factory: MeshFactory) -> None:
    a, _ha = await mesh_factory("a")
    b, hb = await mesh_factory("b")
    a.set_members([member(a), member(b)])
    b.set_members([member(a), member(b)])

    assert await a.command("b", "room1", "op1", b"play", timeout=5) == b"ok:b:play"
    assert hb.commands == [("a", "room1", "op1", b"play")]

    hb.owned, hb.redirect_to = {"room1"}, "a"
    with pytest.raises(NotOwner) as info:
        await a.command("b", "room2", "op2", b"x", timeout=5)
    assert info.value.owner == "a"

    with pytest.raises(MeshError, match="handler exploded"):
        await a.command("b", "room1", "op3", b"boom", timeout=5)
    assert len(a.stats.command_rtt) == 3
    assert a.stats.sent[("b", "command")] == 3
    assert b.stats.received[("a", "command")] == 3


async def test_reply_without_discovery_view_uses_hello_address(mesh_factory: MeshFactory) -> None:
    a, _ = await mesh_factory("a")
    b, _ = await mesh_factory("b")
    # b's view does not include a yet; a's Hello carries its address (listen 127.0.0.1 => advertised) so b
    # can still dial back with the reply.
    a.set_members([member(a), member(b)])
    assert a.advertise_address == f"127.0.0.1:{a.bound_port}"
    assert await a.command("b", "r", "op", b"p", timeout=5) == b"ok:b:p"


async def test_events_in_order_and_batched(mesh_factory: MeshFactory) -> None:
    a, _ = await mesh_factory("a")
    b, hb = await mesh_factory("b")
    a.set_members([member(a), member(b)])
    b.set_members([member(a), member(b)])
    a.subscribe("b", "room", True)
    for i in range(2000):
        a.send_events("b", "room", [MeshEvent(seq=i, server_ts_ms=1000 + i, payload=str(i).encode())])
        if i % 500 == 0:
            a.send_presence("b", "room", f"p{i}".encode())
    await wait_until(lambda: len(hb.events) == 2000)
    assert [e.seq for _, _, e in hb.events] == list(range(2000))
    assert hb.subscribes == [("a", "room", True)]
    assert [p for _, _, p in hb.presence] == [b"p0", b"p500", b"p1000", b"p1500"]
    # Many small sends were coalesced into fewer envelopes.
    assert b.stats.received[("a", "events")] < 2000


async def test_replies_do_not_overtake_events(mesh_factory: MeshFactory) -> None:
    a, ha = await mesh_factory("a")
    b, hb = await mesh_factory("b")
    a.set_members([member(a), member(b)])
    b.set_members([member(a), member(b)])
    seen_at_reply: list[int] = []

    async def owner_command(peer: str, room_id: str, op_id: str, payload: bytes) -> bytes:
        # The owner broadcasts the resulting event before replying; the sender must see the event first.
        b.send_events(peer, room_id, [MeshEvent(seq=int(payload), server_ts_ms=0, payload=payload)])
        return payload

    hb.handle_command = owner_command  # type: ignore[method-assign]
    for i in range(50):
        await a.command("b", "room", f"op{i}", str(i).encode(), timeout=5)
        seen_at_reply.append(len(ha.events))
    assert seen_at_reply == list(range(1, 51))


async def test_snapshot_and_control_broadcast(mesh_factory: MeshFactory) -> None:
    nodes = [await mesh_factory(name) for name in ("a", "b", "c")]
    members = [member(n) for n, _ in nodes]
    for n, _ in nodes:
        n.set_members(members)
    a = nodes[0][0]
    assert await a.snapshot("c", "room9", timeout=5) == b"snapshot:c:room9"
    with pytest.raises(MeshError, match="no such room"):
        await a.snapshot("c", "missing", timeout=5)
    a.broadcast_control("invalidate", b"user:1")
    await wait_until(lambda: all(h.controls == [("a", "invalidate", b"user:1")] for _, h in nodes[1:]))
    assert nodes[0][1].controls == []


async def test_unknown_peer_times_out(mesh_factory: MeshFactory) -> None:
    a, _ = await mesh_factory("a")
    with pytest.raises(asyncio.TimeoutError):
        await a.command("ghost", "r", "op", b"", timeout=0.3)


async def test_reconnect_after_peer_restart(mesh_factory: MeshFactory) -> None:
    a, ha = await mesh_factory("a")
    b, _hb = await mesh_factory("b")
    a.set_members([member(a), member(b)])
    b.set_members([member(a), member(b)])
    assert await a.command("b", "r", "op1", b"1", timeout=5) == b"ok:b:1"
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
                return await a.command("b", "r", "op2", b"2", timeout=1)
            except (TimeoutError, MeshError):
                await asyncio.sleep(0.05)

    assert await asyncio.wait_for(try_command(), 10) == b"ok:b:2"
    a.send_events("b", "r", [MeshEvent(1, 1, b"e")])
    await wait_until(lambda: len(hb2.events) == 1)
    assert a.stats.streams_up["b"] >= 2


async def test_peer_leaving_membership_fails_pending(mesh_factory: MeshFactory) -> None:
    a, _ = await mesh_factory("a")
    b, hb = await mesh_factory("b")
    a.set_members([member(a), member(b)])
    b.set_members([member(a), member(b)])
    block = asyncio.Event()

    async def slow(peer: str, room_id: str, op_id: str, payload: bytes) -> bytes:
        await block.wait()
        return b""

    hb.handle_command = slow  # type: ignore[method-assign]
    task = asyncio.create_task(a.command("b", "r", "op", b"", timeout=5))
    await wait_until(lambda: b.stats.received[("a", "command")] == 1)
    a.set_members([member(a)])
    with pytest.raises(MeshError, match="left"):
        await task
    block.set()
