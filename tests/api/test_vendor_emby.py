"""Emby and Jellyfin through the API: binding, browsing, vendor movies with their sources and subtitles (direct
and proxied), transcodes stopped, against the Emby/Jellyfin emulation on loopback and a real server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from synctv._generated import message_pb2 as pb
from synctv.store.models import VendorAccount
from synctv.vendors.emby.local import _run_time_s
from tests.conftest_vendors import EMBY_MEDIA, EMBY_PASSWORD, EMBY_USER
from tests.support.api_client import Api
from tests.support.asserts import assert_error
from tests.support.emby_emulator import SRT, EmbyEmulator
from tests.support.servers import Server, start_server


async def allow_local(server: Server) -> None:
    await server.store.settings.set_many({"allow_proxy_to_local": True})


async def bind(api: Api, token: str, emby: EmbyEmulator) -> str:
    await api.ok("POST", "/api/vendor/emby/login", token=token, expect=204,
                 json={"host": emby.base, "username": EMBY_USER, "password": EMBY_PASSWORD})
    return emby.server_id


async def test_routes_need_a_user(sqlite_server: Server) -> None:
    api = sqlite_server.api
    for method, path in (("POST", "/api/vendor/emby/login"), ("POST", "/api/vendor/emby/logout"),
                         ("POST", "/api/vendor/emby/list"), ("GET", "/api/vendor/emby/me"),
                         ("GET", "/api/vendor/emby/binds")):
        for token in (None, "Bearer nope"):
            status, body = await api.call(method, path, token=token, json={})
            assert_error(status, body, 401)


async def test_login_bad_input_and_refusals(tmp_path: Path, emby: EmbyEmulator) -> None:
    runtime, base = await start_server(tmp_path / "data", SYNCTV_VENDORS_TIMEOUT="1s")
    async with aiohttp.ClientSession() as session:
        server = Server(runtime, Api(base, session))
        api = server.api
        alice = await api.signup("alice")
        good = {"host": emby.base, "username": EMBY_USER, "password": EMBY_PASSWORD}
        status, body = await api.call("POST", "/api/vendor/emby/login", token=alice, json=good)
        assert_error(status, body, 400)  # loopback refused by the SSRF guard
        assert emby.logins == 0
        await allow_local(server)
        for bad in ({}, {"host": emby.base}, {**good, "username": ""}, {**good, "host": "gopher://x"},
                    {**good, "password": ["x"]}, {**good, "password": "x" * 2000}, {**good, "password": "wrong"}):
            status, body = await api.call("POST", "/api/vendor/emby/login", token=alice, json=bad)
            assert_error(status, body, 400)
        emby.html_only = True
        status, body = await api.call("POST", "/api/vendor/emby/login", token=alice, json=good)
        assert_error(status, body, 502)
        emby.html_only = False
        emby.delay = 5
        started = time.monotonic()
        status, body = await api.call("POST", "/api/vendor/emby/login", token=alice, json=good)
        assert_error(status, body, 504)
        assert time.monotonic() - started < 3
        emby.delay = 0
        assert await api.ok("GET", "/api/vendor/emby/binds", token=alice) == []
        sid = await bind(api, alice, emby)
        assert await api.ok("GET", "/api/vendor/emby/binds", token=alice) == [{"serverId": sid, "host": emby.base}]
        async with runtime.store.engine.connect() as conn:
            sealed = (await conn.execute(select(VendorAccount.sealed))).scalar_one()
        for secret in (EMBY_PASSWORD, emby.base, *emby.tokens):
            assert secret.encode() not in sealed
    await runtime.stop()


async def test_browse_search_me_logout(sqlite_server: Server, emby: EmbyEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    status, body = await api.call("POST", "/api/vendor/emby/list", token=alice, json={})
    assert_error(status, body, 400)
    sid = await bind(api, alice, emby)
    views = await api.ok("POST", "/api/vendor/emby/list", token=alice, json={"path": ""})
    assert [(i["name"], i["isDir"], i["type"]) for i in views["items"]] == [
        ("Movies", True, "CollectionFolder"), ("Shows", True, "CollectionFolder")]
    movies = await api.ok("POST", "/api/vendor/emby/list", token=alice,
                          json={"path": f"{sid}/{emby.item_id('movies')}"})
    assert movies["total"] == 2
    assert movies["items"][0] == {"name": "Clip", "path": f"{sid}/{emby.item_id('clip')}", "isDir": False,
                                  "type": "Movie"}
    assert movies["paths"] == [{"name": "", "path": f"{sid}/"},
                               {"name": "Movies", "path": f"{sid}/{emby.item_id('movies')}"}]
    paged = await api.ok("POST", "/api/vendor/emby/list", token=alice, params={"page": 2, "max": 1},
                         json={"path": f"{sid}/{emby.item_id('movies')}"})
    assert [i["name"] for i in paged["items"]] == ["Other"] and paged["total"] == 2
    found = await api.ok("POST", "/api/vendor/emby/list", token=alice,
                         json={"path": f"{sid}/{emby.item_id('shows')}", "keyword": "pil"})
    assert [(i["name"], i["type"]) for i in found["items"]] == [("Pilot", "Episode")]
    status, body = await api.call("POST", "/api/vendor/emby/list", token=alice, json={"path": f"{sid}/999999999"})
    assert_error(status, body, 404)
    for bad in ({"path": 1}, {"path": "bad id/x"}, {"path": f"{sid}/a/b"}, {"path": f"{sid}/x", "keyword": 5}):
        status, body = await api.call("POST", "/api/vendor/emby/list", token=alice, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/vendor/emby/list", token=bob, json={"path": f"{sid}/"})
    assert_error(status, body, 400)
    me = await api.ok("GET", "/api/vendor/emby/me", token=alice, params={"serverID": sid})
    assert me["isLogin"] is True
    assert me["info"]["serverName"] == "living-room" and me["info"]["id"] == sid
    assert "somethingElse" not in me["info"] and "productName" not in me["info"]
    for params in ({}, {"serverID": "x/y"}):
        status, body = await api.call("GET", "/api/vendor/emby/me", token=alice, params=params)
        assert_error(status, body, 400)
    status, body = await api.call("GET", "/api/vendor/emby/me", token=bob, params={"serverID": sid})
    assert_error(status, body, 400)
    # tokens die on the Emby side: one more login, then it works again
    logins = emby.logins
    emby.expire_tokens()
    await api.ok("GET", "/api/vendor/emby/me", token=alice, params={"serverID": sid})
    assert emby.logins == logins + 1
    # logout ends the remote session too
    for bad in ({}, {"serverId": 4}, {"serverId": "a b"}):
        status, body = await api.call("POST", "/api/vendor/emby/logout", token=alice, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/vendor/emby/logout", token=bob, json={"serverId": sid})
    assert_error(status, body, 400)
    token = next(iter(emby.tokens))
    await api.ok("POST", "/api/vendor/emby/logout", token=alice, json={"serverId": sid}, expect=204)
    assert emby.logged_out == [token]
    assert await api.ok("GET", "/api/vendor/emby/binds", token=alice) == []


def emby_movie(path: str, **extra: Any) -> dict[str, Any]:
    return {"name": "emby", "vendorInfo": {"vendor": "emby", "emby": {"path": path, **extra}}}


async def test_emby_movie_direct_and_proxied(sqlite_server: Server, emby: EmbyEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    sid = await bind(api, alice, emby)
    rid = await api.create_room(alice, "emby-room")
    await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
    for bad in (emby_movie(f"{sid}/"), emby_movie("no-slash"), emby_movie(f"{sid}/x", transcode="yes"),
                emby_movie(f"deadbeef/{emby.item_id('clip')}")):
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid, json=bad)
        assert_error(status, body, 400)
    clip = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid,
                        json=emby_movie(f"{sid}/{emby.item_id('clip')}"))
    other = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid,
                         json={**emby_movie(f"{sid}/{emby.item_id('other')}"), "proxy": True})
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": clip["id"]}, expect=204)
    base = (await api.ok("GET", "/api/room/movie/current", token=bob, room=rid))["movie"]["base"]
    assert base["url"].startswith(f"{emby.base}/Videos/{emby.item_id('clip')}/stream.mp4?")
    assert "Static=true" in base["url"] and base["type"] == "mp4"
    assert set(base["subtitles"]) == {"English (SRT)", "French"}
    async with api.session.get(base["url"]) as resp:
        assert resp.status == 200 and await resp.read() == EMBY_MEDIA
    async with api.session.get(base["subtitles"]["English (SRT)"]["url"]) as resp:
        assert await resp.read() == SRT
    # the proxied one with two sources: the second one is a moreSources entry, through the proxy as well
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": other["id"]}, expect=204)
    base = (await api.ok("GET", "/api/room/movie/current", token=bob, room=rid))["movie"]["base"]
    assert base["url"].startswith(f"/api/room/movie/proxy/{other['id']}?") and emby.base not in str(base)
    assert [s["name"] for s in base["moreSources"]] == ["720p"]
    async with api.session.get(api.base + base["url"]) as resp:
        assert resp.status == 200 and await resp.read() == EMBY_MEDIA
    async with api.session.get(api.base + base["moreSources"][0]["url"]) as resp:
        assert resp.status == 200 and (await resp.read()).startswith(b"\x1aE\xdf\xa3")
    async with api.session.get(api.base + base["url"] + "&source=9") as resp:
        assert resp.status == 404
    # a folder is not playable; a deleted item answers 404
    folder = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid,
                          json=emby_movie(f"{sid}/{emby.item_id('show')}"))
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": folder["id"]}, expect=204)
    status, body = await api.call("GET", "/api/room/movie/current", token=bob, room=rid)
    assert_error(status, body, 404)


async def test_transcode_stopped_when_the_movie_changes(sqlite_server: Server, emby: EmbyEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice = await api.signup("alice")
    sid = await bind(api, alice, emby)
    rid = await api.create_room(alice, "transcode")
    movie = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid,
                         json=emby_movie(f"{sid}/{emby.item_id('clip')}", transcode=True))
    plain = await api.push_movie(alice, rid, "plain", "https://media.example/a.mp4")
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": movie["id"]}, expect=204)
    base = (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["movie"]["base"]
    assert base["type"] == "m3u8" and "/master.m3u8?" in base["url"]
    async with api.session.get(base["url"]) as resp:
        assert (await resp.text()).startswith("#EXTM3U")
    assert len(emby.active_encodings) == 1
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": plain["id"]}, expect=204)
    assert emby.active_encodings == set()
    assert any(c.startswith("DELETE /Videos/ActiveEncodings") for c in emby.calls)


async def test_dynamic_folder(sqlite_server: Server, emby: EmbyEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    sid = await bind(api, alice, emby)
    rid = await api.create_room(alice, "emby-dynamic")
    await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
    fid = (await api.ok("POST", "/api/room/movie/push", token=alice, room=rid, json={
        "name": "shows", "isFolder": True, "proxy": True,
        "vendorInfo": {"vendor": "emby", "emby": {"path": f"{sid}/{emby.item_id('shows')}"}}}))["id"]
    top = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"id": fid})
    assert [(m["base"]["name"], m["subPath"]) for m in top["movies"]] == [("Show", emby.item_id("show"))]
    season = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid,
                          params={"id": fid, "subPath": emby.item_id("season")})
    assert [m["base"]["name"] for m in season["movies"]] == ["Pilot"]
    assert season["paths"][-1]["name"] == "Season 1"
    status, body = await api.call("GET", "/api/room/movie/movies", token=bob, room=rid, params={"id": fid})
    assert_error(status, body, 403)
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, expect=204,
                 json={"id": fid, "subPath": emby.item_id("pilot")})
    base = (await api.ok("GET", "/api/room/movie/current", token=bob, room=rid))["movie"]["base"]
    assert base["url"].startswith(f"/api/room/movie/proxy/{fid}?") and "subPath=" in base["url"]
    async with api.session.get(api.base + base["url"]) as resp:
        assert resp.status == 200 and await resp.read() == EMBY_MEDIA


async def test_emby_run_time_tells_the_room_where_its_clock_stops(sqlite_server: Server, emby: EmbyEmulator) -> None:
    """Emby's RunTimeTicks is the movie's length: a viewer loading the current movie (one without the set-status
    permission is enough) lets the room stop at the end without any client's report."""
    api = sqlite_server.api
    await allow_local(sqlite_server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    sid = await bind(api, alice, emby)
    rid = await api.create_room(alice, "emby-length")
    await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
    clip = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid,
                        json=emby_movie(f"{sid}/{emby.item_id('clip')}"))
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": clip["id"]}, expect=204)
    await api.ok("GET", "/api/room/movie/current", token=bob, room=rid)
    ws = await api.ws(rid, alice)
    await ws.send(pb.Message(type=pb.MessageType.STATUS, timestamp=time.time_ns() // 1_000_000,
                             playback_status=pb.Status(is_playing=True, current_time=12.2, playback_rate=1.0)))
    stop = await ws.expect(pb.MessageType.STATUS, timeout=3)
    assert stop.playback_status.current_time == 12.5 and not stop.playback_status.is_playing
    await ws.close()


@pytest.mark.parametrize(("ticks", "seconds"), [(125_000_000, 12.5), (0, 0.0), (-5, 0.0), ("9", 0.0), (True, 0.0),
                                                (None, 0.0), (1.5e9, 0.0)])
def test_run_time_ticks_in_seconds(ticks: object, seconds: float) -> None:
    assert _run_time_s(ticks) == seconds
