"""Alist storages that play differently, through the API against the Alist emulation: an Aliyun drive's
transcoded HLS (`fs/other` `video_preview`, its qualities as `moreSources`, the raw file last) and 115 Cloud,
whose raw URL only answers the User-Agent that resolved it (so it always plays through the proxy)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from synctv.core.permissions import Role
from synctv.core.room import SOURCE_MAX_AGE_S, expire_id, source_expired
from synctv.media.fetcher import DEFAULT_USER_AGENT
from synctv.vendors.alist.api import server_id
from synctv.vendors.service import ALIYUN_MAX_AGE, vendors
from tests.conftest_vendors import ALIST_PASSWORD, ALIST_USER
from tests.support.alist_emulator import AlistEmulator
from tests.support.api_client import Api
from tests.support.asserts import assert_error
from tests.support.servers import Server, start_server

AGENT = "SyncTV-Proxy-Test/1.0"
FILM = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16


@pytest.fixture
async def drives(tmp_path: Path) -> AsyncIterator[AlistEmulator]:
    root = tmp_path / "drives"
    for rel in ("ali/film.mp4", "115/film.mp4", "local/film.mp4"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(FILM)
    server = await AlistEmulator(root, {ALIST_USER: ALIST_PASSWORD},
                                 providers={"/ali": "AliyundriveOpen", "/115": "115 Cloud"}).start()
    yield server
    await server.stop()


async def room_with(server: Server, alist: AlistEmulator) -> tuple[Api, str, str, str]:
    api = server.api
    await server.store.settings.set_many({"allow_proxy_to_local": True})
    alice = await api.signup("alice")
    await api.ok("POST", "/api/vendor/alist/login", token=alice, expect=204,
                 json={"host": alist.base, "username": ALIST_USER, "password": ALIST_PASSWORD})
    rid = await api.create_room(alice, "drives")
    return api, alice, rid, server_id(alist.base)


async def play(api: Api, token: str, rid: str, path: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    mid = (await api.ok("POST", "/api/room/movie/push", token=token, room=rid, json={
        "name": path, "vendorInfo": {"vendor": "alist", "alist": {"path": path}}, **extra}))["id"]
    await api.ok("POST", "/api/room/movie/current", token=token, room=rid, json={"id": mid}, expect=204)
    base: dict[str, Any] = (await api.ok("GET", "/api/room/movie/current", token=token, room=rid))["movie"]["base"]
    return mid, base


async def test_aliyun_transcoded_hls_with_qualities(sqlite_server: Server, drives: AlistEmulator) -> None:
    api, alice, rid, sid = await room_with(sqlite_server, drives)
    mid, base = await play(api, alice, rid, f"{sid}/ali/film.mp4")
    # the best finished quality plays; the others and the raw file are the other sources
    assert base["type"] == "m3u8" and base["url"].startswith(f"{drives.base}/ali-hls/HD/ali/film.mp4.m3u8?")
    assert [s["name"] for s in base["moreSources"]] == ["SD", "LD", "raw"]
    assert base["moreSources"][0]["type"] == "m3u8"
    assert base["moreSources"][-1]["url"].startswith(f"{drives.base}/p/ali/film.mp4?sign=")
    assert drives.calls.count("/api/fs/other") == 1
    # its expiry token is when it was resolved (ns), as upstream's for an Aliyun drive: stale after 14 minutes
    current = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert abs(current["expireId"] - time.time_ns()) < 60 * 10**9
    assert not source_expired(current["expireId"], mid, int(time.time() * 1000))
    assert source_expired(current["expireId"], mid, int(time.time() * 1000) + (SOURCE_MAX_AGE_S + 1) * 1000)
    async with api.session.get(base["url"]) as resp:
        assert resp.status == 200 and (await resp.text()).startswith("#EXTM3U")
    # cached no longer than the drive's URLs live
    cached = vendors(sqlite_server.runtime.services)  # type: ignore[arg-type]
    assert ALIYUN_MAX_AGE < 15 * 60 and cached.resolved.get(mid, "") is not None

    # through the proxy: the playlist is rewritten to the proxy, the segment comes from the drive through it
    _, proxied = await play(api, alice, rid, f"{sid}/ali/film.mp4", proxy=True)
    assert proxied["url"].startswith("/api/room/movie/proxy/") and drives.base not in str(proxied)
    async with api.session.get(api.base + proxied["url"]) as resp:
        assert resp.status == 200
        playlist = await resp.text()
    segment = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    assert drives.base not in segment and "/m3u8/" in segment
    async with api.session.get(api.base + segment if segment.startswith("/") else segment) as resp:
        assert resp.status == 200 and await resp.read() == b"\x47segment HD"
    # the raw source through the proxy as well
    async with api.session.get(api.base + proxied["moreSources"][-1]["url"]) as resp:
        assert resp.status == 200 and await resp.read() == FILM

    # a drive still transcoding: the raw file plays alone
    drives.transcoding = False
    _, raw = await play(api, alice, rid, f"{sid}/ali/film.mp4")
    assert raw["url"].startswith(f"{drives.base}/p/ali/film.mp4?sign=") and raw["moreSources"] == []
    # a local storage is never asked for transcodes
    others = drives.calls.count("/api/fs/other")
    _, local = await play(api, alice, rid, f"{sid}/local/film.mp4")
    assert local["type"] == "mp4" and drives.calls.count("/api/fs/other") == others
    current = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert current["expireId"] == expire_id(current["movie"]["id"])  # the usual token for a plain file


async def test_115_cloud_plays_through_the_proxy_with_the_resolving_user_agent(sqlite_server: Server,
                                                                               drives: AlistEmulator) -> None:
    api, alice, rid, sid = await room_with(sqlite_server, drives)
    mid, base = await play(api, alice, rid, f"{sid}/115/film.mp4")  # not marked proxied: forced
    assert base["url"].startswith(f"/api/room/movie/proxy/{mid}?") and drives.base not in str(base)
    assert base["headers"] == {}
    assert drives.resolved_user_agents == [DEFAULT_USER_AGENT]
    # the viewer's own User-Agent differs; the proxy fetches with the one that resolved the link
    async with api.session.get(api.base + base["url"], headers={"User-Agent": "Viewer/1.0"}) as resp:
        assert resp.status == 200 and await resp.read() == FILM
    assert drives.downloads[-1] == "/115/film.mp4"
    # what happens without it: the link refuses another User-Agent (the emulation behaves as 115's CDN)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{drives.base}/api/auth/login", json={
                "username": ALIST_USER, "password": ALIST_PASSWORD}) as resp:
            token = (await resp.json())["data"]["token"]
        async with session.post(f"{drives.base}/api/fs/get", json={"path": "/115/film.mp4"},
                                headers={"Authorization": token, "User-Agent": "Resolver/1.0"}) as resp:
            raw_url = (await resp.json())["data"]["raw_url"]
        async with session.get(raw_url, headers={"User-Agent": "Viewer/1.0"}) as resp:
            assert resp.status == 403
        async with session.get(raw_url, headers={"User-Agent": "Resolver/1.0"}) as resp:
            assert resp.status == 200
    # a plain local file that is not proxied is refused by the proxy route (nothing forces it there)
    local_mid, local = await play(api, alice, rid, f"{sid}/local/film.mp4")
    assert local["url"].startswith(drives.base)
    status, body = await api.call("GET", f"/api/room/movie/proxy/{local_mid}", token=alice,
                                  params={"roomId": rid})
    assert_error(status, body, 400)
    # with the movie proxy disabled by the admin, a 115 file answers a clear 400, not a broken stream
    await sqlite_server.store.settings.set_many({"movie_proxy": False})
    async with api.session.get(api.base + base["url"]) as resp:
        assert resp.status == 400 and "disabled" in (await resp.json())["error"]


async def test_both_storages_through_a_vendor_server_backend(tmp_path: Path, drives: AlistEmulator) -> None:
    """The same over gRPC: FsOther carries the transcodes, and the proxy's User-Agent (configured here, so not the
    vendor server's own) travels with FsGet to resolve the 115 link the proxy then fetches."""
    from synctv.vendors.remote.server import VendorServer, VendorServerConfig

    secret = "provider-backend-secret-0123456789"
    backend = VendorServer(VendorServerConfig(listen="127.0.0.1:0", jwt_secret=secret, allow_local=True))
    await backend.start()
    runtime, base = await start_server(tmp_path / "data", SYNCTV_PROXY_USER_AGENT=AGENT)
    session = aiohttp.ClientSession()
    try:
        server = Server(runtime, Api(base, session))
        api = server.api
        await server.store.settings.set_many({"allow_proxy_to_local": True})
        root = await server.make_user("boss", role=Role.ROOT)
        await api.ok("POST", "/api/admin/vendors/add", token=root, expect=204, json={
            "usedBy": {"enabled": True, "alist": True, "alistBackendName": "remote"},
            "backend": {"endpoint": backend.address, "jwtSecret": secret, "timeOut": "5s"}})
        alice = await api.signup("alice")
        await api.ok("POST", "/api/vendor/alist/login", token=alice, params={"backend": "remote"}, expect=204,
                     json={"host": drives.base, "username": ALIST_USER, "password": ALIST_PASSWORD})
        rid = await api.create_room(alice, "remote drives")
        sid = server_id(drives.base)
        _, ali = await play(api, alice, rid, f"{sid}/ali/film.mp4")
        assert ali["type"] == "m3u8" and [s["name"] for s in ali["moreSources"]] == ["SD", "LD", "raw"]
        mid, cloud = await play(api, alice, rid, f"{sid}/115/film.mp4")
        assert cloud["url"].startswith(f"/api/room/movie/proxy/{mid}?")
        assert drives.resolved_user_agents == [AGENT]
        async with api.session.get(api.base + cloud["url"], headers={"User-Agent": "Viewer/2.0"}) as resp:
            assert resp.status == 200 and await resp.read() == FILM
        assert backend.auth.rejected == 0
    finally:
        await session.close()
        await runtime.stop()
        await backend.stop()
