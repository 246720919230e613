"""The media proxy end to end: a real server, a real loopback origin, ffmpeg-made media."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from synctv._generated import message_pb2 as pb
from synctv.media.service import cancel_proxy_streams, media_proxy
from tests.support.asserts import assert_error
from tests.support.media_origin import GATE_HEADER, KEY_BYTES, MediaOrigin
from tests.support.servers import Server

GATE = {GATE_HEADER[0]: GATE_HEADER[1]}


async def allow_local(server: Server, on: bool = True, allowlist: str = "") -> None:
    await server.store.settings.set_many({"allow_proxy_to_local": on, "proxy_allowlist": allowlist})


async def room_with(server: Server, url: str, **extra: Any) -> tuple[str, str, str]:
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "proxied")
    movie = await api.push_movie(alice, rid, "clip", url, proxy=True, **extra)
    # The first movie of a room starts by itself, and the current movie can't be edited or deleted: stop it.
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": ""})
    return alice, rid, movie["id"]


async def get(server: Server, path: str, token: str | None, room: str | None = None,
              headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    h = dict(headers or {})
    if token:
        h["Authorization"] = token
    if room:
        h["X-Room-Id"] = room
    async with server.api.session.request(method, server.api.base + path, headers=h) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def test_push_validation(sqlite_server: Server, origin: MediaOrigin) -> None:
    server, api = sqlite_server, sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "validation")
    url = origin.url("files/clip.mp4")
    # the SSRF guard is on by default: a loopback target is refused at push time
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                  json={"name": "p", "url": url, "proxy": True})
    assert_error(status, body, 400)
    assert "loopback" in body["error"]
    await allow_local(server)
    for bad, why in (({"url": "ftp://example.com/a.mp4"}, "scheme"), ({"url": "magnet:?xt=urn:x"}, "scheme"),
                     ({"url": url, "live": True, "type": "mp4"}, "HLS"),  # live: HLS, FLV or RTMP
                     ({"url": "rtmp://127.0.0.1/live", "live": True}, "stream name"),
                     ({"url": "http://no-such-host.invalid/a.mp4"}, "resolve")):
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                      json={"name": "p", "proxy": True, **bad})
        assert_error(status, body, 400)
        assert why in body["error"], (bad, body)
    await api.push_movie(alice, rid, "ok", url, proxy=True)
    await api.push_movie(alice, rid, "live", origin.url("files/hls/aes/index.m3u8"), proxy=True, live=True)
    await server.store.settings.set_many({"movie_proxy": False})
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                  json={"name": "p", "url": url, "proxy": True})
    assert_error(status, body, 400)
    await server.store.settings.set_many({"live_proxy": False})
    status, body = await api.call("POST", "/api/room/movie/pushs", token=alice, room=rid,
                                  json=[{"name": "p", "url": origin.url("files/hls/aes/index.m3u8"),
                                         "proxy": True, "live": True}])
    assert_error(status, body, 400)


async def test_list_privacy_and_current_url(sqlite_server: Server, origin: MediaOrigin) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    url = origin.url("gated/clip.mp4")
    alice, rid, mid = await room_with(server, url, headers=GATE)
    bob = await api.signup("bob")
    mine = (await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid))["movies"][0]
    assert mine["base"]["url"] == url and mine["base"]["headers"] == GATE
    theirs = (await api.ok("GET", "/api/room/movie/movies", token=bob, room=rid))["movies"][0]
    assert theirs["base"]["url"] == "" and theirs["base"]["headers"] == {}
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": mid})
    for token in (alice, bob):
        cur = (await api.ok("GET", "/api/room/movie/current", token=token, room=rid))["movie"]
        parts = urlsplit(cur["base"]["url"])
        assert parts.path == f"/api/room/movie/proxy/{mid}"
        assert parse_qs(parts.query) == {"token": [token], "roomId": [rid]}
        assert cur["base"]["headers"] == {} and cur["base"]["type"] == "mp4"
        # the handed-out URL works on its own: no Authorization header, no X-Room-Id
        status, _, data = await get(server, cur["base"]["url"], None)
        assert status == 200 and data == origin.files.read("clip.mp4")


async def test_byte_proxy_ranges_head_and_headers(sqlite_server: Server, origin: MediaOrigin) -> None:
    server = sqlite_server
    await allow_local(server)
    alice, rid, mid = await room_with(server, origin.url("redirect-gated/big.bin"), headers=GATE)
    data = origin.files.read("big.bin")
    path = f"/api/room/movie/proxy/{mid}"
    status, hdrs, body = await get(server, path, alice, rid)
    assert status == 200 and body == data and hdrs["Content-Length"] == str(len(data))
    assert hdrs.get("Accept-Ranges") == "bytes"
    n = len(data)
    for rng, lo, hi in (("bytes=0-99", 0, 99), ("bytes=1000-", 1000, n - 1), ("bytes=-500", n - 500, n - 1),
                        (f"bytes={n - 10}-{n + 1000}", n - 10, n - 1), ("bytes=-0x", 0, n - 1)):
        status, hdrs, body = await get(server, path, alice, rid, {"Range": rng})
        if rng == "bytes=-0x":  # malformed: ignored, whole file
            assert status == 200 and body == data
            continue
        assert status == 206, rng
        assert body == data[lo:hi + 1], rng
        assert hdrs["Content-Range"] == f"bytes {lo}-{hi}/{n}", rng
    status, hdrs, body = await get(server, path, alice, rid, {"Range": f"bytes={n}-"})
    assert status == 416 and hdrs["Content-Range"] == f"bytes */{n}"
    origin.seen.clear()
    status, hdrs, body = await get(server, path, alice, rid, method="HEAD")
    assert status == 200 and body == b"" and hdrs["Content-Length"] == str(n)
    assert {s.method for s in origin.seen} == {"HEAD"}
    # the movie's header went to every hop (the redirect and the gated file), with the default User-Agent
    hops = [s for s in origin.seen if s.path.startswith(("/redirect-gated/", "/gated/"))]
    assert len(hops) == 2
    for hop in hops:
        assert hop.headers.get(GATE_HEADER[0]) == GATE_HEADER[1]
        assert "Chrome/" in hop.headers.get("User-Agent", "")


async def test_proxied_bytes_never_run_as_a_page(sqlite_server: Server, origin: MediaOrigin) -> None:
    server = sqlite_server
    await allow_local(server)
    alice, rid, mid = await room_with(server, origin.url("files/page.html"))
    hls = (await server.api.push_movie(alice, rid, "h", origin.url("files/hls/master.m3u8"), proxy=True))["id"]
    for movie, headers in ((mid, {}), (mid, {"Range": "bytes=0-5"}), (hls, {})):
        status, hdrs, _ = await get(server, f"/api/room/movie/proxy/{movie}?roomId={rid}", None, headers=headers)
        assert status in (200, 206)
        assert "sandbox" in hdrs["Content-Security-Policy"] and hdrs["X-Content-Type-Options"] == "nosniff"


async def test_upstream_errors_and_user_agent(sqlite_server: Server, origin: MediaOrigin) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, rid, gated = await room_with(server, origin.url("gated/clip.mp4"))
    missing = (await api.push_movie(alice, rid, "m", origin.url("files/nope.mp4"), proxy=True))["id"]
    custom = (await api.push_movie(alice, rid, "ua", origin.url("files/clip.mp4"), proxy=True,
                                   headers={"User-Agent": "MyPlayer/1.0"}))["id"]
    status, _, body = await get(server, f"/api/room/movie/proxy/{gated}", alice, rid)
    assert status == 502 and b"403" in body  # the origin wants the Referer this movie does not have
    status, _, body = await get(server, f"/api/room/movie/proxy/{missing}", alice, rid)
    assert status == 404 and b"error" in body
    origin.seen.clear()
    status, _, _ = await get(server, f"/api/room/movie/proxy/{custom}", alice, rid)
    assert status == 200 and origin.seen[-1].headers["User-Agent"] == "MyPlayer/1.0"
    # an origin that is not listening
    dead = (await api.push_movie(alice, rid, "dead", "http://127.0.0.1:9/x.mp4", proxy=True))["id"]
    status, _, body = await get(server, f"/api/room/movie/proxy/{dead}", alice, rid)
    assert status == 502 and b"error" in body


async def test_proxy_auth_and_bad_input(sqlite_server: Server, origin: MediaOrigin) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, rid, mid = await room_with(server, origin.url("files/clip.mp4"))
    plain = (await api.push_movie(alice, rid, "direct", origin.url("files/clip.mp4")))["id"]
    other_room = await api.create_room(alice, "other")
    mallory = await api.signup("mallory")
    private = await api.create_room(mallory, "locked", password="pw123456")
    for path, token, room, want in (
        (f"/api/room/movie/proxy/{mid}", "garbage", rid, 401),
        (f"/api/room/movie/proxy/{mid}", alice, "not-a-room", 401),
        (f"/api/room/movie/proxy/{mid}", alice, other_room, 404),   # the movie is not in that room
        (f"/api/room/movie/proxy/{mid}", alice, "f" * 32, 404),
        (f"/api/room/movie/proxy/{mid}", alice, private, 403),      # a password room the caller never joined
        (f"/api/room/movie/proxy/{plain}", alice, rid, 400),        # not a proxied movie
        ("/api/room/movie/proxy/..%2F..%2Fetc", alice, rid, 400),
        (f"/api/room/movie/proxy/{mid}/m3u8/garbage", alice, rid, 401),
        (f"/api/room/movie/proxy/{mid}/m3u8/{'a' * 5000}.{'b' * 22}", alice, rid, 401),
    ):
        status, _, body = await get(server, path, token, room)
        assert status == want, (path, status, body)
        assert b'"error"' in body
    # token and room in the query string work as well as headers (that is what players use)
    status, _, body = await get(server, f"/api/room/movie/proxy/{mid}?token={alice}&roomId={rid}", None)
    assert status == 200 and body == origin.files.read("clip.mp4")
    # guests may play a proxied movie in a room that admits guests
    status, _, body = await get(server, f"/api/room/movie/proxy/{mid}?roomId={rid}", None)
    assert status == 200
    await server.store.settings.set_many({"movie_proxy": False})
    status, _, body = await get(server, f"/api/room/movie/proxy/{mid}", alice, rid)
    assert status == 400 and b"disabled" in body


def _uris(playlist: str) -> list[str]:
    out = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    out += re.findall(r'URI="([^"]*)"', playlist)
    return out


async def test_hls_master_aes_and_fmp4(sqlite_server: Server, origin: MediaOrigin) -> None:
    server = sqlite_server
    await allow_local(server)
    alice, rid, mid = await room_with(server, origin.url("gated/hls/master.m3u8"), headers=GATE)
    status, hdrs, body = await get(server, f"/api/room/movie/proxy/{mid}", alice, rid)
    assert status == 200 and hdrs["Content-Type"].startswith("application/vnd.apple.mpegurl")
    assert hdrs["Cache-Control"] == "no-store"
    master = body.decode()
    # playlists are fetched again on every request (a live playlist changes; each copy has fresh tokens)
    before = len(origin.requests_to("/gated/hls/master.m3u8"))
    await get(server, f"/api/room/movie/proxy/{mid}", alice, rid)
    assert len(origin.requests_to("/gated/hls/master.m3u8")) == before + 1
    variants = _uris(master)
    assert len(variants) == 2
    fetched: dict[str, bytes] = {}
    for variant in variants:
        assert variant.startswith(f"/api/room/movie/proxy/{mid}/m3u8/")
        assert parse_qs(urlsplit(variant).query) == {"token": [alice], "roomId": [rid]}
        status, _, body = await get(server, variant, None)
        assert status == 200, body
        media = body.decode()
        assert "127.0.0.1" not in media and "key.bin" not in media and "init.mp4" not in media
        uris = _uris(media)
        assert uris and all(u.startswith(f"/api/room/movie/proxy/{mid}/m3u8/") for u in uris)
        for uri in uris:
            status, _, data = await get(server, uri, None)
            assert status == 200
            fetched[uri] = data
    values = list(fetched.values())
    assert KEY_BYTES in values  # #EXT-X-KEY went through the proxy
    assert origin.files.read("hls/fmp4/init.mp4") in values  # so did #EXT-X-MAP
    assert origin.files.read("hls/aes/seg000.ts") in values and origin.files.read("hls/fmp4/seg003.m4s") in values
    # every fetch the origin saw carried the movie's header (it would have answered 403 otherwise)
    assert all(s.headers.get(GATE_HEADER[0]) == GATE_HEADER[1] for s in origin.requests_to("/gated/"))
    # a token for another movie or room is refused, and so is one minted before the movie was edited
    token_path = variants[0]
    other = (await server.api.push_movie(alice, rid, "other", origin.url("files/hls/master.m3u8"),
                                         proxy=True))["id"]
    status, _, body = await get(server, token_path.replace(mid, other, 1), alice, rid)
    assert status == 403 and b"another room or movie" in body
    rid2 = await server.api.create_room(alice, "second")
    status, _, body = await get(server, urlsplit(token_path).path, alice, rid2)
    assert status == 404  # the movie is not in that room at all
    await server.api.ok("POST", "/api/room/movie/edit", expect=204, token=alice, room=rid,
                        json={"id": mid, "name": "clip", "url": origin.url("gated/hls/master.m3u8"),
                              "proxy": True, "headers": {**GATE, "X-New": "1"}})
    status, _, body = await get(server, token_path, None)
    assert status == 403 and b"older version" in body


async def test_ssrf_guard_on_fetch(sqlite_server: Server, origin: MediaOrigin) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, rid, loop_mid = await room_with(server, origin.url("files/clip.mp4"))
    via_name = (await api.push_movie(alice, rid, "n", origin.url("files/clip.mp4", host="localhost"),
                                     proxy=True))["id"]
    redirect = (await api.push_movie(alice, rid, "r", origin.url(
        f"redirect-to?url={origin.url('files/clip.mp4')}", host="localhost"), proxy=True))["id"]
    hls = (await api.push_movie(alice, rid, "h", origin.url("files/hls/master.m3u8", host="localhost"),
                                proxy=True))["id"]
    status, _, master = await get(server, f"/api/room/movie/proxy/{hls}", alice, rid)
    assert status == 200
    variant = _uris(master.decode())[0]
    # now the guard goes on: pushed movies, redirects and playlist entries are all refused at fetch time
    await allow_local(server, False)
    for mid in (loop_mid, via_name, redirect):
        status, _, body = await get(server, f"/api/room/movie/proxy/{mid}", alice, rid)
        assert status == 403 and b"loopback" in body, body
    status, _, body = await get(server, variant, None)
    assert status == 403
    # the allowlist opens a host name (but not where it redirects) ...
    await allow_local(server, False, "localhost")
    status, _, _ = await get(server, f"/api/room/movie/proxy/{via_name}", alice, rid)
    assert status == 200
    status, _, body = await get(server, f"/api/room/movie/proxy/{redirect}", alice, rid)
    assert status == 403 and b"127.0.0.1" in body
    # ... or a network
    await allow_local(server, False, "127.0.0.0/8, ::1")
    for mid in (loop_mid, via_name, redirect):
        status, _, _ = await get(server, f"/api/room/movie/proxy/{mid}", alice, rid)
        assert status == 200


async def _start_slow(server: Server, origin: MediaOrigin) -> tuple[str, str, str, aiohttp.ClientResponse]:
    await allow_local(server)
    alice, rid, mid = await room_with(server, origin.url("slow/big.bin"))
    resp = await server.api.session.get(server.api.base + f"/api/room/movie/proxy/{mid}",
                                        headers={"Authorization": alice, "X-Room-Id": rid})
    assert resp.status == 200
    await resp.content.readexactly(1024)
    await asyncio.wait_for(origin.slow_started.wait(), 10)
    return alice, rid, mid, resp


async def test_client_disconnect_cancels_upstream(sqlite_server: Server, origin: MediaOrigin) -> None:
    _, _, mid, resp = await _start_slow(sqlite_server, origin)
    proxy = media_proxy(sqlite_server.runtime.services)
    assert proxy.streams.count(mid) == 1
    resp.close()
    await asyncio.wait_for(origin.slow_gone.wait(), 10)
    for _ in range(100):
        if proxy.streams.count(mid) == 0 and proxy.fetcher.limiter.running == 0:
            break
        await asyncio.sleep(0.05)
    assert proxy.streams.count(mid) == 0 and proxy.fetcher.limiter.running == 0


@pytest.mark.parametrize("how", ["delete", "edit", "invalidation"])
async def test_movie_change_cancels_upstream(sqlite_server: Server, origin: MediaOrigin, how: str) -> None:
    server, api = sqlite_server, sqlite_server.api
    alice, rid, mid, resp = await _start_slow(server, origin)
    if how == "delete":
        await api.ok("POST", "/api/room/movie/delete", expect=204, token=alice, room=rid, json={"ids": [mid]})
    elif how == "edit":
        await api.ok("POST", "/api/room/movie/edit", expect=204, token=alice, room=rid,
                     json={"id": mid, "name": "renamed", "url": origin.url("files/big.bin"), "proxy": True})
    else:
        # what the cluster's invalidation path calls on every other instance
        assert cancel_proxy_streams(server.runtime.services, mid) == 1
    await asyncio.wait_for(origin.slow_gone.wait(), 10)
    with pytest.raises(aiohttp.ClientPayloadError):
        await asyncio.wait_for(resp.content.read(), 10)  # cut short, never passed off as complete
    resp.close()


async def test_folder_delete_cancels_children(sqlite_server: Server, origin: MediaOrigin) -> None:
    server, api = sqlite_server, sqlite_server.api
    alice, rid, mid, resp = await _start_slow(server, origin)
    folder = (await api.push_movie(alice, rid, "folder", "", isFolder=True))["id"]
    await api.ok("POST", "/api/room/movie/edit", expect=204, token=alice, room=rid,
                 json={"id": mid, "name": "c", "url": origin.url("slow/big.bin"), "proxy": True, "parentId": folder})
    await asyncio.wait_for(origin.slow_gone.wait(), 10)  # the edit itself stops the stream
    resp.close()
    origin.slow_started.clear()
    origin.slow_gone.clear()
    resp = await api.session.get(api.base + f"/api/room/movie/proxy/{mid}",
                                 headers={"Authorization": alice, "X-Room-Id": rid})
    await resp.content.readexactly(1024)
    await api.ok("POST", "/api/room/movie/clear", expect=204, token=alice, room=rid, json={"parentId": ""})
    await asyncio.wait_for(origin.slow_gone.wait(), 10)
    resp.close()


async def test_concurrency_bound_per_user(tmp_path: Any, origin: MediaOrigin) -> None:
    from tests.support.api_client import Api
    from tests.support.servers import start_server

    runtime, base = await start_server(tmp_path / "data", SYNCTV_PROXY_MAX_STREAMS_PER_USER="1")
    try:
        async with aiohttp.ClientSession() as session:
            server = Server(runtime, Api(base, session))
            _, rid, mid, resp = await _start_slow(server, origin)
            alice = (await server.api.login("alice", "password1"))
            status, _, body = await get(server, f"/api/room/movie/proxy/{mid}", alice, rid)
            assert status == 429 and b"too many" in body
            resp.close()
    finally:
        await runtime.stop()


@pytest.mark.parametrize("where", ["memory", "disk"])
async def test_slice_cache(tmp_path: Any, origin: MediaOrigin, where: str) -> None:
    from tests.support.api_client import Api
    from tests.support.servers import start_server

    env = {"SYNCTV_SERVER_PROXY_CACHE_SIZE": "16MB"}
    if where == "disk":
        env["SYNCTV_SERVER_PROXY_CACHE_PATH"] = str(tmp_path / "cache")
    runtime, base = await start_server(tmp_path / "data", **env)
    try:
        async with aiohttp.ClientSession() as session:
            server = Server(runtime, Api(base, session))
            await server.store.settings.set_many({"proxy_cache_enable": True})
            await allow_local(server)
            alice, rid, mid = await room_with(server, origin.url("gated/big.bin"), headers=GATE)
            data = origin.files.read("big.bin")
            n = len(data)
            path = f"/api/room/movie/proxy/{mid}"
            origin.seen.clear()
            # many viewers at once ask for the same bytes: each 2 MiB slice is fetched once
            results = await asyncio.gather(*(get(server, path, alice, rid, {"Range": "bytes=100-2097251"})
                                             for _ in range(8)))
            for status, hdrs, body in results:
                assert status == 206 and body == data[100:2097252]
                assert hdrs["Content-Range"] == f"bytes 100-2097251/{n}"
            fetched = [s for s in origin.seen if s.path == "/gated/big.bin"]
            assert sorted(s.headers["Range"] for s in fetched) == ["bytes=0-2097151", f"bytes=2097152-{n - 1}"]
            assert all(s.headers[GATE_HEADER[0]] == GATE_HEADER[1] for s in fetched)
            assert "MISS" in {h["X-Cache-Status"] for _, h, _ in results}  # the first; later ones may hit
            for rng, lo, hi in (("bytes=0-99", 0, 99), ("bytes=-500", n - 500, n - 1),
                                ("bytes=2097000-2097300", 2097000, 2097300), (None, 0, n - 1)):
                status, hdrs, body = await get(server, path, alice, rid, {"Range": rng} if rng else {})
                assert status == (206 if rng else 200) and body == data[lo:hi + 1], rng
                assert hdrs["Content-Length"] == str(hi - lo + 1)
                assert hdrs["X-Cache-Status"] == "HIT"
            status, hdrs, _ = await get(server, path, alice, rid, {"Range": f"bytes={n}-"})
            assert status == 416 and hdrs["Content-Range"] == f"bytes */{n}"
            assert len([s for s in origin.seen if s.path == "/gated/big.bin"]) == 2
    finally:
        await runtime.stop()
    if where == "disk":
        # the disk cache survives a restart
        runtime, base = await start_server(tmp_path / "data", **env)
        try:
            async with aiohttp.ClientSession() as session:
                server = Server(runtime, Api(base, session))
                origin.seen.clear()
                status, hdrs, body = await get(server, path, alice, rid, {"Range": "bytes=0-99"})
                assert status == 206 and body == data[:100] and hdrs["X-Cache-Status"] == "HIT"
                assert origin.requests_to("/gated/big.bin") == []
        finally:
            await runtime.stop()


async def test_a_proxied_vod_playlist_tells_the_room_its_length(sqlite_server: Server, origin: MediaOrigin) -> None:
    """The server reads a proxied VOD playlist's length: the clock stops there without a client's report, even
    when a client reported a longer one, and a viewer without the set-status permission fetching it is enough."""
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "lengths")
    movie = await api.push_movie(alice, rid, "vod", origin.url(f"files/{origin.files.aes_playlist}"), proxy=True)
    length = round(sum(float(x) for x in re.findall(r"#EXTINF:([0-9.]+)",
                                                    origin.files.read(origin.files.aes_playlist).decode())), 3)
    assert length > 2
    await api.ok("POST", "/api/room/movie/duration", expect=204, token=alice, room=rid,
                 json={"id": movie["id"], "duration": 3600})
    bob = await api.signup("bob")
    await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
    status, _, body = await get(server, f"/api/room/movie/proxy/{movie['id']}", bob, rid)
    assert status == 200 and b"#EXT-X-ENDLIST" in body
    ws = await api.ws(rid, alice)
    await ws.send(pb.Message(type=pb.MessageType.STATUS, timestamp=time.time_ns() // 1_000_000,
                             playback_status=pb.Status(is_playing=True, current_time=length - 0.3, playback_rate=1.0)))
    stop = await ws.expect(pb.MessageType.STATUS, timeout=3)  # the room's own clock reached the playlist's end
    assert abs(stop.playback_status.current_time - length) < 1e-6 and not stop.playback_status.is_playing
    await ws.close()
