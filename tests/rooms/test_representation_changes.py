"""How many times one play/pause is serialized or parsed on its way, counted by wrapping the only codecs
(`mesh/wire.py` for the mesh, `rooms/frames.py` for WebSocket frames). ARCHITECTURE.md lists the hops."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from synctv.core.commands import ClientFrame
from synctv.core.playback import Status
from synctv.core.room import MsgType, WsMessage
from synctv.mesh import wire
from synctv.rooms import frames
from tests.support.inprocess_cluster import InProcessCluster, Viewer, split_frames
from tests.support.mesh import wait_until

pytestmark = pytest.mark.timeout(20)


def status(at: float) -> WsMessage:
    return WsMessage(MsgType.STATUS, timestamp=time.time_ns() // 1_000_000,
                     status=Status(is_playing=True, current_time=at, playback_rate=1.0))


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    yield cl
    await cl.stop()


async def _count_one_status(monkeypatch: pytest.MonkeyPatch, sender: Viewer, watcher: Viewer) -> Counter[str]:
    assert (await sender.send(status(1.0))).error is None  # warm: actor loaded, roles cached, subscribed
    await wait_until(lambda: len(watcher.of_type(MsgType.STATUS)) == 1)
    await asyncio.sleep(0.05)
    calls: Counter[str] = Counter()

    def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            calls[name] += 1
            return fn(*args)
        return wrapper

    # As the browser sent it: the client's encoding is not the server's work.
    cmd = ClientFrame(sender.user, sender.conn.conn_id, frames.encode(status(2.0)))
    seen = len(split_frames(bytes(watcher.transport.data)))
    for module, names in ((wire, ("serialize_frame", "parse_frame")), (frames, ("encode", "decode"))):
        for name in names:
            monkeypatch.setattr(module, name, counted(f"{module.__name__.rsplit('.', 1)[1]}.{name}",
                                                      getattr(module, name)))
    reply = await sender.node.router.submit(sender.conn.room_id, cmd)
    assert reply.error is None
    await wait_until(lambda: len(split_frames(bytes(watcher.transport.data))) == seen + 1)
    await asyncio.sleep(0.05)  # nothing else may still be on its way
    monkeypatch.undo()
    got = watcher.of_type(MsgType.STATUS)[-1].status
    assert got is not None and got.is_playing and got.current_time == pytest.approx(2.0, abs=0.1)
    return calls


async def test_cross_instance_status_changes_representation_at_most_six_times(
        cluster: InProcessCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    watcher = await cluster.viewer("n2", room_id, "watcher")
    calls = await _count_one_status(monkeypatch, sender, watcher)
    # Edge: one frame out (the command). Owner: one frame in, the client's frame decoded once, the broadcast
    # encoded once, one frame out (the events and the reply together). Edge: one frame in.
    assert calls == Counter({"wire.serialize_frame": 2, "wire.parse_frame": 2, "frames.decode": 1,
                             "frames.encode": 1}), calls
    assert sum(calls.values()) <= 6


async def test_same_instance_status_is_decoded_and_encoded_once(
        cluster: InProcessCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n1", room_id, creator.username)
    watcher = await cluster.viewer("n1", room_id, "watcher")
    calls = await _count_one_status(monkeypatch, sender, watcher)
    assert calls == Counter({"frames.decode": 1, "frames.encode": 1}), calls
