"""Alist through the API: binding, browsing, vendor movies and their playback (direct and proxied), against the
Alist emulation on loopback and a real server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from synctv.store.models import Movie, VendorAccount
from synctv.vendors.alist.api import hash_password, server_id
from synctv.vendors.service import vendors
from tests.conftest_vendors import ALIST_PASSWORD, ALIST_USER, LIBRARY, write_library
from tests.support.alist_emulator import AlistEmulator
from tests.support.api_client import Api
from tests.support.asserts import assert_error
from tests.support.servers import Server, start_server


async def allow_local(server: Server) -> None:
    # The emulation listens on loopback: the SSRF guard must be opened for it, as an admin would for a LAN Alist.
    await server.store.settings.set_many({"allow_proxy_to_local": True})


async def bind(api: Api, token: str, alist: AlistEmulator, **extra: Any) -> str:
    body = {"host": alist.base, "username": ALIST_USER, "password": ALIST_PASSWORD, **extra}
    await api.ok("POST", "/api/vendor/alist/login", token=token, json=body, expect=204)
    return server_id(alist.base)


async def test_routes_need_a_user(sqlite_server: Server) -> None:
    api = sqlite_server.api
    for method, path in (("GET", "/api/vendor/backends/alist"), ("POST", "/api/vendor/alist/login"),
                         ("POST", "/api/vendor/alist/logout"), ("POST", "/api/vendor/alist/list"),
                         ("GET", "/api/vendor/alist/me"), ("GET", "/api/vendor/alist/binds")):
        for token in (None, "Bearer not-a-token"):
            status, body = await api.call(method, path, token=token, json={})
            assert_error(status, body, 401)


async def test_backends(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    for vendor in ("alist", "emby", "bilibili"):
        assert await api.ok("GET", f"/api/vendor/backends/{vendor}", token=alice) == []
    status, body = await api.call("GET", "/api/vendor/backends/webdav", token=alice)
    assert_error(status, body, 400)


async def test_login_bad_input(sqlite_server: Server, alist: AlistEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    alice = await api.signup("alice")
    good = {"host": alist.base, "username": ALIST_USER, "password": ALIST_PASSWORD}
    # the SSRF guard is on by default: a loopback Alist is refused before anything is sent to it
    status, body = await api.call("POST", "/api/vendor/alist/login", token=alice, json=good)
    assert_error(status, body, 400)
    assert "loopback" in body["error"]
    assert alist.logins == 0
    await allow_local(server)
    for bad in ({}, {"host": alist.base}, {"host": alist.base, "username": ALIST_USER},
                {**good, "host": "ftp://x.example"}, {**good, "host": "not a url"}, {**good, "host": 5},
                {**good, "host": "http://u:p@127.0.0.1:1"}, {**good, "host": alist.base + "/?q=1"},
                {**good, "username": ""}, {**good, "username": "x" * 300}, {**good, "password": 123},
                {"host": alist.base, "username": ALIST_USER, "hashedPassword": "abc"},
                {**good, "password": "wrong"}):
        status, body = await api.call("POST", "/api/vendor/alist/login", token=alice, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/vendor/alist/login", token=alice, json=[1])
    assert_error(status, body, 400)
    assert await api.ok("GET", "/api/vendor/alist/binds", token=alice) == []
    # the hashed form logs in as well, and a trailing slash names the same server
    await api.ok("POST", "/api/vendor/alist/login", token=alice, expect=204,
                 json={"host": alist.base + "/", "username": ALIST_USER,
                       "hashedPassword": hash_password(ALIST_PASSWORD)})
    assert await api.ok("GET", "/api/vendor/alist/binds", token=alice) == [
        {"serverId": server_id(alist.base), "host": alist.base}]


async def test_unreachable_wrong_and_slow_hosts(tmp_path: Path, alist: AlistEmulator) -> None:
    runtime, base = await start_server(tmp_path / "data", SYNCTV_VENDORS_TIMEOUT="1s")
    async with aiohttp.ClientSession() as session:
        server = Server(runtime, Api(base, session))
        api = server.api
        await allow_local(server)
        alice = await api.signup("alice")
        creds = {"username": ALIST_USER, "password": ALIST_PASSWORD}
        # nothing listens there
        with socket_closed() as port:
            status, body = await api.call("POST", "/api/vendor/alist/login", token=alice,
                                          json={"host": f"http://127.0.0.1:{port}", **creds})
        assert_error(status, body, 502)
        status, body = await api.call("POST", "/api/vendor/alist/login", token=alice,
                                      json={"host": "http://no-such-host.invalid", **creds})
        assert_error(status, body, 502)
        # a host that is not an Alist (an HTML page)
        alist.html_only = True
        status, body = await api.call("POST", "/api/vendor/alist/login", token=alice,
                                      json={"host": alist.base, **creds})
        assert_error(status, body, 502)
        assert "not JSON" in body["error"]
        alist.html_only = False
        # an Alist that does not answer in time: 504 within the timeout, not a hang
        alist.delay = 5
        started = time.monotonic()
        status, body = await api.call("POST", "/api/vendor/alist/login", token=alice,
                                      json={"host": alist.base, **creds})
        assert_error(status, body, 504)
        assert time.monotonic() - started < 3
        alist.delay = 0
        sid = await bind(api, alice, alist)
        alist.delay = 5
        for method, path, kw in (("POST", "/api/vendor/alist/list", {"json": {"path": f"{sid}/movies"}}),
                                 ("GET", "/api/vendor/alist/me", {"params": {"serverID": sid}})):
            status, body = await api.call(method, path, token=alice, **kw)
            assert_error(status, body, 504)
        alist.delay = 0
    await runtime.stop()


class socket_closed:
    """A loopback port nobody listens on (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port: int = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        return None


async def test_bind_browse_search_me_logout(sqlite_server: Server, alist: AlistEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    status, body = await api.call("POST", "/api/vendor/alist/list", token=alice, json={"path": ""})
    assert_error(status, body, 400)
    sid = await bind(api, alice, alist)
    # one server: "" lists its root
    root = await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": ""})
    assert [(i["name"], i["isDir"]) for i in root["items"]] == [("locked", True), ("movies", True)]
    assert root["paths"] == [{"name": "", "path": f"{sid}/"}]
    listing = await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"},
                           params={"page": 1, "max": 2})
    assert listing["total"] == 6 and len(listing["items"]) == 2
    assert listing["items"][0] == {"name": "series", "path": f"{sid}/movies/series", "isDir": True, "size": 0}
    assert listing["paths"] == [{"name": "", "path": f"{sid}/"}, {"name": "movies", "path": f"{sid}/movies"}]
    page3 = await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"},
                         params={"page": 3, "max": 2})
    assert {i["name"] for i in page3["items"]} == {"clip.xml", "other.mkv"}
    clip = next(i for i in (await api.ok("POST", "/api/vendor/alist/list", token=alice,
                                         json={"path": f"{sid}/movies"}, params={"max": 50}))["items"]
                if i["name"] == "clip.mp4")
    assert clip["size"] == len(LIBRARY["movies/clip.mp4"]) and clip["path"] == f"{sid}/movies/clip.mp4"
    # search below a folder
    found = await api.ok("POST", "/api/vendor/alist/list", token=alice,
                         json={"path": f"{sid}/movies", "keyword": "s01"})
    assert found["items"] == [{"name": "s01e01.mp4", "path": f"{sid}/movies/series/s01e01.mp4", "isDir": False,
                               "size": len(LIBRARY["movies/series/s01e01.mp4"])}]
    alist.search_enabled = False
    status, body = await api.call("POST", "/api/vendor/alist/list", token=alice,
                                  json={"path": f"{sid}/movies", "keyword": "s01"})
    assert_error(status, body, 502)
    assert "search not available" in body["error"]
    # a missing path, a locked folder without / with a wrong / with the right password
    status, body = await api.call("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/nope"})
    assert_error(status, body, 404)
    for password in ("", "wrong"):
        status, body = await api.call("POST", "/api/vendor/alist/list", token=alice,
                                      json={"path": f"{sid}/locked", "password": password})
        assert_error(status, body, 403)
    locked = await api.ok("POST", "/api/vendor/alist/list", token=alice,
                          json={"path": f"{sid}/locked", "password": "open sesame"})
    assert [i["name"] for i in locked["items"]] == ["secret.mp4"]
    # bad input
    for bad in ({"path": 5}, {"path": "bad id!/x"}, {"path": f"{sid}/x", "refresh": "yes"},
                {"path": "x" * 5000}, {"path": f"{sid}/x", "keyword": "k" * 300}):
        status, body = await api.call("POST", "/api/vendor/alist/list", token=alice, json=bad)
        assert_error(status, body, 400)
    # bob is bound to nothing: alice's server is not his
    status, body = await api.call("POST", "/api/vendor/alist/list", token=bob, json={"path": f"{sid}/movies"})
    assert_error(status, body, 400)
    status, body = await api.call("GET", "/api/vendor/alist/me", token=bob, params={"serverID": sid})
    assert_error(status, body, 400)
    me = await api.ok("GET", "/api/vendor/alist/me", token=alice, params={"serverID": sid})
    assert me["isLogin"] is True and me["info"]["username"] == ALIST_USER and me["info"]["password"] == ""
    for params in ({}, {"serverID": "../x"}):
        status, body = await api.call("GET", "/api/vendor/alist/me", token=alice, params=params)
        assert_error(status, body, 400)
    # several servers: "" lists the servers
    other = await AlistEmulator(write_library(Path(str(alist.root) + "-2")), {ALIST_USER: ALIST_PASSWORD}).start()
    try:
        sid2 = await bind(api, alice, other)
        servers = await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": ""})
        assert servers["total"] == 2
        assert {i["path"] for i in servers["items"]} == {f"{sid}/", f"{sid2}/"}
        assert {i["name"] for i in servers["items"]} == {alist.base, other.base}
    finally:
        await other.stop()
    # logout: bad input, someone else's, then mine
    for bad in ({}, {"serverId": ""}, {"serverId": 3}, {"serverId": "a/b"}):
        status, body = await api.call("POST", "/api/vendor/alist/logout", token=alice, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/vendor/alist/logout", token=bob, json={"serverId": sid})
    assert_error(status, body, 404)
    await api.ok("POST", "/api/vendor/alist/logout", token=alice, json={"serverId": sid}, expect=204)
    assert [b["serverId"] for b in await api.ok("GET", "/api/vendor/alist/binds", token=alice)] == [sid2]


async def test_credentials_sealed_at_rest_and_token_refreshed(sqlite_server: Server, alist: AlistEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice = await api.signup("alice")
    sid = await bind(api, alice, alist)
    async with server.runtime.store.engine.connect() as conn:
        rows = (await conn.execute(select(VendorAccount.sealed, VendorAccount.server_id))).all()
    assert len(rows) == 1 and rows[0].server_id == sid
    sealed = rows[0].sealed
    for secret in (ALIST_USER, alist.base, "127.0.0.1", hash_password(ALIST_PASSWORD), *alist.tokens):
        assert secret.encode() not in sealed
    # the vendor forgets its tokens: the next call logs in again with the stored credentials, once
    logins = alist.logins
    alist.expire_tokens()
    await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"})
    assert alist.logins == logins + 1
    await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"})
    assert alist.logins == logins + 1
    # the credentials changed on the Alist side: a clear 400, not a 401 that would log the user out here
    alist.users[ALIST_USER] = "changed"
    alist.expire_tokens()
    status, body = await api.call("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"})
    assert_error(status, body, 400)
    assert "login failed" in body["error"]


async def test_vendor_movie_push_and_direct_playback(sqlite_server: Server, alist: AlistEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    sid = await bind(api, alice, alist)
    rid = await api.create_room(alice, "alist-room")
    await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})

    def movie(path: str, **extra: Any) -> dict[str, Any]:
        return {"name": path.rsplit("/", 1)[-1], "vendorInfo": {"vendor": "alist", "alist": {"path": path, **extra}}}

    # bad vendorInfo
    for bad in ({"name": "x", "vendorInfo": {"vendor": "bilibili", "bilibili": {"bvid": "BV1"}}},
                {"name": "x", "vendorInfo": {"vendor": "alist"}},
                {"name": "x", "vendorInfo": {"vendor": "alist", "alist": {"path": "no-slash"}}},
                {"name": "x", "vendorInfo": {"vendor": "alist", "alist": {"path": 7}}},
                {"name": "x", "vendorInfo": {"vendor": 3}},
                {**movie(f"{sid}/movies/clip.mp4"), "live": True},
                movie("0123456789abcdef0123456789abcdef/movies/clip.mp4")):  # not bound to that server
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid, json=bad)
        assert_error(status, body, 400)
    # bob has no binding to alice's server: he cannot add its files (to his own room)
    bobs = await api.create_room(bob, "bobs-room")
    status, body = await api.call("POST", "/api/room/movie/push", token=bob, room=bobs,
                                  json=movie(f"{sid}/movies/clip.mp4"))
    assert_error(status, body, 400)
    created = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid,
                           json=movie(f"{sid}/movies/clip.mp4"))
    assert created["base"]["vendorInfo"]["alist"]["path"] == f"{sid}/movies/clip.mp4"
    mid = created["id"]
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
    current = await api.ok("GET", "/api/room/movie/current", token=bob, room=rid)
    base = current["movie"]["base"]
    assert base["url"].startswith(f"{alist.base}/p/movies/clip.mp4?sign=")
    assert base["type"] == "mp4"
    assert set(base["subtitles"]) == {"clip.srt", "clip.en.vtt"}  # the danmu XML is not a subtitle
    assert base["subtitles"]["clip.srt"]["type"] == "srt"
    async with api.session.get(base["url"]) as resp:
        assert resp.status == 200 and await resp.read() == LIBRARY["movies/clip.mp4"]
    async with api.session.get(base["subtitles"]["clip.srt"]["url"]) as resp:
        assert await resp.read() == LIBRARY["movies/clip.srt"]
    # resolved once, then served from the cache until it expires
    gets = alist.calls.count("/api/fs/get")
    await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert alist.calls.count("/api/fs/get") == gets
    # the file went away on the Alist side: a fresh resolution (set current again) answers a clear 404
    (alist.root / "movies/clip.mp4").rename(alist.root / "movies/clip.mp4.bak")
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
    status, body = await api.call("GET", "/api/room/movie/current", token=bob, room=rid)
    assert_error(status, body, 404)
    (alist.root / "movies/clip.mp4.bak").rename(alist.root / "movies/clip.mp4")
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
    assert (await api.ok("GET", "/api/room/movie/current", token=bob, room=rid))["movie"]["base"]["url"]


