"""Live streaming on a real 3-instance cluster: ffmpeg publishes to one instance, players on the others get
FLV and HLS relayed over the mesh, with the same segment ids everywhere; the host leaves gracefully while
ffmpeg re-publishes to another instance, and the players' streams go on. A pulled source is pulled by the
room's owner only, and relayed from there."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from synctv.auth.passwords import hash_password
from synctv.core.permissions import Role
from synctv.live import flv
from synctv.store import Store
from tests.support.api_client import Api
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer, free_port
from tests.support.live import decoded_frames, publish_args, start, strip_png
from tests.support.pg_server import PostgresServer
from tests.support.servers import make_config

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres]
SEGMENT = re.compile(r"/api/room/movie/live/hls/data/\w+/\w+/(\w+)\.png")


@pytest.fixture(scope="module")
def cluster(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcesses]:
    if not EtcdServer.available():
        pytest.skip("etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    dsn = pg_server.create_database("l_" + uuid.uuid4().hex[:12])
    procs = ClusterProcesses(3, dsn, etcd.endpoint)
    procs.start()
    try:
        asyncio.run(procs.wait_ready())
        asyncio.run(_make_admin(dsn, tmp_path_factory.mktemp("admin")))
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def _make_admin(dsn: str, data_dir: Path) -> None:
    store = await Store.open(make_config(data_dir, dsn))
    try:
        await store.users.create("operator", await hash_password("operator1"), Role.ADMIN)
    finally:
        await store.close()


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


async def test_a_pulled_source_is_pulled_by_the_rooms_owner(cluster: ClusterProcesses) -> None:
    # runs first: the next test stops n1
    async with aiohttp.ClientSession() as session:
        apis = {n.instance_id: Api(n.base, session) for n in cluster.instances}
        api = apis["n1"]
        op = await api.login("operator", "operator1")
        await api.ok("POST", "/api/admin/settings", expect=204, token=op, json={"allow_proxy_to_local": True})
        alice = await api.signup("puller")
        rid = await api.create_room(alice, "pull")
        owner = (await api.ok("GET", "/api/admin/cluster/owner", token=op, params={"id": rid}))["owner"]
        edges = [iid for iid in apis if iid != owner]
        source = f"rtmp://127.0.0.1:{free_port()}/app/cam"
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                      json={"name": "pulled", "url": source, "live": True, "proxy": True})
        assert status == 200, body
        mid = body["data"]["id"]
        args = publish_args(source, 40)
        origin = await start([*args[:-1], "-listen", "1", source])  # an RTMP origin with room for one client
        try:
            await asyncio.sleep(1.0)
            query = f"token={alice}&roomId={rid}"
            lists = [f"{apis[iid].base}/api/room/movie/live/hls/list/{mid}.m3u8?{query}" for iid in edges]
            for _ in range(160):
                ids = [await playlist_ids(session, u) for u in lists]
                if all(len(i) >= 2 for i in ids) and ids[0][-2] in ids[1]:
                    break
                await asyncio.sleep(0.25)
            else:
                raise AssertionError(f"no relayed playlists on {edges}: {ids}")
            got = await decoded_frames(f"{apis[edges[0]].base}/api/room/movie/live/flv/{mid}.flv?{query}", 2)
            assert got["video"] >= 25 and got["audio"] >= 20, got
            metrics = {}
            for iid, a in apis.items():
                async with session.get(a.base + "/metrics") as resp:
                    metrics[iid] = await resp.text()
            pulls = {iid: _metric(m, "synctv_live_pulls") for iid, m in metrics.items()}
            assert pulls == {iid: float(iid == owner) for iid in apis}, (owner, pulls)
            for iid in edges:
                assert _metric(metrics[iid], 'synctv_live_relay_streams{direction="in"}') == 1.0
            assert _metric(metrics[owner], 'synctv_live_relay_streams{direction="out"}') == 2.0
        except BaseException:
            for inst in cluster.instances:
                print(f"--- {inst.instance_id}:\n{inst.log()[-3000:]}")
            raise
        finally:
            if origin.returncode is None:
                origin.kill()
            await origin.wait()


async def playlist_ids(session: aiohttp.ClientSession, url: str) -> list[str]:
    async with session.get(url) as resp:
        if resp.status != 200:
            return []
        return SEGMENT.findall(await resp.text())


async def test_live_across_instances_and_host_restart(cluster: ClusterProcesses, tmp_path: Path) -> None:
    n1, n2, n3 = cluster.instances
    async with aiohttp.ClientSession() as session:
        api = Api(n1.base, session)
        alice = await api.signup("alice")
        rid = await api.create_room(alice, "live")
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                      json={"name": "cam", "live": True, "rtmpSource": True})
        assert status == 200, body
        mid = body["data"]["id"]
        status, body = await api.call("POST", "/api/room/movie/live/publishKey", token=alice, room=rid,
                                      json={"id": mid})
        assert status == 200, body
        key = body["data"]["token"]
        query = f"token={alice}&roomId={rid}"
        lists = [f"{n.base}/api/room/movie/live/hls/list/{mid}.m3u8?{query}" for n in (n1, n2, n3)]
        pub = await start(publish_args(f"rtmp://127.0.0.1:{n1.http_port}/{rid}/{key}", 60))
        try:
            # every instance serves the same playlist: segments cut once on the host, relayed with their ids
            for _ in range(80):
                ids = [await playlist_ids(session, u) for u in lists]
                if all(len(i) >= 2 for i in ids) and ids[0][-2] in ids[1] and ids[0][-2] in ids[2]:
                    break
                await asyncio.sleep(0.25)
            else:
                raise AssertionError(f"playlists differ or are empty: {ids}")
            got = await decoded_frames(f"{n2.base}/api/room/movie/live/flv/{mid}.flv?{query}", 2)
            assert got["video"] >= 25 and got["audio"] >= 20, got
            # segments are .png by default (disguise on): every instance serves the relayed ones, and they
            # decode once the prefix is stripped
            async with session.get(lists[2]) as resp:
                text = await resp.text()
            uris = [line for line in text.splitlines() if line.startswith("/")]
            ts = bytearray()
            for uri in uris:
                bodies = []
                for n in (n1, n2, n3):
                    async with session.get(n.base + uri) as resp:
                        assert resp.status == 200, (n.instance_id, uri)
                        bodies.append(await resp.read())
                assert bodies[0] == bodies[1] == bodies[2]
                ts += strip_png(bodies[2])
            path = tmp_path / "relayed.ts"
            path.write_bytes(bytes(ts))
            got = await decoded_frames(str(path), 30)
            assert got["video"] >= 50 and got["audio"] >= 50, got
            # graceful restart of the host while ffmpeg re-publishes to another instance
            flv_reader = asyncio.create_task(_read_flv(session, f"{n3.base}/api/room/movie/live/flv/{mid}.flv?{query}",
                                                       25))
            await asyncio.sleep(2)
            before = await playlist_ids(session, lists[2])
            n1.signal(15)
            await asyncio.wait_for(pub.wait(), 20)  # the host cut its publisher (RTMP close)
            pub = await start(publish_args(f"rtmp://127.0.0.1:{n2.http_port}/{rid}/{key}", 40))
            for _ in range(120):
                after = await playlist_ids(session, lists[2])
                if len([i for i in after if i not in before]) >= 2:
                    break
                await asyncio.sleep(0.25)
            else:
                raise AssertionError(f"no new segments after the host restart: {before} -> {after}")
            async with session.get(lists[1]) as resp:
                assert "#EXT-X-DISCONTINUITY" in await resp.text()
            tags = await flv_reader
            key_ts = [t.timestamp for t in tags if t.is_keyframe]
            assert len(key_ts) >= 8, key_ts  # frames before and after the move reached the same viewer
            assert key_ts == sorted(key_ts)
        finally:
            if pub.returncode is None:
                pub.kill()
            await pub.wait()


async def _read_flv(session: aiohttp.ClientSession, url: str, seconds: float) -> list[flv.Tag]:
    reader, tags = flv.TagReader(), []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    async with session.get(url) as resp:
        assert resp.status == 200
        while loop.time() < end:
            try:
                chunk = await asyncio.wait_for(resp.content.readany(), max(end - loop.time(), 0.01))
            except TimeoutError:
                break
            if not chunk:
                break
            tags += reader.feed(chunk)
    return tags
