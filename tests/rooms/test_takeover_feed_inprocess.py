"""An owner that takes a room over from the database (its previous owner crashed or was cut off) does not know
which edges have viewers, and an edge follows it only once its own view changes, which may be a moment later.
So the new owner sends the room's events to every member at first, and an edge without viewers unsubscribes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synctv.core.room import MsgType, WsMessage
from synctv.mesh.ring import Ring
from tests.support.inprocess_cluster import InProcessCluster
from tests.support.mesh import wait_until

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2", "n3", "n4")
    yield cl
    await cl.stop()


async def test_an_edge_whose_view_lags_gets_the_new_owners_events(cluster: InProcessCluster) -> None:
    for _ in range(100):  # a room of n1 that goes to n3 once n1 is gone
        room_id, creator = await cluster.room_owned_by("n1")
        if Ring(["n2", "n3", "n4"]).owner(room_id) == "n3":
            break
    else:
        raise AssertionError("no such room")
    watcher = await cluster.viewer("n2", room_id, "watcher")
    sender = await cluster.viewer("n3", room_id, creator.username)
    assert cluster.nodes["n2"].router.feeds.subscribed.get(room_id) == "n1"
    await cluster.crash("n1")
    # n3 and n4 see n1 gone; n2 does not yet (it still follows n1, and has not subscribed to n3).
    cluster.set_view("n2", "n3", "n4", on=("n3", "n4"))
    reply = await sender.send(WsMessage(MsgType.CHAT, chat_content="after the takeover"))
    assert reply.error is None
    await wait_until(lambda: any(m.chat_content == "after the takeover" for m in watcher.of_type(MsgType.CHAT)))
    assert cluster.nodes["n2"].router.feeds.subscribed.get(room_id) == "n1"  # it really lagged
    # n4 has no viewers of the room: it told the new owner so, and gets nothing more.
    owner = cluster.nodes["n3"].router
    await wait_until(lambda: "n4" not in (owner.subscribers.get(room_id) or set()))
    assert "n2" in (owner.subscribers.get(room_id) or set())