async def test_folder_password_sealed_and_kept_on_edit(sqlite_server: Server, alist: AlistEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice = await api.signup("alice")
    sid = await bind(api, alice, alist)
    rid = await api.create_room(alice, "locked-room")
    info = {"vendor": "alist", "alist": {"path": f"{sid}/locked/secret.mp4", "password": "open sesame"}}
    created = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid,
                           json={"name": "secret", "vendorInfo": info})
    mid = created["id"]
    # The room's first movie starts by itself, and the current movie can't be edited: stop it.
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": ""}, expect=204)
    assert created["base"]["vendorInfo"]["alist"]["password"] == ""
    listed = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid)
    assert listed["movies"][0]["base"]["vendorInfo"]["alist"]["password"] == ""
    async with server.runtime.store.engine.connect() as conn:
        stored = (await conn.execute(select(Movie.base).where(Movie.id == mid))).scalar_one()
    assert "open sesame" not in stored
    # an edit that leaves the password empty keeps it
    await api.ok("POST", "/api/room/movie/edit", token=alice, room=rid, expect=204,
                 json={"id": mid, "name": "renamed",
                       "vendorInfo": {"vendor": "alist", "alist": {"path": f"{sid}/locked/secret.mp4"}}})
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
    base = (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["movie"]["base"]
    assert base["url"].startswith(f"{alist.base}/p/locked/secret.mp4?sign=")
    assert base["vendorInfo"]["alist"]["password"] == ""
    # a wrong password: 403 from the vendor when played
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": ""}, expect=204)
    await api.ok("POST", "/api/room/movie/edit", token=alice, room=rid, expect=204,
                 json={"id": mid, "name": "renamed", "vendorInfo": {
                     "vendor": "alist", "alist": {"path": f"{sid}/locked/secret.mp4", "password": "nope"}}})
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
    status, body = await api.call("GET", "/api/room/movie/current", token=alice, room=rid)
    assert_error(status, body, 403)


async def test_vendor_movie_through_the_proxy(sqlite_server: Server, alist: AlistEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    sid = await bind(api, alice, alist)
    rid = await api.create_room(alice, "proxied-alist")
    await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
    mid = (await api.ok("POST", "/api/room/movie/push", token=alice, room=rid, json={
        "name": "clip", "proxy": True, "vendorInfo": {"vendor": "alist", "alist": {"path": f"{sid}/movies/clip.mp4"}}}
    ))["id"]
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
    base = (await api.ok("GET", "/api/room/movie/current", token=bob, room=rid))["movie"]["base"]
    assert base["url"].startswith(f"/api/room/movie/proxy/{mid}?") and alist.base not in str(base)
    downloads = len(alist.downloads)
    async with api.session.get(api.base + base["url"], headers={"Range": "bytes=0-99"}) as resp:
        assert resp.status == 206
        assert await resp.read() == LIBRARY["movies/clip.mp4"][:100]
    assert len(alist.downloads) == downloads + 1
    sub = base["subtitles"]["clip.srt"]["url"]
    assert sub.startswith(f"/api/room/movie/proxy/{mid}?") and "t=subtitle" in sub
    async with api.session.get(api.base + sub) as resp:
        assert resp.status == 200 and await resp.read() == LIBRARY["movies/clip.srt"]
    async with api.session.get(api.base + base["url"] + "&t=subtitle&id=99") as resp:
        assert resp.status == 404
    # a bad token: refused
    async with api.session.get(api.base + f"/api/room/movie/proxy/{mid}?roomId={rid}&token=bad") as resp:
        assert resp.status == 401
    # the proxy fetch goes through the SSRF guard too: closing it stops the vendor movie
    await server.store.settings.set_many({"allow_proxy_to_local": False})
    vendors(server.runtime.services)  # type: ignore[arg-type].resolved.forget_movie(mid)
    async with api.session.get(api.base + base["url"]) as resp:
        assert resp.status in (400, 403)


@pytest.mark.parametrize("concurrent", [8])
async def test_concurrent_plays_resolve_once(sqlite_server: Server, alist: AlistEmulator, concurrent: int) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice = await api.signup("alice")
    sid = await bind(api, alice, alist)
    rid = await api.create_room(alice, "many")
    mid = (await api.ok("POST", "/api/room/movie/push", token=alice, room=rid, json={
        "name": "clip", "vendorInfo": {"vendor": "alist", "alist": {"path": f"{sid}/movies/other.mkv"}}}))["id"]
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
    before = alist.calls.count("/api/fs/get")
    results = await asyncio.gather(*(api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
                                     for _ in range(concurrent)))
    assert len({r["movie"]["base"]["url"] for r in results}) == 1
    assert alist.calls.count("/api/fs/get") == before + 1


async def test_dynamic_folder(sqlite_server: Server, alist: AlistEmulator) -> None:
    server, api = sqlite_server, sqlite_server.api
    await allow_local(server)
    alice, bob = await api.signup("alice"), await api.signup("bob")
    sid = await bind(api, alice, alist)
    rid = await api.create_room(alice, "dynamic")
    await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
    folder = await api.ok("POST", "/api/room/movie/push", token=alice, room=rid, json={
        "name": "library", "isFolder": True, "vendorInfo": {"vendor": "alist", "alist": {"path": f"{sid}/movies"}}})
    fid = folder["id"]
    page = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"id": fid, "max": 3})
    assert page["dynamic"] is True and page["total"] == 6 and len(page["movies"]) == 3
    assert page["movies"][0]["subPath"] == "series" and page["movies"][0]["base"]["isFolder"] is True
    assert page["paths"][0]["name"] == "Home" and page["paths"][-1] == {"name": "library", "id": fid,
                                                                         "subPath": ""}
    inner = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid,
                         params={"id": fid, "subPath": "series"})
    assert [(m["subPath"], m["base"]["name"]) for m in inner["movies"]] == [("series/s01e01.mp4", "s01e01.mp4")]
    assert inner["paths"][-1] == {"name": "series", "id": fid, "subPath": "series"}
    found = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid,
                         params={"id": fid, "keyword": "s01"})
    assert [m["subPath"] for m in found["movies"]] == ["series/s01e01.mp4"]
    # only its creator browses it; nobody climbs out of it
    status, body = await api.call("GET", "/api/room/movie/movies", token=bob, room=rid, params={"id": fid})
    assert_error(status, body, 403)
    status, body = await api.call("GET", "/api/room/movie/movies", token=alice, room=rid,
                                  params={"id": fid, "subPath": "../locked"})
    assert_error(status, body, 400)
    # a dynamic folder holds no static movies, and is played one file at a time
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                  json={"name": "x", "url": "https://a.example/x.mp4", "parentId": fid})
    assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": fid})
    assert_error(status, body, 400)
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, expect=204,
                 json={"id": fid, "subPath": "series/s01e01.mp4"})
    current = await api.ok("GET", "/api/room/movie/current", token=bob, room=rid)
    assert current["movie"]["subPath"] == "series/s01e01.mp4"
    assert current["movie"]["base"]["url"].startswith(f"{alist.base}/p/movies/series/s01e01.mp4?sign=")
    await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, expect=204,
                 json={"id": fid, "subPath": "../locked/secret.mp4"})
    status, body = await api.call("GET", "/api/room/movie/current", token=bob, room=rid)
    assert_error(status, body, 400)
