"""In-process twins of the multi-process cluster tests: routing, redirect, handoff, gap resync, fencing and an
owner crash, with real routers, actors, hubs and SQLite over the in-process mesh, in one event loop.

The multi-process suite (`tests/cluster/`) runs the same scenarios over gRPC, etcd and real processes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from synctv._generated import mesh_pb2 as pb
from synctv.core import commands as c
from synctv.core import ownership as own
from synctv.core.errors import ErrorCode
from synctv.core.playback import Status
from synctv.core.room import MsgType, WsMessage
from tests.support.inprocess_cluster import InProcessCluster
from tests.support.mesh import wait_until

pytestmark = pytest.mark.timeout(20)


def status(playing: bool, at: float) -> WsMessage:
    return WsMessage(MsgType.STATUS, timestamp=time.time_ns() // 1_000_000,
                     status=Status(is_playing=playing, current_time=at, playback_rate=1.0))


def chat(text: str) -> WsMessage:
    return WsMessage(MsgType.CHAT, chat_content=text)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2", "n3")
    yield cl
    await cl.stop()


async def test_routing_inprocess(cluster: InProcessCluster) -> None:
    """A command sent at any instance is applied by the owner; viewers everywhere see events in one order."""
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    watchers = [await cluster.viewer(n, room_id, f"watcher-{n}") for n in ("n1", "n2", "n3")]
    for i in range(20):
        reply = await sender.send(chat(f"m{i}"))
        assert reply.error is None, reply.error
    print("REPLY", reply)
    for w in watchers:
        await wait_until(lambda w=w: len(w.of_type(MsgType.CHAT)) == 20)  # type: ignore[misc]
        assert [m.chat_content for m in w.of_type(MsgType.CHAT)] == [f"m{i}" for i in range(20)]
    n1, n2 = cluster.nodes["n1"].router, cluster.nodes["n2"].router
    assert n1.owned_rooms() == [room_id] and n2.owned_rooms() == []
    assert n2.remote_commands >= 20
    # Presence is aggregated by the owner: 4 distinct users on 3 instances.
    assert (await n2.state(room_id)).viewer_count == 4


async def test_redirect_inprocess(cluster: InProcessCluster) -> None:
    """Views disagree for a moment: n2 is leaving and has handed the room to n3, but n1 still has n2 in its
    ring. n2 answers NOT_OWNER naming n3; the command follows with the same op id and is applied once, at n3."""
    for _ in range(200):
        room_id, creator = await cluster.room_owned_by("n2")
        if await _ring_owner(("n1", "n3"), room_id) == "n3":
            break
    sender = await cluster.viewer("n1", room_id, creator.username)
    assert (await sender.send(status(False, 5.0))).error is None
    assert cluster.nodes["n2"].router.owned_rooms() == [room_id]
    await cluster.nodes["n2"].router.begin_leave(timeout=5)
    assert cluster.nodes["n3"].router.owned_rooms() == [room_id]
    assert cluster.nodes["n1"].router.owner(room_id) == "n2"  # n1 has not heard of the leave yet
    replies_before = cluster.nodes["n2"].mesh.stats.sent[("n1", "reply")]
    reply = await sender.send(status(True, 42.0))
    assert reply.error is None, reply.error
    print("REPLY", reply)
    assert cluster.nodes["n2"].mesh.stats.sent[("n1", "reply")] == replies_before + 1  # the redirect
    assert cluster.nodes["n2"].router.owned_rooms() == [] and cluster.nodes["n1"].router.owned_rooms() == []
    assert (await cluster.saved_status(room_id))["currentTime"] == pytest.approx(42.0, abs=0.5)


@pytest.mark.parametrize("reason", ["membership", "lease"])
async def test_a_command_for_an_owner_that_may_not_own_for_a_moment(cluster: InProcessCluster, reason: str) -> None:
    """The ring's owner is up but may not own for a moment. Still authenticating with the cluster (after a
    restart), it holds a peer's command until it may and answers it once; fenced for another reason, it refuses
    at once and the sender asks again. Either way the command is applied once."""
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    assert (await sender.send(status(False, 5.0))).error is None
    owner = cluster.nodes["n1"].router
    owner.set_can_own(False, reason)
    assert owner.owned_rooms() == []
    asyncio.get_running_loop().call_later(0.3, owner.set_can_own, True, reason)
    replies_before = cluster.nodes["n1"].mesh.stats.sent[("n2", "reply")]
    reply = await sender.send(status(True, 42.0))
    assert reply.error is None, reply.error
    answers = cluster.nodes["n1"].mesh.stats.sent[("n2", "reply")] - replies_before
    assert answers == 1 if reason == "membership" else answers > 1
    assert owner.owned_rooms() == [room_id]
    assert (await cluster.saved_status(room_id))["currentTime"] == pytest.approx(42.0, abs=0.5)


async def test_viewers_elsewhere_keep_every_event_when_the_owner_reloads_the_room(cluster: InProcessCluster) -> None:
    """The owner fences itself for a moment (a lease blip) and loads the room again from the database: the
    events it publishes then reach the viewers on other instances, which follow the same instance throughout."""
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    watcher = await cluster.viewer("n3", room_id, "watcher")
    for text in ("one", "two", "three"):
        assert (await sender.send(chat(text))).error is None
    owner = cluster.nodes["n1"].router
    owner.set_can_own(False, "lease")
    owner.set_can_own(True, "lease")
    assert (await sender.send(chat("reloaded"))).error is None
    assert owner.owned_rooms() == [room_id]
    for v in (sender, watcher):
        await wait_until(lambda v=v: len(v.of_type(MsgType.CHAT)) == 4)  # type: ignore[misc]
        assert [m.chat_content for m in v.of_type(MsgType.CHAT)] == ["one", "two", "three", "reloaded"]


async def test_a_room_pushed_to_an_instance_still_authenticating_moves_with_its_state(tmp_path: Path) -> None:
    """A rejoining instance gets its rooms back while its mesh handshakes finish: it takes each pushed room with
    its state and sequence instead of refusing it (which made the room reload from the database)."""
    cluster = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        await cluster.add("n3")
        room_id, creator = await cluster.room_owned_by("n3", among=("n1", "n2", "n3"))
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        cluster.set_view("n1", "n2", "n3", on=("n3",))
        first = cluster.nodes["n1"].router.placement.owner(room_id)
        sender = await cluster.viewer("n1", room_id, creator.username)
        far = await cluster.viewer("n2", room_id, "far")
        assert (await sender.send(status(True, 30.0))).error is None
        assert (await sender.send(chat("before"))).error is None
        joining = cluster.nodes["n3"].router
        joining.set_can_own(False, "membership")
        asyncio.get_running_loop().call_later(0.3, joining.set_can_own, True, "membership")
        cluster.set_view("n1", "n2", "n3", on=("n1", "n2"))
        await wait_until(lambda: joining.owned_rooms() == [room_id] and bool(cluster.nodes[first].router.handoffs))
        assert cluster.nodes[first].router.handoffs == {"pushed": 1}  # answered when the adopted room is loaded
        assert (await sender.send(chat("after"))).error is None
        await wait_until(lambda: [m.chat_content for m in far.of_type(MsgType.CHAT)] == ["before", "after"])
        state = await joining.state(room_id)
        assert state.current.status.is_playing and state.current.status.current_time >= 30.0
        assert len(far.of_type(MsgType.STATUS)) == 1  # no gap, so no resync
    finally:
        await cluster.stop()


async def _ring_owner(ids: tuple[str, ...], room_id: str) -> str:
    from synctv.mesh import Ring

    return Ring(ids).owner(room_id)


async def test_handoff_inprocess(tmp_path: Path) -> None:
    """A joining instance takes its rooms with their state, sequence and viewers; a leaving one hands its
    rooms on. No event is lost, no viewer is told to resync."""
    cluster = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        await cluster.add("n3")
        room_id, creator = await cluster.room_owned_by("n3", among=("n1", "n2", "n3"))
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        cluster.set_view("n3", on=("n3",))
        first = cluster.nodes["n1"].router.placement.owner(room_id)
        sender = await cluster.viewer("n1", room_id, creator.username)
        far = await cluster.viewer("n2", room_id, "far")
        assert (await sender.send(status(True, 30.0))).error is None
        assert (await sender.send(chat("before"))).error is None
        assert cluster.nodes[first].router.owned_rooms() == [room_id]

        cluster.set_view("n1", "n2", "n3")  # n3 joins: the room moves to it
        await wait_until(lambda: cluster.nodes["n3"].router.owned_rooms() == [room_id])
        assert (await sender.send(chat("after"))).error is None
        await wait_until(lambda: [m.chat_content for m in far.of_type(MsgType.CHAT)] == ["before", "after"])
        moved = cluster.nodes["n3"].router
        assert moved.handoffs.get("pulled", 0) + cluster.nodes[first].router.handoffs.get("pushed", 0) >= 1
        state = await moved.state(room_id)
        assert state.current.status.is_playing and state.current.status.current_time >= 30.0
        assert state.viewer_count == 2
        # The sequence continued across owners: the edges saw no gap (a gap would send them a STATUS resync).
        assert len(far.of_type(MsgType.STATUS)) == 1

        await moved.begin_leave(timeout=5)  # n3 leaves gracefully: the room goes back
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        await wait_until(lambda: cluster.nodes[first].router.owned_rooms() == [room_id])
        assert (await sender.send(chat("back"))).error is None
        await wait_until(lambda: far.of_type(MsgType.CHAT)[-1].chat_content == "back")
        assert [m.chat_content for m in far.of_type(MsgType.CHAT)] == ["before", "after", "back"]
        assert moved.ownership.phase(room_id) is own.Phase.HANDED_OFF
    finally:
        await cluster.stop()


async def test_gap_resync_inprocess(cluster: InProcessCluster) -> None:
    """An edge that misses events (a lost batch) brings its viewers back with the owner's STATUS."""
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n1", room_id, creator.username)
    far = await cluster.viewer("n2", room_id, "far")
    assert (await sender.send(status(True, 12.0))).error is None
    await wait_until(lambda: len(far.of_type(MsgType.STATUS)) == 1)
    edge = cluster.nodes["n2"].router
    owner = cluster.nodes["n1"].router
    seq = owner.local_actor(room_id).seq  # type: ignore[union-attr]
    lost = pb.EventBatch(room_id=room_id)
    lost.events.add(seq=seq + 5, server_ts_ms=1).delivery.frame = b""  # the events in between never came
    edge.receive_events("n1", lost)
    await wait_until(lambda: len(far.of_type(MsgType.STATUS)) == 2)
    resync = far.of_type(MsgType.STATUS)[-1]
    assert resync.status is not None and resync.status.is_playing and resync.status.current_time >= 12.0


