"""A pulled live source (`live && proxy`) on a 3-instance cluster in one process: the room's owner chooses the
instance that pulls it (itself), the other instances relay it from there, and the origin sees one client
whichever instances the viewers are on (ffmpeg's `-listen 1` origin serves exactly one)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from synctv._generated import mesh_pb2 as pb
from synctv.app import Runtime
from tests.api.test_live import _free_port, _serve_args
from tests.support.api_client import Api
from tests.support.live import decoded_frames, start
from tests.support.mesh import wait_until
from tests.support.pg_server import PostgresServer
from tests.support.servers import make_config

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]
SECRET = "live-pull-test-cluster-secret-0123456789"
IDS = ("n1", "n2", "n3")


@pytest.fixture
async def three(pg_server: PostgresServer, tmp_path: Path) -> AsyncIterator[dict[str, Runtime]]:
    dsn = pg_server.create_database("lp_" + uuid.uuid4().hex[:10])
    ports = {iid: _free_port() for iid in IDS}
    runtimes: dict[str, Runtime] = {}
    try:
        for iid in IDS:
            peers = ",".join(f"{o}=127.0.0.1:{ports[o]}" for o in IDS if o != iid)
            cfg = make_config(tmp_path / iid, dsn, SYNCTV_CLUSTER_ENABLED="true", SYNCTV_CLUSTER_INSTANCE_ID=iid,
                              SYNCTV_CLUSTER_SECRET=SECRET, SYNCTV_CLUSTER_GRPC_LISTEN="127.0.0.1",
                              SYNCTV_CLUSTER_GRPC_PORT=str(ports[iid]), SYNCTV_CLUSTER_ADVERTISE_ADDRESS="127.0.0.1",
                              SYNCTV_JWT_SECRET="live-pull-test-jwt-secret-0123456789abcdef",
                              SYNCTV_CLUSTER_DISCOVERY_TYPE="static", SYNCTV_CLUSTER_DISCOVERY_STATIC_PEERS=peers)
            runtimes[iid] = Runtime(cfg)
            await runtimes[iid].start()
        await wait_until(lambda: all(len(r.services.router.members()) == 3 for r in runtimes.values()), 30)
        yield runtimes
    finally:
        for runtime in runtimes.values():
            await runtime.stop()


async def _segments(session: aiohttp.ClientSession, url: str, n: int, timeout: float = 40) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    text = ""
    while asyncio.get_running_loop().time() < deadline:
        async with session.get(url) as resp:
            text = await resp.text()
            if resp.status == 200 and text.count("#EXTINF") >= n:
                return text
        await asyncio.sleep(0.3)
    raise AssertionError(f"no {n} segments at {url}: {text}")


async def test_the_rooms_owner_pulls_and_the_others_relay(three: dict[str, Runtime]) -> None:
    async with aiohttp.ClientSession() as session:
        apis = {iid: Api(f"http://127.0.0.1:{r.port}", session) for iid, r in three.items()}
        api = apis["n1"]
        alice = await api.signup("alice")
        await three["n1"].store.settings.set_many({"allow_proxy_to_local": True, "ts_disguised_as_png": False})
        for r in three.values():  # settings reach the other instances through their invalidation
            await wait_until(lambda r=r: r.store.settings.bool("allow_proxy_to_local"), 10)
        rid = await api.create_room(alice, "pull")
        owner = three["n1"].services.router.owner(rid)  # viewers on the two other instances
        edges = [iid for iid in IDS if iid != owner]
        source = f"http://127.0.0.1:{_free_port()}/live.flv"
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                      json={"name": "pulled", "url": source, "live": True, "proxy": True})
        assert status == 200, body
        mid = body["data"]["id"]
        origin = await start(_serve_args(source, 40))  # serves exactly one client
        try:
            await asyncio.sleep(1.0)
            query = f"token={alice}&roomId={rid}"
            lists = {iid: f"{apis[iid].base}/api/room/movie/live/hls/list/{mid}.m3u8?{query}" for iid in edges}
            texts = await asyncio.gather(*(_segments(session, u, 2) for u in lists.values()))
            assert all("#EXTINF" in t for t in texts)
            pulls = {iid: r.services.live.pulls_running() if r.services.live else 0 for iid, r in three.items()}
            assert pulls == {iid: int(iid == owner) for iid in IDS}, (owner, pulls)
            for iid in edges:
                cluster = three[iid].services.live.cluster
                assert cluster is not None and cluster.relays[mid].host == owner
            owner_cluster = three[owner].services.live.cluster
            assert owner_cluster is not None and set(owner_cluster.outbound[mid]) == set(edges)
            got = await decoded_frames(f"{apis[edges[1]].base}/api/room/movie/live/flv/{mid}.flv?{query}", 2)
            assert got["video"] >= 25 and got["audio"] >= 20, got
            # the owner's own viewers read the channel it pulls (no second pull, no relay)
            await _segments(session, f"{apis[owner].base}/api/room/movie/live/hls/list/{mid}.m3u8?{query}", 2)
            assert three[owner].services.live.pulls_running() == 1
            assert mid not in owner_cluster.relays
            async with session.get(f"{apis[owner].base}/metrics") as resp:
                metrics = await resp.text()
            assert "synctv_live_pulls 1.0" in metrics
            # stopping it as the current movie closes the channel everywhere and the pull stops
            await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
            await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": ""}, expect=204)
            await wait_until(lambda: all(mid not in r.services.live.channels for r in three.values()
                                         if r.services.live), 15)
            await asyncio.wait_for(origin.wait(), 15)  # its only client went away
        finally:
            if origin.returncode is None:
                origin.kill()
            await origin.wait()


async def test_only_the_owner_chooses_a_puller_and_only_for_pulled_sources(three: dict[str, Runtime]) -> None:
    """Only the room's owner chooses a puller: asking another instance gets "nobody hosts it", no pull."""
    async with aiohttp.ClientSession() as session:
        api = Api(f"http://127.0.0.1:{three['n1'].port}", session)
        alice = await api.signup("alice")
        await three["n1"].store.settings.set_many({"allow_proxy_to_local": True})
        rid = await api.create_room(alice, "pull")
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                      json={"name": "p", "url": f"http://127.0.0.1:{_free_port()}/x.flv",
                                            "live": True, "proxy": True})
        assert status == 200, body
        mid = body["data"]["id"]
        owner = three["n1"].services.router.owner(rid)
        other = next(iid for iid in IDS if iid != owner)
        asker = next(iid for iid in IDS if iid not in (owner, other))
        cluster = three[other].services.live.cluster if three[other].services.live else None
        assert cluster is not None
        reply = await cluster.answer(asker, pb.Query(live_where=pb.LiveWhere(room_id=rid, movie_id=mid, pull=True)))
        assert reply.live_host.host == "" and not reply.live_host.on
        assert three[other].services.live is not None and three[other].services.live.pulls_running() == 0
        # the owner answers with itself and pulls (the source is down: it keeps retrying while asked)
        owner_cluster = three[owner].services.live.cluster if three[owner].services.live else None
        assert owner_cluster is not None
        reply = await owner_cluster.answer(asker, pb.Query(live_where=pb.LiveWhere(room_id=rid, movie_id=mid,
                                                                                    pull=True)))
        assert reply.live_host.host == owner and reply.live_host.on
        assert three[owner].services.live is not None and three[owner].services.live.pulls_running() == 1
        # a movie that is not a pulled source is never pulled
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                      json={"name": "cam", "live": True, "rtmpSource": True})
        assert status == 200, body
        reply = await owner_cluster.answer(asker, pb.Query(live_where=pb.LiveWhere(
            room_id=rid, movie_id=body["data"]["id"], pull=True)))
        assert reply.live_host.host == ""
        reply = await owner_cluster.answer(asker, pb.Query(live_where=pb.LiveWhere(
            room_id=rid, movie_id="not-an-id!", pull=True)))
        assert reply.live_host.host == ""
