"""A live stream in real browsers: the creator adds an RTMP-source movie in the built-in client, copies the
publish URL and key from the movie's menu, both viewers (two Chromium on two instances of a cluster) see
"waiting for the stream", then ffmpeg publishes to one instance and the picture advances on both (hls.js,
PNG-disguised segments stripped by the client's loader, relayed to the other instance over the mesh)."""

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


async def test_live_stream_plays_on_two_instances(cluster: ClusterProcesses) -> None:
    n1, n2 = cluster.instances
    pub = None
    async with bs.chromium() as browser:
        a = await bs.new_page(browser)
        b = await bs.new_page(browser)
        try:
            await bs.open_app(a, n1.base)
            await bs.signup(a, "alice")
            room = await bs.create_room(a, "live night")
            await bs.open_app(b, n2.base)
            await bs.signup(b, "bob")
            await bs.join_room_by_id(b, room)
            await a.check("#movie-rtmp")
            await a.fill("#movie-name", "Screen")
            await a.click("#movie-add")
            item = "[data-testid=playlist-item]:has-text('Screen')"
            await a.wait_for_selector(item)
            assert await b.locator(f"{item} [data-testid=movie-publish-key]").count() == 0  # creator only
            await a.click(f"{item} [data-testid=movie-publish-key]")
            server = await a.input_value("[data-testid=publish-url]")
            key = await a.input_value("[data-testid=publish-key]")
            assert server == f"rtmp://127.0.0.1:{n1.http_port}/{room}" and key.count(".") == 2
            await bs.play_movie(a, "Screen")
            for page in (a, b):
                await page.wait_for_function(
                    "() => document.getElementById('now-playing').dataset.waiting === 'true'", timeout=20000)
                assert "Waiting for the stream" in await page.text_content("#now-playing")
            pub = await start(publish_args(f"{server}/{key}", 90))
            for page in (a, b):
                await page.evaluate("() => { window.synctvPlayer.video.muted = true;"
                                    " window.synctvPlayer.video.play().catch(() => {}); }")
            (a0, a1), (b0, b1) = await asyncio.gather(_frames_advance(a), _frames_advance(b))
            assert a1 - a0 > 1.0 and b1 - b0 > 1.0, (a0, a1, b0, b1)
            assert "Now playing: Screen (live)" in await b.text_content("#now-playing")
            src = await b.evaluate("() => window.synctvPlayer.video.currentSrc")
            assert src.startswith("blob:")  # hls.js, through the PNG-stripping loader
        except BaseException:
            for who, page in (("alice", a), ("bob", b)):
                print(f"--- console of {who}:\n" + "\n".join(page.console_messages[-40:]))
            for inst in cluster.instances:
                print(f"--- {inst.instance_id}:\n{inst.log()[-3000:]}")
            raise
        finally:
            if pub is not None and pub.returncode is None:
                pub.kill()
                await pub.wait()