async def test_fencing_inprocess(tmp_path: Path) -> None:
    """Two instances that both believe they own a room: the later owner's epoch fences the earlier one,
    which stops its actor, holds off, and answers "try again" instead of writing."""
    cluster = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        room_id, creator = await cluster.make_room()
        cluster.set_view("n1", on=("n1",))
        cluster.set_view("n2", on=("n2",))
        a = await cluster.viewer("n1", room_id, creator.username)
        assert (await a.send(status(True, 10.0))).error is None
        b = await cluster.viewer("n2", room_id, creator.username)
        assert (await b.send(status(False, 20.0))).error is None  # n2 took the room over (higher epoch)
        fenced = await a.send(status(True, 99.0))
        assert fenced.error is not None and fenced.code.transient, fenced.error
        n1 = cluster.nodes["n1"].router
        assert n1.fence_rejections == 1 and n1.owned_rooms() == []
        assert n1.ownership.phase(room_id) is own.Phase.FENCED
        again = await a.send(status(True, 99.0))
        assert again.error is not None and again.code is ErrorCode.UNAVAILABLE
        saved = await cluster.saved_status(room_id)
        assert saved["currentTime"] == pytest.approx(20.0) and saved["isPlaying"] is False
        assert cluster.nodes["n2"].router.fence_rejections == 0
    finally:
        await cluster.stop()


