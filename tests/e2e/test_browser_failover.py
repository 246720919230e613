"""A viewer whose instance stops is not stranded: with `server.public_addresses` configured, the built-in client
reconnects the room to another instance and stays in sync with the viewer who never left (real browsers, a real
2-instance cluster over etcd and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import browser_support as bs
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer
from tests.support.require import missing

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(180)]

# Looser than the sync test's limits: this is about being followed again after a reconnect, not the last ms.
FOLLOW_LIMIT_MS = 100.0


@pytest.fixture(scope="module")
def clip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.ClipServer]:
    bs.require_browser_tools()
    directory = tmp_path_factory.mktemp("media")
    bs.make_clip(directory / "clip.mp4", 30)
    server = bs.ClipServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cluster(pg_server: PostgresServer) -> Iterator[ClusterProcesses]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    procs = ClusterProcesses(2, pg_server.create_database("f_" + uuid.uuid4().hex[:12]), etcd.endpoint)
    addresses = ",".join(i.base for i in procs.instances)
    for inst in procs.instances:
        inst.env["SYNCTV_SERVER_PUBLIC_ADDRESSES"] = addresses
    procs.start()
    try:
        asyncio.run(procs.wait_ready())
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def _act(page: Any, script: str) -> None:
    await page.evaluate(f"() => {{ const v = window.synctvPlayer.video; {script}; }}")


async def test_a_viewer_whose_instance_stops_reconnects_to_another_and_stays_in_sync(
        cluster: ClusterProcesses, clip_server: bs.ClipServer) -> None:
    first, second = cluster.instances
    async with bs.chromium() as browser:
        a = await bs.new_page(browser)
        b = await bs.new_page(browser)
        try:
            await bs.open_app(a, first.base)
            await bs.signup(a, "frida")
            room = await bs.create_room(a, "failover")
            await bs.open_app(b, second.base)
            await bs.signup(b, "gus")
            await bs.join_room_by_id(b, room)
            assert await b.evaluate("() => window.synctvPlayer.socketBase") == second.base
            await bs.add_movie(a, clip_server.url("clip.mp4"), "Clip")  # the first movie starts by itself
            await asyncio.gather(bs.wait_movie_loaded(a), bs.wait_movie_loaded(b))
            await a.click("#room-name")
            before = await bs.settle_and_sample(a, b)
            assert before["median"] <= FOLLOW_LIMIT_MS, before

            # Gus's instance stops. His page (served by it) stays open: the room's socket goes to the other one.
            await asyncio.to_thread(second.stop)
            await b.wait_for_function(
                "base => window.synctvPlayer.socketState === 'open' && window.synctvPlayer.socketBase === base",
                arg=first.base, timeout=30000)
            status = await b.text_content("#ws-status") or ""
            assert f"via 127.0.0.1:{first.http_port}" in status, status
            for page in (a, b):
                await page.wait_for_function("() => document.getElementById('viewer-count').textContent === '2'",
                                             timeout=15000)

            # Still one room: Frida's seek and pause are followed by Gus over his new connection.
            await _act(a, "v.currentTime = 12")
            seek = await bs.settle_and_sample(a, b, settle=3.0, max_wait=6.0)
            assert 12 < seek["b"]["t"] < 20 and seek["worst"] <= FOLLOW_LIMIT_MS, seek
            await _act(a, "v.pause()")
            paused = await bs.settle_and_sample(a, b)
            assert paused["worst"] <= FOLLOW_LIMIT_MS, paused
            assert await b.evaluate("() => window.synctvPlayer.video.paused")
            print(f"\nfailover: before {before['median']:.1f} ms, after the seek {seek['median']:.1f} ms "
                  f"(worst {seek['worst']:.1f}), paused {paused['worst']:.1f} ms; gus: {status}")
        except BaseException:
            for name, page in (("frida", a), ("gus", b)):
                print(f"--- console of {name}:\n" + "\n".join(page.console_messages[-40:]))
            for inst in cluster.instances:
                print(f"--- log of {inst.instance_id}:\n{inst.log()}")
            raise
