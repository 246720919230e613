"""The built-in web client in a real browser (Debian's chromium driven by playwright).

Two people watch the same locally generated clip through two different instances of a real 3-instance cluster:
play, pause, seek and rate changes made in one browser are followed by the other, and the two `<video>` elements
stay within 20 ms (median) / 50 ms (worst) of each other once an action has settled, also with one browser behind
100 ± 50 ms of jitter each way. A newcomer does the whole
flow on a single `synctv serve`. Screenshots of the room page go to artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import browser_support as bs
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.jitter_proxy import JitterProxy
from tests.support.pg_server import PostgresServer
from tests.support.require import missing

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(180)]

# The targets, with and without jitter: 20 ms median and 50 ms worst. The client's clock offset comes from
# the intersection of its samples' NTP bounds (sync.js boundedClockEstimate), its rate nudge closes half a drift
# every 0.35 s down to 10 ms, and a paused player is re-positioned beyond 10 ms.
MEDIAN_LIMIT_MS = 20.0
WORST_LIMIT_MS = 50.0
CLIP_SECONDS = 30
JITTER_MEDIAN_LIMIT_MS = 20.0
JITTER_WORST_LIMIT_MS = 50.0


@pytest.fixture(scope="module")
def tools() -> None:
    bs.require_browser_tools()


@pytest.fixture(scope="module")
def clip_server(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.ClipServer]:
    directory = tmp_path_factory.mktemp("media")
    bs.make_clip(directory / "clip.mp4", CLIP_SECONDS)
    server = bs.ClipServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cluster(tools: None, pg_server: PostgresServer) -> Iterator[ClusterProcesses]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    procs = ClusterProcesses(3, pg_server.create_database("b_" + uuid.uuid4().hex[:12]), etcd.endpoint)
    procs.start()
    try:
        asyncio.run(procs.wait_ready())
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def _act(page: Any, script: str) -> None:
    """A change made on the page's <video> element, exactly as its native controls make it."""
    await page.evaluate(f"() => {{ const v = window.synctvPlayer.video; {script}; }}")


async def _state(page: Any) -> dict[str, Any]:
    return dict(await page.evaluate(
        "() => { const p = window.synctvPlayer; return {t: p.video.currentTime, paused: p.video.paused,"
        " rate: p.video.playbackRate, ref: p.reference, drift: p.drift, offset: p.clockOffset,"
        " rtt: p.clockRtt, socket: p.socketState, seeks: p.controller.stats.seeks,"
        " nudges: p.controller.stats.nudges}; }"))