async def test_owner_crash_inprocess(cluster: InProcessCluster) -> None:
    """The owner dies without goodbye: once the others drop it from their view, the new owner loads the
    room from the database with what was acknowledged."""
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    assert (await sender.send(status(False, 33.0))).error is None
    await cluster.crash("n1")
    cluster.set_view("n2", "n3")
    reply = await sender.send(chat("still here"))
    assert reply.error is None, reply.error
    print("REPLY", reply)
    owner = cluster.nodes["n2"].router.owner(room_id)
    state = await cluster.nodes[owner].router.state(room_id)
    assert state.current.status.current_time == pytest.approx(33.0) and not state.current.status.is_playing


async def test_unknown_room_is_not_found_everywhere(cluster: InProcessCluster) -> None:
    for name in ("n1", "n2", "n3"):
        reply = await cluster.nodes[name].router.submit("f" * 32, c.GetState())
        assert reply.code is ErrorCode.NOT_FOUND, (name, reply)


async def test_each_remote_command_round_trip_is_recorded_once(cluster: InProcessCluster) -> None:
    """`synctv_mesh_command_duration_seconds` observes through the mesh's RTT hooks: one per command."""
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    edge = cluster.nodes["n2"]
    observed: list[tuple[str, float]] = []
    edge.mesh.stats.rtt_hooks.append(lambda peer, seconds: observed.append((peer, seconds)))
    before = edge.router.remote_commands
    for i in range(10):
        assert (await sender.send(chat(f"x{i}"))).error is None
    await asyncio.sleep(0.05)  # the edge's own presence announcement may still be on its way
    sent = edge.router.remote_commands - before
    assert sent >= 10 and len(observed) == sent and {p for p, _ in observed} == {"n1"}


