"""A live stream in real browsers: the creator adds an RTMP-source movie in the built-in client, copies the
publish URL and key from the movie's menu, both viewers (two Chromium on two instances of a cluster) see
"waiting for the stream", then ffmpeg publishes to one instance and the picture advances on both, relayed to
the other instance over the mesh: over HTTP-FLV (mpegts.js, the default where Media Source Extensions exist)
and, chosen in the player bar, over HLS (hls.js, PNG-disguised segments stripped by the client's loader)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import browser_support as bs
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.live import publish_args, start
from tests.support.pg_server import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def cluster(pg_server: PostgresServer) -> Iterator[ClusterProcesses]:
    bs.require_browser_tools()
    if not EtcdServer.available():
        pytest.skip("etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    dsn = pg_server.create_database("b_" + uuid.uuid4().hex[:12])
    procs = ClusterProcesses(2, dsn, etcd.endpoint)
    procs.start()
    try:
        asyncio.run(procs.wait_ready())
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def _frames_advance(page: Any) -> tuple[float, float]:
    await page.wait_for_function("() => { const v = window.synctvPlayer.video; return v.readyState >= 2"
                                 " && v.currentTime > 0; }", timeout=40000)
    t0 = float(await page.evaluate("() => window.synctvPlayer.video.currentTime"))
    await asyncio.sleep(2.5)
    t1 = float(await page.evaluate("() => window.synctvPlayer.video.currentTime"))
    return t0, t1


async def _live_movie(a: Any, b: Any, cluster: ClusterProcesses, users: tuple[str, str], room_name: str,
                      movie: str) -> tuple[str, str]:
    """The first user (on instance 1) creates a room with an rtmpSource movie; the second joins it on instance 2.
    Returns the room id and the movie's playlist item selector."""
    n1, n2 = cluster.instances
    await bs.open_app(a, n1.base)
    await bs.signup(a, users[0])
    room = await bs.create_room(a, room_name)
    await bs.open_app(b, n2.base)
    await bs.signup(b, users[1])
    await bs.join_room_by_id(b, room)
    await a.check("#movie-rtmp")
    await a.fill("#movie-name", movie)
    await a.click("#movie-add")
    item = f"[data-testid=playlist-item]:has-text('{movie}')"
    await a.wait_for_selector(item)
    return room, item


async def _start_playing(pages: tuple[Any, ...]) -> None:
    for page in pages:
        await page.evaluate("() => { window.synctvPlayer.video.muted = true;"
                            " window.synctvPlayer.video.play().catch(() => {}); }")


def _dump(named: tuple[tuple[str, Any], ...], cluster: ClusterProcesses) -> None:
    for who, page in named:
        print(f"--- console of {who}:\n" + "\n".join(page.console_messages[-40:]))
    for inst in cluster.instances:
        print(f"--- {inst.instance_id}:\n{inst.log()[-3000:]}")


async def test_live_stream_plays_on_two_instances(cluster: ClusterProcesses) -> None:
    n1 = cluster.instances[0]
    pub = None
    async with bs.chromium() as browser:
        a = await bs.new_page(browser)
        b = await bs.new_page(browser)
        try:
            room, item = await _live_movie(a, b, cluster, ("alice", "bob"), "live night", "Screen")
            assert await b.locator(f"{item} [data-testid=movie-publish-key]").count() == 0  # creator only
            await a.click(f"{item} [data-testid=movie-publish-key]")
            server = await a.input_value("[data-testid=publish-url]")
            key = await a.input_value("[data-testid=publish-key]")
            assert server == f"rtmp://127.0.0.1:{n1.http_port}/{room}" and key.count(".") == 2
            await bs.play_movie(a, "Screen")
            for page in (a, b):
                await page.wait_for_selector("#live-format", state="visible")
                await page.select_option("#live-format", "hls")  # the reader's choice: HLS instead of FLV
            for page in (a, b):
                await page.wait_for_function(
                    "() => document.getElementById('now-playing').dataset.waiting === 'true'", timeout=20000)
                assert "Waiting for the stream" in await page.text_content("#now-playing")
            pub = await start(publish_args(f"{server}/{key}", 90))
            await _start_playing((a, b))
            (a0, a1), (b0, b1) = await asyncio.gather(_frames_advance(a), _frames_advance(b))
            assert a1 - a0 > 1.0 and b1 - b0 > 1.0, (a0, a1, b0, b1)
            assert "Now playing: Screen (live)" in await b.text_content("#now-playing")
            src = await b.evaluate("() => window.synctvPlayer.video.currentSrc")
            assert src.startswith("blob:")  # hls.js, through the PNG-stripping loader
            assert [await p.evaluate("() => window.synctvPlayer.engine") for p in (a, b)] == ["hls.js", "hls.js"]
        except BaseException:
            _dump((("alice", a), ("bob", b)), cluster)
            raise
        finally:
            if pub is not None and pub.returncode is None:
                pub.kill()
                await pub.wait()


async def test_live_stream_plays_over_flv_on_two_instances(cluster: ClusterProcesses) -> None:
    n2 = cluster.instances[1]
    pub = None
    async with bs.chromium() as browser:
        a = await bs.new_page(browser)
        b = await bs.new_page(browser)
        try:
            room, item = await _live_movie(a, b, cluster, ("carol", "dave"), "flv night", "Desk")
            await a.click(f"{item} [data-testid=movie-publish-key]")
            key = await a.input_value("[data-testid=publish-key]")
            await bs.play_movie(a, "Desk")
            for page in (a, b):
                await page.wait_for_function(
                    "() => document.getElementById('now-playing').dataset.waiting === 'true'", timeout=20000)
                assert await page.evaluate("() => window.synctvPlayer.engine") == "mpegts.js"
                assert await page.input_value("#live-format") == "flv"
            # published to the second instance this time: the first one's viewer gets it relayed
            pub = await start(publish_args(f"rtmp://127.0.0.1:{n2.http_port}/{room}/{key}", 90))
            await _start_playing((a, b))
            (a0, a1), (b0, b1) = await asyncio.gather(_frames_advance(a), _frames_advance(b))
            assert a1 - a0 > 1.0 and b1 - b0 > 1.0, (a0, a1, b0, b1)
            for page in (a, b):
                assert "Now playing: Desk (live)" in await page.text_content("#now-playing")
                assert await page.evaluate("() => window.synctvPlayer.engine") == "mpegts.js"
                assert (await page.evaluate("() => window.synctvPlayer.video.currentSrc")).startswith("blob:")
        except BaseException:
            _dump((("carol", a), ("dave", b)), cluster)
            raise
        finally:
            if pub is not None and pub.returncode is None:
                pub.kill()
                await pub.wait()
