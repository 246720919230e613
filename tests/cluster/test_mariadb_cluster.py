"""Two real instances on MariaDB (found through real etcd): one room seen from both, its state written by its
owner under the epoch fence and read back from the database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import aiohttp
import pytest

from synctv._generated import message_pb2 as pb
from tests.support.api_client import Api
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.mariadb_server import MariaDbServer
from tests.support.require import missing

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.timeout(120)]
T = pb.MessageType


@pytest.fixture
def pair(mariadb_server: MariaDbServer) -> Iterator[ClusterProcesses]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    dsn = mariadb_server.create_database("c_" + uuid.uuid4().hex[:12])
    procs = ClusterProcesses(2, dsn, etcd.endpoint, extra_env={"SYNCTV_DATABASE_TYPE": "mysql"})
    procs.start()
    try:
        asyncio.run(procs.wait_ready())
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def test_one_room_across_two_instances_on_mariadb(pair: ClusterProcesses) -> None:
    async with aiohttp.ClientSession() as session:
        a, b = (Api(inst.base, session) for inst in pair.instances)
        alice = await a.signup("alice")
        bob = await b.signup("bob")
        room = await a.create_room(alice, "mariadb-cluster")
        ws_a, ws_b = await a.ws(room, alice), await b.ws(room, bob)
        await b.push_movie(alice, room, "clip", "https://example.com/clip.mp4")
        for ws in (ws_a, ws_b):
            assert (await ws.expect(T.MOVIES)).sender.username == "alice"
        await ws_b.send(pb.Message(type=T.CHAT, chat_content="hello from b"))
        for ws in (ws_a, ws_b):
            assert (await ws.expect(T.CHAT)).chat_content == "hello from b"
        movies = await a.ok("GET", "/api/room/movie/movies", token=alice, room=room, params={"page": "1",
                                                                                             "max": "10"})
        movie_id = next(m["id"] for m in movies["movies"])
        await b.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=room, json={"id": movie_id})
        await ws_a.expect(T.CURRENT)
        await ws_a.send(pb.Message(type=T.STATUS, timestamp=1, playback_status=pb.Status(
            is_playing=False, current_time=42.0, playback_rate=1.0)))
        assert (await ws_b.expect(T.STATUS)).playback_status.current_time == 42.0
        # Read back from the database through the other instance.
        for api in (a, b):
            data = await api.ok("GET", "/api/room/movie/current", token=alice, room=room)
            assert float(data["status"]["currentTime"]) == 42.0
        await ws_a.close()
        await ws_b.close()
