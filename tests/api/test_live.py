"""Live streaming end to end: ffmpeg publishes over RTMP, ffprobe/ffmpeg decode the FLV and HLS outputs."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from synctv.live import flv
from tests.support.api_client import Api
from tests.support.asserts import assert_error
from tests.support.live import decoded_frames, publish_args, run, start, strip_png
from tests.support.servers import Server, start_server


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[Server]:
    runtime, base = await start_server(tmp_path / "data")
    await runtime.store.settings.set_many({"ts_disguised_as_png": False})
    async with aiohttp.ClientSession() as session:
        yield Server(runtime, Api(base, session))
    await runtime.stop()


async def live_movie(server: Server, name: str = "cam") -> tuple[str, str, str]:
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "live room")
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                  json={"name": name, "live": True, "rtmpSource": True})
    assert status == 200, body
    return alice, rid, body["data"]["id"]


async def publish_key(server: Server, token: str, rid: str, mid: str) -> str:
    status, body = await server.api.call("POST", "/api/room/movie/live/publishKey", token=token, room=rid,
                                         json={"id": mid})
    assert status == 200, body
    assert body["data"]["app"] == rid
    return str(body["data"]["token"])


def rtmp_url(server: Server, rid: str, key: str) -> str:
    return f"rtmp://127.0.0.1:{server.runtime.rtmp_port}/{rid}/{key}"


def q(token: str, rid: str) -> str:
    return f"token={token}&roomId={rid}"


async def wait_segments(server: Server, token: str, rid: str, mid: str, n: int = 2, timeout: float = 20) -> str:
    url = f"{server.api.base}/api/room/movie/live/hls/list/{mid}.m3u8?{q(token, rid)}"
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with server.api.session.get(url) as resp:
            text = await resp.text()
            if resp.status == 200 and text.count("#EXTINF") >= n:
                assert resp.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
                return text
        assert asyncio.get_running_loop().time() < deadline, text
        await asyncio.sleep(0.3)


async def read_flv(url: str, session: aiohttp.ClientSession, seconds: float) -> list[flv.Tag]:
    reader, tags = flv.TagReader(), []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    async with session.get(url) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "video/x-flv"
        assert resp.headers["Cache-Control"] == "no-store"
        while loop.time() < end:
            try:
                chunk = await asyncio.wait_for(resp.content.readany(), max(end - loop.time(), 0.01))
            except TimeoutError:
                break
            if not chunk:
                break
            tags += reader.feed(chunk)
    return tags


async def test_publish_then_flv_and_hls_decode(live_server: Server) -> None:
    server = live_server
    alice, rid, mid = await live_movie(server)
    key = await publish_key(server, alice, rid, mid)
    pub = await start(publish_args(rtmp_url(server, rid, key), 14))
    try:
        await wait_segments(server, alice, rid, mid, 2)
        base = server.api.base
        got = await decoded_frames(f"{base}/api/room/movie/live/flv/{mid}.flv?{q(alice, rid)}", 2)
        assert got["video"] >= 25 and got["audio"] >= 20 and got["video_codec"] == 0, got
        got = await decoded_frames(f"{base}/api/room/movie/live/hls/list/{mid}.m3u8?{q(alice, rid)}", 3)
        assert got["video"] >= 50 and got["audio"] >= 50, got
        async with server.api.session.get(base + "/metrics") as resp:
            metrics = await resp.text()
        assert "synctv_live_publishers 1.0" in metrics and "synctv_live_channels 1.0" in metrics
        assert re.search(r'synctv_live_bytes_out_total\{output="flv"\} [1-9]', metrics)
        assert re.search(r"synctv_live_bytes_in_total [1-9]", metrics)
        # the current movie hands out both URLs, as upstream
        await server.api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
        status, body = await server.api.call("GET", "/api/room/movie/current", token=alice, room=rid)
        assert status == 200
        movie_base = body["data"]["movie"]["base"]
        assert movie_base["url"] == f"/api/room/movie/live/hls/list/{mid}.m3u8?{q(alice, rid)}"
        assert movie_base["type"] == "m3u8" and movie_base["headers"] == {}
        assert movie_base["moreSources"] == [{"name": "flv", "type": "flv",
                                              "url": f"/api/room/movie/live/flv/{mid}.flv?{q(alice, rid)}"}]
    finally:
        pub.kill()
        await pub.wait()


async def test_png_disguise_serves_prefixed_segments_that_decode(live_server: Server, tmp_path: Path) -> None:
    server = live_server
    alice, rid, mid = await live_movie(server)
    key = await publish_key(server, alice, rid, mid)
    pub = await start(publish_args(rtmp_url(server, rid, key), 10))
    try:
        await server.store.settings.set_many({"ts_disguised_as_png": True})
        text = await wait_segments(server, alice, rid, mid, 1)
        uri = next(line for line in text.splitlines() if line.startswith("/"))
        assert uri.endswith(".png") and f"/{rid}/{mid}/" in uri
        async with server.api.session.get(server.api.base + uri) as resp:  # no token: segments are public
            assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
            assert resp.headers["Cache-Control"] == "public, max-age=90"
            data = await resp.read()
        async with server.api.session.get(server.api.base + uri[:-4] + ".ts") as resp:
            assert resp.status == 404  # the wrong extension for the mode
        path = tmp_path / "seg.ts"
        path.write_bytes(strip_png(data))
        got = await decoded_frames(str(path), 10)
        assert got["video"] >= 25 and got["audio"] >= 20, got
    finally:
        pub.kill()
        await pub.wait()


async def test_wrong_keys_second_publisher_and_rotation(live_server: Server) -> None:
    server = live_server
    alice, rid, mid = await live_movie(server)
    key = await publish_key(server, alice, rid, mid)
    for bad_url in (rtmp_url(server, rid, "not-a-key"), rtmp_url(server, rid, key[:-4] + "AAAA"),
                    rtmp_url(server, "0" * 32, key), rtmp_url(server, "bad", key)):
        proc = await run(publish_args(bad_url, 3), timeout=30)
        assert proc.rc != 0
    assert server.runtime.services.live.counters.refused == 4
    pub = await start(publish_args(rtmp_url(server, rid, key), 30))
    try:
        await wait_segments(server, alice, rid, mid, 1)
        second = await run(publish_args(rtmp_url(server, rid, key), 3), timeout=30)
        assert second.rc != 0  # one publisher per channel
        assert pub.returncode is None
        new_key = await publish_key(server, alice, rid, mid)  # rotation cuts the old publisher
        await asyncio.wait_for(pub.wait(), 10)
        old = await run(publish_args(rtmp_url(server, rid, key), 3), timeout=30)
        assert old.rc != 0
        fresh = await run(publish_args(rtmp_url(server, rid, new_key), 2), timeout=30)
        assert fresh.rc == 0, fresh.err
    finally:
        if pub.returncode is None:
            pub.kill()
        await pub.wait()


async def test_reconnect_gives_hls_a_discontinuity_and_flv_keeps_going(live_server: Server) -> None:
    server = live_server
    alice, rid, mid = await live_movie(server)
    key = await publish_key(server, alice, rid, mid)
    url = f"{server.api.base}/api/room/movie/live/flv/{mid}.flv?{q(alice, rid)}"
    viewer = asyncio.create_task(read_flv(url, server.api.session, 16))
    first = await run(publish_args(rtmp_url(server, rid, key), 5), timeout=30)
    assert first.rc == 0, first.err
    second = await run(publish_args(rtmp_url(server, rid, key), 6), timeout=30)
    assert second.rc == 0, second.err
    tags = await viewer
    keyframes = [t for t in tags if t.is_keyframe]
    assert len(keyframes) >= 9  # both sessions reached the same viewer (25-frame GOPs, 11 s)
    headers = [t for t in tags if t.is_sequence_header and t.kind == flv.VIDEO]
    assert len(headers) >= 2
    video_ts = [t.timestamp for t in tags if t.kind == flv.VIDEO and not t.is_sequence_header]
    assert video_ts == sorted(video_ts)  # one timeline across the reconnect
    text = await wait_segments(server, alice, rid, mid, 3)
    assert "#EXT-X-DISCONTINUITY" in text


async def test_deleting_the_movie_closes_its_channel(live_server: Server) -> None:
    server = live_server
    alice, rid, mid = await live_movie(server)
    key = await publish_key(server, alice, rid, mid)
    pub = await start(publish_args(rtmp_url(server, rid, key), 30))
    try:
        await wait_segments(server, alice, rid, mid, 1)
        # The room's first movie started by itself, and the current movie can't be deleted: stop it first
        # (a published channel lives on while its movie is not current).
        await server.api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": ""}, expect=204)
        await server.api.ok("POST", "/api/room/movie/delete", token=alice, room=rid, json={"ids": [mid]},
                            expect=204)
        await asyncio.wait_for(pub.wait(), 10)
        assert mid not in server.runtime.services.live.channels
    finally:
        if pub.returncode is None:
            pub.kill()
        await pub.wait()


async def test_deleting_the_room_closes_its_channels(live_server: Server) -> None:
    server = live_server
    alice, rid, mid = await live_movie(server)
    key = await publish_key(server, alice, rid, mid)
    pub = await start(publish_args(rtmp_url(server, rid, key), 30))
    try:
        await wait_segments(server, alice, rid, mid, 1)
        await server.api.ok("POST", "/api/room/admin/delete", token=alice, room=rid, json={}, expect=204)
        await asyncio.wait_for(pub.wait(), 10)
        assert not server.runtime.services.live.channels
        again = await run(publish_args(rtmp_url(server, rid, key), 2), timeout=30)
        assert again.rc != 0  # the room is gone
    finally:
        if pub.returncode is None:
            pub.kill()
        await pub.wait()


async def test_live_routes_authorization_and_bad_input(live_server: Server) -> None:
    server, api = live_server, live_server.api
    alice, rid, mid = await live_movie(server)
    bob = await api.signup("bob")
    vod = (await api.push_movie(alice, rid, "vod", "https://example.com/a.mp4"))["id"]
    pk = "/api/room/movie/live/publishKey"

    async def call(method: str, path: str, token: str | None = None, room: str | None = None,
                   **kw: Any) -> tuple[int, Any]:
        return await api.call(method, path, token=token, room=room, **kw)

    for token, room, body, want in ((None, rid, {"id": mid}, 403), (alice, None, {"id": mid}, 401),
                                    (bob, rid, {"id": mid}, 403), (alice, rid, {"id": vod}, 400),
                                    (alice, rid, {"id": "x"}, 400), (alice, rid, {}, 400),
                                    (alice, rid, {"id": "0" * 32}, 404)):
        status, resp = await call("POST", pk, token, room, json=body)
        assert_error(status, resp, want)
    status, resp = await call("POST", pk, alice, rid, data=b"[1]")
    assert_error(status, resp, 400)
    await server.store.settings.set_many({"enable_guest": False})
    for path in (f"/api/room/movie/live/flv/{mid}.flv", f"/api/room/movie/live/hls/list/{mid}.m3u8"):
        status, resp = await call("GET", path)
        assert_error(status, resp, 401)
        status, resp = await call("GET", path.replace(mid, "nope"), alice, rid)
        assert_error(status, resp, 400)
        status, resp = await call("GET", path.replace(mid, vod), alice, rid)
        assert_error(status, resp, 400)
        status, resp = await call("GET", path.replace(mid, "0" * 32), alice, rid)
        assert_error(status, resp, 404)
    status, resp = await call("GET", f"/api/room/movie/live/hls/list/{mid}", alice, rid)
    assert_error(status, resp, 404)
    assert "not started" in resp["error"]
    data = "/api/room/movie/live/hls/data"
    for path, want in ((f"{data}/x/{mid}/{'a' * 32}.ts", 400), (f"{data}/{rid}/x/{'a' * 32}.ts", 400),
                       (f"{data}/{rid}/{mid}/{'a' * 32}.ts", 404), (f"{data}/{rid}/{mid}/short.ts", 404),
                       (f"{data}/{rid}/{mid}/{'a' * 32}.exe", 404)):
        status, resp = await call("GET", path)
        assert_error(status, resp, want)


async def test_rtmp_source_validation(tmp_path: Path) -> None:
    runtime, base = await start_server(tmp_path / "data", SYNCTV_SERVER_RTMP_ENABLE="false")
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            alice = await api.signup("alice")
            rid = await api.create_room(alice, "r")
            for body, why in (({"live": True, "rtmpSource": True}, "disabled"),
                              ({"rtmpSource": True}, "must be live"),
                              ({"rtmpSource": True, "live": True, "proxy": True}, "cannot be proxied")):
                status, resp = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                              json={"name": "x", **body})
                assert_error(status, resp, 400)
                assert why in resp["error"], resp
            assert runtime.rtmp_port == 0
    finally:
        await runtime.stop()


async def test_rtmp_on_its_own_port(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runtime, base = await start_server(tmp_path / "data2", SYNCTV_SERVER_RTMP_PORT=str(port),
                                       SYNCTV_SERVER_RTMP_LISTEN="127.0.0.1")
    try:
        assert runtime.rtmp_port == port != runtime.port
        async with aiohttp.ClientSession() as session:
            server = Server(runtime, Api(base, session))
            alice, rid, mid = await live_movie(server)
            status, body = await server.api.call("POST", "/api/room/movie/live/publishKey", token=alice, room=rid,
                                                 json={"id": mid})
            assert status == 200, body
            assert body["data"]["host"].endswith(f":{port}")
            proc = await run(publish_args(rtmp_url(server, rid, body["data"]["token"]), 2), timeout=30)
            assert proc.rc == 0, proc.err
            # the HTTP port no longer speaks RTMP
            bad = await run(publish_args(f"rtmp://127.0.0.1:{runtime.port}/{rid}/{body['data']['token']}", 1),
                            timeout=30)
            assert bad.rc != 0
    finally:
        await runtime.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_args(url: str, seconds: float) -> list[str]:
    """ffmpeg as a live origin: it listens on `url` (http:// FLV or rtmp://) and streams to the first client."""
    args = publish_args(url, seconds)
    return [*args[:-1], "-listen", "1", url]


@pytest.mark.parametrize("scheme", ["http", "rtmp"])
async def test_live_pull_from_an_flv_or_rtmp_origin(live_server: Server, scheme: str) -> None:
    server, api = live_server, live_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "pull")
    port = _free_port()
    source = f"http://127.0.0.1:{port}/live.flv" if scheme == "http" else f"rtmp://127.0.0.1:{port}/app/cam"
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                  json={"name": "pulled", "url": source, "live": True, "proxy": True})
    assert_error(status, body, 400)  # the SSRF guard: loopback is refused unless allowed
    assert "loopback" in body["error"]
    await server.store.settings.set_many({"allow_proxy_to_local": True})
    bad_inputs = ((({"type": "mp4"}, "HLS (m3u8), HTTP-FLV or rtmp"),) if scheme == "http"
                  else (({"url": "rtmp://127.0.0.1/onlyapp"}, "app and a stream"),))
    for bad, why in bad_inputs:
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                      json={"name": "x", "url": source, "live": True, "proxy": True, **bad})
        assert_error(status, body, 400)
        assert why in body["error"], body
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                  json={"name": "pulled", "url": source, "live": True, "proxy": True})
    assert status == 200, body
    mid = body["data"]["id"]
    origin = await start(_serve_args(source, 30))
    try:
        await asyncio.sleep(1.0)  # the origin listens
        text = await wait_segments(server, alice, rid, mid, 2, timeout=30)  # the first request starts the pull
        assert "#EXTINF" in text
        got = await decoded_frames(f"{server.api.base}/api/room/movie/live/flv/{mid}.flv?{q(alice, rid)}", 2)
        assert got["video"] >= 25 and got["audio"] >= 20, got
        await server.api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
        status, body = await server.api.call("GET", "/api/room/movie/current", token=alice, room=rid)
        movie_base = body["data"]["movie"]["base"]
        assert movie_base["url"].startswith(f"/api/room/movie/live/hls/list/{mid}.m3u8?")
        assert movie_base["moreSources"][0]["type"] == "flv"
        # when it stops being current the channel closes and the pull stops
        await server.api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": ""}, expect=204)
        assert mid not in server.runtime.services.live.channels
        await asyncio.wait_for(origin.wait(), 15)  # its only client went away
    finally:
        if origin.returncode is None:
            origin.kill()
        await origin.wait()


async def test_shared_port_tells_rtmp_from_http_and_drops_silent_connections(
        live_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from synctv.live import listener

    monkeypatch.setattr(listener, "FIRST_BYTE_TIMEOUT_S", 0.3)
    port = live_server.runtime.port
    assert live_server.runtime.rtmp_port == port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(reader.read(), 3) == b""  # silent: closed by the server
    writer.close()
    # a broken RTMP handshake ends that connection only; HTTP on the same port is unaffected
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x03" + b"\x00" * 100)
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x07" * 1537)  # not RTMP 3: goes to HTTP, which refuses it
    assert (await asyncio.wait_for(reader.read(), 3)).startswith(b"HTTP/1.0 400")
    writer.close()
    async with live_server.api.session.get(live_server.api.base + "/api/public/time") as resp:
        assert resp.status == 200