def _report(rows: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [f"{'action':<26} {'diff ms (median of 5)':>22} {'worst ms':>9} {'read skew ms':>13} {'position s':>11}",
             "-" * 85]
    for name, r in rows:
        lines.append(f"{name:<26} {r['median']:>22.1f} {r['worst']:>9.1f} {r['skew']:>13.1f} {r['a']['t']:>11.2f}")
    per_action = [r["median"] for _, r in rows]
    worst = max(r["worst"] for _, r in rows)
    lines += ["-" * 85,
              f"median over the test: {statistics.median(per_action):.1f} ms (limit {MEDIAN_LIMIT_MS:.0f}); "
              f"worst sample: {worst:.1f} ms (limit {WORST_LIMIT_MS:.0f})"]
    return "\n".join(lines)


async def _sync_session(base_a: str, base_b: str, clip_url: str, who: str,
                        screenshots: bool) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """Two people in one room, on `base_a` and `base_b`: every action of the scenario, measured."""
    started = time.monotonic()
    alice, bob = f"alice{who}", f"bob{who}"
    shots: list[Any] = []
    async with bs.chromium() as browser:
        a = await bs.new_page(browser)
        b = await bs.new_page(browser)
        try:
            # Both people sign up, one creates the room and the other joins it by id, on another instance.
            await bs.open_app(a, base_a)
            await bs.signup(a, alice)
            room = await bs.create_room(a, f"movie night{who}")  # room names are unique
            await bs.open_app(b, base_b)
            await bs.signup(b, bob)
            await bs.join_room_by_id(b, room)
            for page in (a, b):
                await page.wait_for_function("() => document.getElementById('viewer-count').textContent === '2'")

            await bs.send_chat(b, "hi from the other instance")
            await bs.wait_chat(a, "hi from the other instance")
            await bs.send_chat(a, "popcorn ready")
            await bs.wait_chat(b, "popcorn ready")

            # The first video added to the room starts by itself: nobody has to find its "Play".
            await bs.add_movie(a, clip_url, "Test clip")
            await b.wait_for_selector("[data-testid=playlist-item]:has-text('Test clip')")
            await asyncio.gather(bs.wait_movie_loaded(a), bs.wait_movie_loaded(b))
            # Alice interacts with her page (a user gesture, so her player may start with sound); Bob does not,
            # so his player takes the muted-autoplay path.
            await a.click("#room-name")
            # The players' first start is a load (both catch up with a clock that started while they loaded),
            # not a sync action: let it settle before measuring.
            await bs.settle_and_sample(a, b)

            rows: list[tuple[str, dict[str, Any]]] = []

            async def step(name: str, page: Any, script: str, check: str) -> dict[str, Any]:
                await _act(page, script)
                r = await bs.settle_and_sample(a, b)
                rows.append((name, r))
                sa, sb = await asyncio.gather(_state(a), _state(b))
                ok = {"playing": not sa["paused"] and not sb["paused"],
                      "paused": sa["paused"] and sb["paused"]}.get(check, True)
                assert ok, f"{name}: players not {check}: a={sa} b={sb}"
                return r

            await step("play (alice)", a, "v.play()", "playing")
            await step("pause (alice)", a, "v.pause()", "paused")
            r = await step("seek paused to 10 s (alice)", a, "v.currentTime = 10", "paused")
            assert abs(r["b"]["t"] - 10) < 0.1, r
            await step("play (alice)", a, "v.play()", "playing")
            r = await step("seek playing to 4 s (alice)", a, "v.currentTime = 4", "playing")
            assert 4 < r["b"]["t"] < 9, r
            await step("rate 1.5x (alice)", a, "v.playbackRate = 1.5", "playing")
            sb = await _state(b)
            assert sb["ref"]["playbackRate"] == 1.5 and abs(sb["rate"] - 1.5) < 0.16, sb
            # Bob may not control playback yet: his pause is undone. Alice grants him the permission in the
            # room administration panel, and then he can.
            await step("pause refused (bob)", b, "v.pause()", "playing")
            await b.wait_for_function("() => /permission/.test(document.getElementById('toast').textContent)")
            await bs.grant_permission(a, bob, 32)
            await b.wait_for_function("() => window.synctvPlayer.controller.canControl()")
            r = await step("seek playing to 15 s (bob)", b, "v.currentTime = 15", "playing")
            assert 15 < r["a"]["t"] < 21, r
            await step("rate 1x (bob)", b, "v.playbackRate = 1", "playing")
            await step("pause (bob)", b, "v.pause()", "paused")

            if screenshots:  # the room page: desktop and phone width
                shots = [await bs.screenshot(a, "room-desktop.png", bs.DESKTOP),
                         await bs.screenshot(b, "room-phone.png", bs.PHONE, full_page=True)]
            sa, sb = await asyncio.gather(_state(a), _state(b))
        except BaseException:
            for name, page in (("alice", a), ("bob", b)):
                print(f"--- console of {name}:\n" + "\n".join(page.console_messages[-40:]))
            raise

    report = _report(rows)
    report += (f"\nclock offset/rtt ms: alice {sa['offset']:.1f}/{sa['rtt']}, bob {sb['offset']:.1f}/{sb['rtt']}"
               f"; corrective seeks alice {sa['seeks']} bob {sb['seeks']}, nudges alice {sa['nudges']}"
               f" bob {sb['nudges']}"
               + ("\nscreenshots: " + ", ".join(str(p) for p in shots) if shots else "")
               + f"\ntest time: {time.monotonic() - started:.1f} s")
    for p in shots:
        assert p.stat().st_size > 1000, p
    return rows, report


async def test_two_instances_stay_in_sync(cluster: ClusterProcesses, clip_server: bs.ClipServer) -> None:
    rows, report = await _sync_session(cluster.instances[0].base, cluster.instances[1].base,
                                       clip_server.url("clip.mp4"), "", screenshots=True)
    print("\n" + report)
    bs.SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (bs.SCREENSHOTS.parent / "browser-sync.txt").write_text(report + "\n")
    median = statistics.median(r["median"] for _, r in rows)
    worst = max(r["worst"] for _, r in rows)
    assert median <= MEDIAN_LIMIT_MS, report
    assert worst <= WORST_LIMIT_MS, report


async def test_two_instances_stay_in_sync_with_jitter(cluster: ClusterProcesses, clip_server: bs.ClipServer) -> None:
    """The same, with Bob's whole path to his instance behind a proxy adding 100 ± 50 ms in each direction."""
    target = cluster.instances[1]
    proxy = JitterProxy("127.0.0.1", target.http_port)
    proxy.start()
    try:
        rows, report = await _sync_session(cluster.instances[0].base, proxy.base, clip_server.url("clip.mp4"),
                                           "-j", screenshots=False)
    finally:
        proxy.stop()
    report = "jitter: 100 ± 50 ms each direction on bob's connection\n" + report
    print("\n" + report)
    bs.SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (bs.SCREENSHOTS.parent / "browser-sync-jitter.txt").write_text(report + "\n")
    assert proxy.chunks > 0
    median = statistics.median(r["median"] for _, r in rows)
    worst = max(r["worst"] for _, r in rows)
    assert median <= JITTER_MEDIAN_LIMIT_MS, report
    assert worst <= JITTER_WORST_LIMIT_MS, report


async def test_auto_play_and_chat_history_across_instances(cluster: ClusterProcesses,
                                                           clip_server: bs.ClipServer) -> None:
    """A short playlist plays on by itself for viewers on two instances; a viewer who reloads on a third
    instance finds the chat's history."""
    for name in ("short-a.mp4", "short-b.mp4"):
        if not (clip_server.directory / name).exists():
            bs.make_clip(clip_server.directory / name, 4)
    base_a, base_b, base_c = (i.base for i in cluster.instances[:3])
    async with bs.chromium() as browser:
        a = await bs.new_page(browser)
        b = await bs.new_page(browser)
        try:
            await bs.open_app(a, base_a)
            await bs.signup(a, "dora")
            room = await bs.create_room(a, "marathon")
            await bs.open_app(b, base_b)
            await bs.signup(b, "eric")
            await bs.join_room_by_id(b, room)
            await bs.send_chat(a, "first message")
            await bs.send_chat(b, "second message")
            await bs.wait_chat(a, "second message")

            await bs.add_movie(a, clip_server.url("short-a.mp4"), "Part one")  # starts by itself
            await bs.add_movie(a, clip_server.url("short-b.mp4"), "Part two")
            for page in (a, b):
                await page.wait_for_function(
                    "() => document.getElementById('now-playing').textContent.includes('Part one')")
            # Nobody presses anything: at the end of part one (4 s, then the room's 3 s pause) part two starts.
            for page in (a, b):
                await page.wait_for_function(
                    "() => document.getElementById('now-playing').textContent.includes('Part two')", timeout=30000)
            await bs.wait_movie_loaded(b)
            await b.wait_for_function("() => window.synctvPlayer.reference.isPlaying")

            # Eric reloads the room on a third instance (logged in there again: another origin, another storage).
            await bs.open_app(b, base_c, "#/login")
            await b.fill("#login-username", "eric")
            await b.fill("#login-password", "password1")
            await b.click("#login-submit")
            await b.wait_for_selector("#view-rooms", state="visible")
            await bs.join_room_by_id(b, room)
            await bs.wait_chat(b, "first message")
            await bs.wait_chat(b, "second message")
            texts = await b.evaluate("() => [...document.querySelectorAll('[data-testid=chat-message] .chat-text')]"
                                     ".map(e => e.textContent)")
            assert texts == ["dora: first message", "eric: second message"], texts
        except BaseException:
            for name, page in (("dora", a), ("eric", b)):
                print(f"--- console of {name}:\n" + "\n".join(page.console_messages[-40:]))
            raise


async def test_newcomer_flow_single_instance(clip_server: bs.ClipServer) -> None:
    server = bs.ServeProcess()
    server.start()
    try:
        await server.wait_ready()
        async with bs.chromium() as browser:
            page = await bs.new_page(browser)
            try:
                await bs.open_app(page, server.base)
                # A fresh visitor lands on the log-in / sign-up page.
                assert await page.evaluate("() => location.hash") == "#/login"
                await bs.signup(page, "newcomer")
                room = await bs.create_room(page, "first room")
                assert len(room) == 32
                await page.wait_for_function("() => document.getElementById('viewer-count').textContent === '1'")
                await bs.add_movie(page, clip_server.url("clip.mp4"), "My clip")
                await bs.play_movie(page, "My clip")
                await bs.wait_movie_loaded(page)
                await page.wait_for_function(
                    "() => document.getElementById('now-playing').textContent.includes('My clip')")
                await page.click("#room-name")
                await _act(page, "v.play()")
                await page.wait_for_function("() => window.synctvPlayer.video.currentTime > 1.5", timeout=10000)
                state = await _state(page)
                assert state["ref"]["isPlaying"] and not state["paused"], state
                await bs.send_chat(page, "hello, is this thing on?")
                await bs.wait_chat(page, "hello, is this thing on?")
                # The room is listed for others, and the server agrees that the movie is playing.
                await page.click("#leave-room")
                await page.wait_for_selector("[data-testid=room-item]:has-text('first room')")
                # "Popular now" stops counting the viewer who just left (asked again once the socket closed).
                await page.wait_for_function("() => !document.getElementById('hot-room-list').textContent"
                                             ".includes('first room')", timeout=5000)
                await page.click("[data-testid=room-item]:has-text('first room') [data-testid=join-room]")
                await bs.wait_connected(page)
                await bs.wait_movie_loaded(page)
                await page.wait_for_function("() => !window.synctvPlayer.video.paused"
                                             " && window.synctvPlayer.video.currentTime > 2", timeout=10000)
                path = await bs.screenshot(page, "newcomer-room-desktop.png", bs.DESKTOP)
                print(f"\nscreenshot: {path}")
                # Someone on the room list sees the newcomer in "Popular now", and sees them gone once they close
                # the tab, without reloading the list.
                watcher = await bs.new_page(browser)
                await bs.open_app(watcher, server.base, "#/rooms")
                await watcher.wait_for_function("() => document.getElementById('hot-room-list').textContent"
                                                ".includes('1 watching')")
                await page.close()
                await watcher.wait_for_function("() => !document.getElementById('hot-room-list').textContent"
                                                ".includes('first room')", timeout=15000)
            except BaseException:
                print("--- console:\n" + "\n".join(page.console_messages[-40:]) + "\n--- server log:\n" + server.log())
                raise
    finally:
        server.stop()