async def test_bad_mesh_input_gets_a_code_and_changes_nothing(cluster: InProcessCluster) -> None:
    """A peer's malformed command or query is answered with INVALID (or MALFORMED for a client frame that is
    not a protobuf Message); the owner keeps serving."""
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    mesh = cluster.nodes["n2"].mesh
    empty = await mesh.command("n1", pb.Command(room_id=room_id, op_id="x1"), timeout=2)
    assert empty.code == pb.INVALID and "unknown room command" in empty.error
    bad_kind = pb.Command(room_id=room_id, op_id="x2")
    bad_kind.body.invalidate.what = 42  # type: ignore[assignment]
    assert (await mesh.command("n1", bad_kind, timeout=2)).code == pb.INVALID
    garbage = pb.Command(room_id=room_id, op_id="x3")
    garbage.body.client_frame.frame = b"\xff\xff\xff"
    garbage.body.client_frame.user.user_id = creator.user_id
    assert (await mesh.command("n1", garbage, timeout=2)).code == pb.MALFORMED
    unknown = await mesh.query("n1", pb.Query(), timeout=2)
    assert unknown.code == pb.INVALID
    assert (await sender.send(chat("still fine"))).error is None


async def test_only_the_entitled_instance_moves_or_closes_a_room(cluster: InProcessCluster) -> None:
    """A member that the ring does not name can neither pull a room, push one in, nor close it."""
    room_id, creator = await cluster.room_owned_by("n1")
    viewer = await cluster.viewer("n1", room_id, creator.username)
    assert (await viewer.send(status(True, 7.0))).error is None
    intruder = cluster.nodes["n3"].mesh
    pulled = await intruder.query("n1", pb.Query(pull=pb.PullRoom(room_id=room_id)), timeout=2)
    assert pulled.code == pb.DENIED
    fake = pb.RoomSnapshot(room_id=room_id, seq=999)
    fake.current.status.current_time = 123.0
    pushed = await intruder.query("n2", pb.Query(adopt=pb.AdoptRoom(snapshot=fake)), timeout=2)
    assert pushed.code == pb.DENIED and cluster.nodes["n2"].router.owned_rooms() == []
    closed = await intruder.query("n1", pb.Query(control=pb.Control(room_closed=pb.RoomClosed(room_id=room_id))),
                                  timeout=2)
    assert closed.code == pb.DENIED
    intruder.send_control("n1", pb.Control(room_closed=pb.RoomClosed(room_id=room_id)))
    await asyncio.sleep(0.1)
    assert cluster.nodes["n1"].router.owned_rooms() == [room_id] and not viewer.conn.closed.is_set()
    assert (await cluster.nodes["n1"].router.state(room_id)).current.status.current_time >= 7.0
    # The owner itself may: a close sent from any instance goes to the owner, which kicks everyone.
    far = await cluster.viewer("n3", room_id, "far")
    await cluster.nodes["n2"].router.close_room(room_id, "room deleted")
    await wait_until(lambda: viewer.conn.closed.is_set() and far.conn.closed.is_set())
    assert cluster.nodes["n1"].router.owned_rooms() == []


