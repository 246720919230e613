"""End of media, auto-play, the join guard and chat history over the in-process cluster (real routers, actors,
hubs and SQLite), also across a handoff."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synctv.core import commands as c
from synctv.core.playback import CurrentMovie, Status
from synctv.core.playlist import PlayMode
from synctv.core.room import MsgType, WsMessage
from synctv.rooms import frames
from tests.support.inprocess_cluster import InProcessCluster, Viewer
from tests.support.mesh import wait_until

pytestmark = pytest.mark.timeout(30)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def status(playing: bool, at: float) -> WsMessage:
    return WsMessage(MsgType.STATUS, timestamp=now_ms(), status=Status(is_playing=playing, current_time=at,
                                                                     playback_rate=1.0))


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    yield cl
    await cl.stop()


async def _playlist(cluster: InProcessCluster, room_id: str, creator: c.UserRef, n: int) -> list[str]:
    bases = [{"name": f"clip{i}", "url": f"https://media.example/clip{i}.mp4", "type": "mp4"} for i in range(n)]
    return [m.id for m in await cluster.store.movies.add(room_id, creator.user_id, bases)]


async def _set_mode(cluster: InProcessCluster, room_id: str, mode: PlayMode, delay_s: int = 0) -> None:
    await cluster.store.rooms.update_settings(room_id, {"play_mode": int(mode), "play_next_delay": delay_s})
    reply = await cluster.nodes["n1"].router.submit(room_id, c.Invalidate(c.CacheKind.SETTINGS))
    assert reply.error is None


def currents(viewer: Viewer) -> int:
    return len(viewer.of_type(MsgType.CURRENT))


async def test_the_clock_stops_at_the_end_and_the_next_movie_starts_on_every_instance(
        cluster: InProcessCluster) -> None:
    room_id, creator = await cluster.room_owned_by("n1")
    first, second = await _playlist(cluster, room_id, creator, 2)
    await _set_mode(cluster, room_id, PlayMode.NEXT, delay_s=0)
    far = await cluster.viewer("n2", room_id, "far")
    edge = cluster.nodes["n2"].router
    assert (await edge.submit(room_id, c.SetCurrentMovie(creator, CurrentMovie(id=first)))).error is None
    assert (await edge.submit(room_id, c.ReportDuration(creator, first, 0.4))).error is None
    await wait_until(lambda: currents(far) == 2, timeout=5)
    state = await edge.state(room_id)
    assert state.current.movie.id == second and state.current.status.is_playing
    stops = [m.status for m in far.of_type(MsgType.STATUS) if m.status is not None]
    assert any(s.current_time == pytest.approx(0.4) and not s.is_playing for s in stops)  # stopped at the end
    # The last movie of the list, in "next" mode: the clock stops there and nothing else starts.
    assert (await edge.submit(room_id, c.ReportDuration(creator, second, 0.3))).error is None
    await wait_until(lambda: not cluster.nodes["n1"].router.local_actor(room_id).state.current  # type: ignore[union-attr]
                     .status.is_playing, timeout=5)
    state = await edge.state(room_id)
    assert state.current.movie.id == second and state.current.status.current_time == pytest.approx(0.3)
    assert currents(far) == 2


async def test_play_mode_off_only_stops_the_clock_and_repeat_one_restarts(cluster: InProcessCluster) -> None:
    room_id, creator = await cluster.room_owned_by("n2")
    (only,) = await _playlist(cluster, room_id, creator, 1)
    await _set_mode(cluster, room_id, PlayMode.OFF)
    router = cluster.nodes["n1"].router
    await router.submit(room_id, c.SetCurrentMovie(creator, CurrentMovie(id=only)))
    await router.submit(room_id, c.ReportDuration(creator, only, 0.3))
    owner = cluster.nodes["n2"].router
    await wait_until(lambda: not owner.local_actor(room_id).state.current.status.is_playing,  # type: ignore[union-attr]
                     timeout=5)
    assert (await router.state(room_id)).current.status.current_time == pytest.approx(0.3)

    await _set_mode(cluster, room_id, PlayMode.REPEAT_ONE)
    viewer = await cluster.viewer("n1", room_id, "watcher")
    # Turning a mode on after the end does not restart an ended movie by itself; the next end does.
    await router.submit(room_id, c.SetCurrentMovie(creator, CurrentMovie(id=only)))
    await router.submit(room_id, c.ReportDuration(creator, only, 0.3))
    await wait_until(lambda: currents(viewer) >= 2, timeout=5)
    state = await router.state(room_id)
    assert state.current.movie.id == only and state.current.movie.duration == pytest.approx(0.3)


async def test_auto_play_continues_after_a_handoff(tmp_path: Path) -> None:
    cluster = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        await cluster.add("n3")
        room_id, creator = await cluster.room_owned_by("n3", among=("n1", "n2", "n3"))
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        cluster.set_view("n3", on=("n3",))
        first, second = await _playlist(cluster, room_id, creator, 2)
        await _set_mode(cluster, room_id, PlayMode.NEXT)
        far = await cluster.viewer("n2", room_id, "far")
        edge = cluster.nodes["n1"].router
        await edge.submit(room_id, c.SetCurrentMovie(creator, CurrentMovie(id=first)))
        assert (await edge.submit(room_id, c.ReportDuration(creator, first, 1.5))).error is None

        cluster.set_view("n1", "n2", "n3")  # n3 joins: the room moves to it with its duration
        await wait_until(lambda: cluster.nodes["n3"].router.owned_rooms() == [room_id])
        moved = cluster.nodes["n3"].router.local_actor(room_id)
        assert moved is not None and moved.state.current.movie.duration == pytest.approx(1.5)
        await wait_until(lambda: currents(far) == 2, timeout=6)
        assert (await edge.state(room_id)).current.movie.id == second
    finally:
        await cluster.stop()


async def test_a_just_joined_connection_cannot_rewind_but_an_older_one_can(cluster: InProcessCluster) -> None:
    room_id, creator = await cluster.room_owned_by("n1")
    sender = await cluster.viewer("n2", room_id, creator.username)
    assert (await sender.send(status(True, 21.5))).error is None
    joiner = await cluster.viewer("n2", room_id, creator.username)  # the same user, a new tab
    frame = c.ClientFrame(joiner.user, joiner.conn.conn_id, frames.encode(status(True, 0.2)), joined_ms=now_ms())
    reply = await joiner.node.router.submit(room_id, frame)
    assert reply.error is None and [frames.decode(f).type for f in reply.frames] == [MsgType.CHECK_STATUS]
    assert (await cluster.saved_status(room_id))["currentTime"] == pytest.approx(21.5, abs=0.5)
    # The same seek from a connection that joined a while ago is a user's choice: the room follows.
    old = c.ClientFrame(joiner.user, joiner.conn.conn_id, frames.encode(status(True, 0.2)),
                        joined_ms=now_ms() - 60_000)
    assert (await joiner.node.router.submit(room_id, old)).error is None
    assert (await cluster.saved_status(room_id))["currentTime"] == pytest.approx(0.2, abs=0.5)


async def test_chat_is_kept_in_order_across_instances_and_a_handoff(tmp_path: Path) -> None:
    cluster = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        await cluster.add("n3")
        room_id, creator = await cluster.room_owned_by("n3", among=("n1", "n2", "n3"))
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        cluster.set_view("n3", on=("n3",))
        sender = await cluster.viewer("n1", room_id, creator.username)
        assert (await sender.send(WsMessage(MsgType.CHAT, chat_content="before <b>"))).error is None
        cluster.set_view("n1", "n2", "n3")
        await wait_until(lambda: cluster.nodes["n3"].router.owned_rooms() == [room_id])
        assert (await sender.send(WsMessage(MsgType.CHAT, chat_content="after"))).error is None
        history = await cluster.store.chat.recent(room_id, limit=10)
        assert [e.content for e in history] == ["before &lt;b&gt;", "after"]
        assert {e.username for e in history} == {creator.username}
        assert await cluster.store.chat.clear(room_id) == 2
        assert await cluster.store.chat.recent(room_id, limit=10) == []
    finally:
        await cluster.stop()
