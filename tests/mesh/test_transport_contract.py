"""The mesh transport contract, run over both transports: real gRPC on loopback and the in-process one.

Whatever the transport: commands get exactly one reply with the receiver's code, events of one room arrive
in order and batched, replies never overtake events, queries and controls arrive, a departing peer fails
pending calls, a lost peer is reported once, and a peer of another protocol major version is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from synctv._generated import mesh_pb2 as pb
from synctv.mesh import MeshError, MeshNode
from synctv.mesh.core import MeshCore
from synctv.mesh.inprocess import InProcessNetwork
from synctv.mesh.version import PROTOCOL_MAJOR
from tests.support.mesh import CLUSTER_SECRET, RecordingHandler, command, echoed, event_batch, member_of, wait_until

pytestmark = pytest.mark.timeout(30)

Nodes = list[tuple[MeshCore, RecordingHandler]]
Make = Callable[..., Awaitable[Nodes]]


class OtherVersionNode(MeshNode):
    """A gRPC node that announces the next protocol major (what an instance of a future release would)."""

    def hello(self, grpc_address: str = "") -> pb.Hello:
        hello = super().hello(grpc_address)
        hello.protocol_major = PROTOCOL_MAJOR + 1
        return hello


@pytest.fixture(params=["grpc", "inprocess"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Make]:
    started: list[Any] = []
    net = InProcessNetwork()

    async def make_nodes(*names: str, other_version: frozenset[str] = frozenset()) -> Nodes:
        out: Nodes = []
        for name in names:
            handler = RecordingHandler(name)
            node: Any
            if request.param == "grpc":
                cls = OtherVersionNode if name in other_version else MeshNode
                node = cls(name, CLUSTER_SECRET, handler, listen="127.0.0.1", port=0)
            else:
                node = net.node(name, handler)
                if name in other_version:
                    node.protocol = (PROTOCOL_MAJOR + 1, 0)
            await node.start()
            started.append(node)
            out.append((node, handler))
        members = [member_of(n) for n, _ in out]
        for node, _ in out:
            node.set_members(members)
        return out

    yield make_nodes
    for node in reversed(started):
        await node.stop(0)


async def test_command_reply_codes_and_one_rtt_per_command(make: Make) -> None:
    [(a, _), (b, hb)] = await make("a", "b")
    assert echoed(await a.command("b", command("room1", "op1", b"play"), timeout=5)) == b"ok:b:play"
    assert [(p, c.room_id, c.op_id) for p, c in hb.commands] == [("a", "room1", "op1")]

    hb.owned, hb.redirect_to = {"room1"}, "a"
    reply = await a.command("b", command("room2", "op2", b"x"), timeout=5)
    assert (reply.code, reply.redirect_to) == (pb.NOT_OWNER, "a")

    reply = await a.command("b", command("room1", "op3", b"boom"), timeout=5)
    assert reply.code == pb.INTERNAL and reply.op_id == "op3"
    # The round trip is recorded once per command, by the mesh (the metric reads these).
    assert len(a.stats.command_rtt) == 3
    assert a.stats.sent[("b", "command")] == 3
    assert b.stats.received[("a", "command")] == 3


async def test_events_in_order_and_batched(make: Make) -> None:
    [(a, _), (b, hb)] = await make("a", "b")
    a.subscribe("b", "room", True)
    for i in range(2000):
        a.send_events("b", event_batch("room", i))
    await wait_until(lambda: len(hb.events) == 2000)
    assert [e.seq for _, _, e in hb.events] == list(range(2000))
    assert [bytes(e.delivery.frame) for _, _, e in hb.events[:3]] == [b"0", b"1", b"2"]
    assert hb.subscribes == [("a", "room", True)]
    # Many small sends were coalesced into fewer envelopes.
    assert b.stats.received[("a", "events")] < 2000


async def test_replies_do_not_overtake_events(make: Make) -> None:
    [(a, ha), (b, hb)] = await make("a", "b")
    seen_at_reply: list[int] = []

    async def owner_command(peer: str, cmd: pb.Command) -> pb.Reply:
        # The owner broadcasts the resulting event before replying; the sender must see the event first.
        b.send_events(peer, event_batch(cmd.room_id, int(cmd.op_id)))
        return pb.Reply()

    hb.handle_command = owner_command  # type: ignore[method-assign]
    for i in range(50):
        await a.command("b", command("room", str(i), b""), timeout=5)
        seen_at_reply.append(len(ha.events))
    assert seen_at_reply == list(range(1, 51))


async def test_queries_and_controls(make: Make) -> None:
    [(a, ha), (_, hb), (_, hc)] = await make("a", "b", "c")
    answer = await a.query("c", pb.Query(pull=pb.PullRoom(room_id="room9")), timeout=5)
    assert answer.snapshot.room_id == "room9" and list(answer.snapshot.subscribers) == ["c"]
    answer = await a.query("c", pb.Query(pull=pb.PullRoom(room_id="missing")), timeout=5)
    assert answer.code == pb.NOT_FOUND and answer.error == "no such room"
    control = pb.Control(invalidation=pb.Invalidation(kind=pb.INVALIDATE_USER, key="u1"))
    a.broadcast_control(control)
    await wait_until(lambda: all(h.controls == [("a", control)] for h in (hb, hc)))
    assert ha.controls == []


async def test_unknown_peer_times_out(make: Make) -> None:
    [(a, _)] = await make("a")
    with pytest.raises((TimeoutError, MeshError)):
        await a.command("ghost", command("r", "op", b""), timeout=0.3)


async def test_peer_leaving_membership_fails_pending(make: Make) -> None:
    [(a, _), (b, hb)] = await make("a", "b")
    block = asyncio.Event()

    async def slow(peer: str, cmd: pb.Command) -> pb.Reply:
        await block.wait()
        return pb.Reply()

    hb.handle_command = slow  # type: ignore[method-assign]
    task = asyncio.create_task(a.command("b", command("r", "op", b""), timeout=5))
    await wait_until(lambda: b.stats.received[("a", "command")] == 1)
    a.set_members([member_of(a)])
    with pytest.raises(MeshError, match="left"):
        await task
    block.set()


async def test_lost_peer_is_reported_once(make: Make) -> None:
    [(a, ha), (b, _)] = await make("a", "b")
    assert echoed(await a.command("b", command("r", "op", b"1"), timeout=5)) == b"ok:b:1"
    await b.stop(0)
    await wait_until(lambda: ha.peer_downs == ["b"])
    with pytest.raises((MeshError, TimeoutError)):
        await a.command("b", command("r", "op2", b""), timeout=0.3)
    assert ha.peer_downs == ["b"]


async def test_peer_of_another_protocol_major_is_refused(make: Make, caplog: pytest.LogCaptureFixture) -> None:
    [(a, ha), (b, hb)] = await make("a", "b", other_version=frozenset({"b"}))
    with pytest.raises((MeshError, TimeoutError)):
        await a.command("b", command("r", "op", b"x"), timeout=1.0)
    with pytest.raises((MeshError, TimeoutError)):
        await b.command("a", command("r", "op", b"x"), timeout=1.0)
    assert hb.commands == [] and ha.commands == []
    await wait_until(lambda: a.stats.protocol_mismatches >= 1)
    assert any("incompatible" in r.getMessage() for r in caplog.records)