async def test_a_room_whose_actor_stopped_on_its_own_loads_again(cluster: InProcessCluster) -> None:
    """A closed room's actor stops itself; a later command (the room reopened) must load it again here."""
    room_id, creator = await cluster.room_owned_by("n1")
    router = cluster.nodes["n1"].router
    viewer = await cluster.viewer("n1", room_id, creator.username)
    assert (await viewer.send(status(True, 3.0))).error is None
    actor = router.local_actor(room_id)
    assert actor is not None
    assert (await actor.submit(c.CloseRoom("banned"))).error is None  # the actor alone, as a race would leave it
    assert router.local_actor(room_id) is None and router.ownership.phase(room_id) is own.Phase.OWNED
    reply = await router.submit(room_id, c.GetState())
    assert reply.error is None, reply.error
    print("REPLY", reply)
    assert router.ownership.phase(room_id) is own.Phase.OWNED and router.local_actor(room_id) is not None


async def _leave(viewer: object) -> None:
    """What the WebSocket endpoint does when a socket closes: unregister, then announce the new count."""
    v: Any = viewer
    v.node.hub.unregister(v.conn)
    assert (await v.node.router.announce(v.conn.room_id, v.user.user_id)).error is None


async def test_hot_rooms_count_only_who_is_still_watching_cluster_wide(tmp_path: Path) -> None:
    """"Popular now" is the owner's count, asked from any instance: viewers who left stop counting at once, and an
    instance that handed a room on (its count frozen at the handoff) is never believed over the new owner."""
    cluster = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        await cluster.add("n3")
        room_id, _ = await cluster.room_owned_by("n3", among=("n1", "n2", "n3"))
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        cluster.set_view("n3", on=("n3",))
        first = cluster.nodes["n1"].router.placement.owner(room_id)
        viewers = [await cluster.viewer(n, room_id, f"v{i}") for i, n in enumerate(("n1", "n2", "n2"))]
        for n in ("n1", "n2"):
            assert dict(await cluster.nodes[n].router.hot_rooms()) == {room_id: 3}

        cluster.set_view("n1", "n2", "n3")  # n3 joins and takes the room over
        await wait_until(lambda: cluster.nodes["n3"].router.owned_rooms() == [room_id])
        await _leave(viewers[0])
        await _leave(viewers[1])
        for n in ("n1", "n2", "n3"):
            hot = dict(await cluster.nodes[n].router.hot_rooms())
            assert hot == {room_id: 1}, (n, hot, first)
        await _leave(viewers[2])
        for n in ("n1", "n2", "n3"):
            assert dict(await cluster.nodes[n].router.hot_rooms()) == {}, n
    finally:
        await cluster.stop()
