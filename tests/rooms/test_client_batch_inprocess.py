"""A connection's messages that waited for the previous command travel as one command: applied at the owner in
order, as if one by one, committed with one write; each message's answers and refusals come back in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synctv.core import commands as c
from synctv.core import playback
from synctv.core.errors import ErrorCode
from synctv.core.room import MsgType, WsMessage
from synctv.mesh.core import BATCH_MINOR
from synctv.mesh.version import PROTOCOL_MAJOR
from synctv.rooms import frames
from tests.support.inprocess_cluster import InProcessCluster, Viewer
from tests.support.mesh import wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    yield cl
    await cl.stop()


def _chat(text: str) -> bytes:
    return frames.encode(WsMessage(MsgType.CHAT, chat_content=text))


def _seek(position: float) -> bytes:
    return frames.encode(WsMessage(MsgType.STATUS, timestamp=1, status=playback.Status(
        is_playing=False, current_time=position, playback_rate=1.0)))


async def _send_batch(viewer: Viewer, *data: bytes) -> c.Reply:
    first, *more = data
    return await viewer.node.router.submit(viewer.conn.room_id, c.ClientFrame(
        viewer.user, viewer.conn.conn_id, first, more=tuple(more)))


async def test_a_batch_through_a_remote_owner_applies_in_order_with_one_write(
        cluster: InProcessCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    room_id, creator = await cluster.room_owned_by("n1")
    watcher = await cluster.viewer("n1", room_id, "watcher")
    sender = await cluster.viewer("n2", room_id, creator.username)
    writes: list[str] = []
    save = cluster.store.rooms.save_current

    async def counted(room: str, epoch: int, payload: str, ops: str) -> None:
        writes.append(payload)
        await save(room, epoch, payload, ops)

    monkeypatch.setattr(cluster.store.rooms, "save_current", counted)
    # A STATUS without a status is refused: its ERROR comes back between the answers of its neighbours.
    reply = await _send_batch(sender, _chat("one"), _seek(41.0), frames.encode(WsMessage(MsgType.STATUS)),
                              _chat("two"), _seek(42.0), _chat("three"))
    assert reply.error is None
    errors = [m for m in map(frames.decode, reply.frames) if m.type == MsgType.ERROR]
    assert [e.error_message for e in errors] == ["playback status is nil"]
    await wait_until(lambda: len(watcher.of_type(MsgType.CHAT)) == 3)
    assert [m.chat_content for m in watcher.of_type(MsgType.CHAT)] == ["one", "two", "three"]
    assert [m.status.current_time for m in watcher.of_type(MsgType.STATUS) if m.status is not None][-2:] == \
        [41.0, 42.0]
    assert len(writes) == 1  # the batch's state is written once, before anything of it is delivered
    assert (await cluster.saved_status(room_id))["currentTime"] == 42.0


async def test_an_undecodable_message_ends_the_batch_there(cluster: InProcessCluster) -> None:
    room_id, creator = await cluster.room_owned_by("n1")
    watcher = await cluster.viewer("n2", room_id, "watcher")
    sender = await cluster.viewer("n2", room_id, creator.username)
    reply = await _send_batch(sender, _chat("before"), b"\xff\xff\xff", _chat("after"))
    assert reply.code is ErrorCode.MALFORMED
    await wait_until(lambda: bool(watcher.of_type(MsgType.CHAT)))
    assert [m.chat_content for m in watcher.of_type(MsgType.CHAT)] == ["before"]


async def test_a_retried_batch_is_applied_once(cluster: InProcessCluster) -> None:
    room_id, creator = await cluster.room_owned_by("n1")
    watcher = await cluster.viewer("n1", room_id, "watcher")
    sender = await cluster.viewer("n2", room_id, creator.username)
    cmd = c.ClientFrame(sender.user, sender.conn.conn_id, _chat("x"), more=(_chat("y"),))
    owner = cluster.nodes["n1"].router
    for _ in range(2):  # the same op id twice, as the router retries after a lost stream
        assert (await owner.submit_local(room_id, cmd, "op-1")).error is None
    await wait_until(lambda: len(watcher.of_type(MsgType.CHAT)) >= 2)
    assert [m.chat_content for m in watcher.of_type(MsgType.CHAT)] == ["x", "y"]


async def test_an_owner_of_an_older_release_gets_the_batch_one_message_at_a_time(tmp_path: Path) -> None:
    cl = await InProcessCluster.start(tmp_path / "data", "n1")
    try:
        await cl.add("n2", protocol=(PROTOCOL_MAJOR, BATCH_MINOR - 1))  # n2 would drop `more_frames`
        cl.set_view("n1", "n2")
        room_id, creator = await cl.room_owned_by("n2")
        watcher = await cl.viewer("n2", room_id, "watcher")
        sender = await cl.viewer("n1", room_id, creator.username)
        before = cl.nodes["n2"].mesh.stats.received[("n1", "command")]
        reply = await _send_batch(sender, _chat("a"), frames.encode(WsMessage(MsgType.STATUS)), _chat("b"))
        assert reply.error is None
        assert [m.error_message for m in map(frames.decode, reply.frames) if m.type == MsgType.ERROR] == \
            ["playback status is nil"]
        await wait_until(lambda: len(watcher.of_type(MsgType.CHAT)) == 2)
        assert [m.chat_content for m in watcher.of_type(MsgType.CHAT)] == ["a", "b"]
        assert cl.nodes["n2"].mesh.stats.received[("n1", "command")] - before == 3
    finally:
        await cl.stop()
