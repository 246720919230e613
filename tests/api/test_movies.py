"""`/api/room/movie` contract (§2.5): playlist paging, folders, current movie protection, clear, swap, privacy."""

from __future__ import annotations

import asyncio
import time
import zlib

from synctv._generated import message_pb2 as pb
from tests.support.asserts import assert_error
from tests.support.servers import Server

T = pb.MessageType


async def test_push_list_paginates(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "playlist")
    created = await api.push_movie(alice, rid, "first", "https://example.com/a.mp4")
    assert set(created) >= {"id", "creatorId", "base"} and created["base"]["name"] == "first"
    assert created["base"]["url"] == "https://example.com/a.mp4"
    batch = await api.ok("POST", "/api/room/movie/pushs", token=alice, room=rid,
                         json=[{"name": f"m{i:02d}", "url": f"https://example.com/{i}.mp4"} for i in range(24)])
    assert len(batch) == 24 and all(len(m["id"]) == 32 for m in batch)
    page = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"max": 10})
    assert page["total"] == 25 and len(page["movies"]) == 10 and page["dynamic"] is False
    assert page["paths"] == [{"name": "Home", "id": "", "subPath": ""}]
    assert [m["base"]["name"] for m in page["movies"]][:3] == ["first", "m00", "m01"]  # by position
    m = page["movies"][0]
    assert {"id", "creator", "creatorId", "base", "createAt"} <= set(m) and m["creator"] == "alice"
    last = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"max": 10, "page": 3})
    assert [x["base"]["name"] for x in last["movies"]] == [f"m{i:02d}" for i in range(19, 24)]
    capped = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"max": 500})
    assert len(capped["movies"]) == 25
    kw = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"keyword": "m1"})
    assert kw["total"] == 10 and all(x["base"]["name"].startswith("m1") for x in kw["movies"])
    by_url = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"keyword": "/23.mp4"})
    assert [x["base"]["name"] for x in by_url["movies"]] == ["m23"]

    # validation
    for bad in ({"url": "https://e.com/x.mp4"}, {"name": "x", "url": "ftp://e.com/x"}, {"name": "x", "url": 5},
                {"name": "x", "url": "https://e.com/" + "a" * 9000}, {"name": "x", "url": "https://e.com/x",
                                                                      "parentId": "f" * 32},
                {"name": "x", "url": "https://e.com/x", "live": "yes"}):
        status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/room/movie/pushs", token=alice, room=rid,
                                  json=[{"name": "ok", "url": "https://e.com/ok.mp4"}, {"name": "bad"}])
    assert_error(status, body, 400)
    assert (await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid))["total"] == 25  # all or nothing
    long = await api.push_movie(alice, rid, "n" * 300)
    assert len(long["base"]["name"].encode()) <= 256 and long["base"]["name"].endswith("...")


async def test_folders_and_current_protection(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "folders")
    ws = await api.ws(rid, alice)
    outer = (await api.push_movie(alice, rid, "Season", "", isFolder=True))["id"]
    await ws.expect(T.MOVIES)
    inner = (await api.push_movie(alice, rid, "Disc 1", "", isFolder=True, parentId=outer))["id"]
    ep = (await api.push_movie(alice, rid, "Ep 1", "https://example.com/ep1.m3u8", parentId=inner))["id"]
    other = (await api.push_movie(alice, rid, "Other", "https://example.com/o.mp4"))["id"]
    listing = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"id": inner})
    assert [m["id"] for m in listing["movies"]] == [ep]
    assert [p["name"] for p in listing["paths"]] == ["Home", "Season", "Disc 1"]
    root = await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid)
    assert [m["id"] for m in root["movies"]] == [outer, other]
    status, body = await api.call("GET", "/api/room/movie/movies", token=alice, room=rid, params={"id": ep})
    assert_error(status, body, 404)

    # a folder cannot be current; an unknown id is 404
    status, body = await api.call("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": outer})
    assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": "e" * 32})
    assert_error(status, body, 404)
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": ep})
    await ws.expect(T.CURRENT)
    cur = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert cur["movie"]["id"] == ep and cur["movie"]["base"]["type"] == "m3u8"
    assert cur["expireId"] == zlib.crc32(ep.encode()) and cur["status"]["isPlaying"] is True
    assert 0 <= cur["status"]["currentTime"] < 5

    for target in (ep, inner, outer):
        status, body = await api.call("POST", "/api/room/movie/edit", token=alice, room=rid,
                                      json={"id": target, "name": "renamed", "url": "https://e.com/x.mp4",
                                            "isFolder": target != ep, "parentId": ""})
        assert_error(status, body, 400)
        status, body = await api.call("POST", "/api/room/movie/delete", token=alice, room=rid, json={"ids": [target]})
        assert_error(status, body, 400)
    for parent in ("", outer, inner):
        status, body = await api.call("POST", "/api/room/movie/clear", token=alice, room=rid,
                                      json={"parentId": parent})
        assert_error(status, body, 400)
    # unrelated movies can still be edited and deleted
    await api.ok("POST", "/api/room/movie/edit", expect=204, token=alice, room=rid,
                 json={"id": other, "name": "Other 2", "url": "https://example.com/o2.mp4"})
    await ws.expect(T.MOVIES)
    # stop playback: now everything may go
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": ""})
    cur = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert cur["movie"]["id"] == "" and cur["status"]["isPlaying"] is False and cur["expireId"] == 0
    await api.ok("POST", "/api/room/movie/clear", expect=204, token=alice, room=rid, json={"parentId": inner})
    assert (await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid, params={"id": inner}))["total"] == 0
    await api.ok("POST", "/api/room/movie/clear", expect=204, token=alice, room=rid, json={"parentId": ""})
    assert (await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid))["total"] == 0
    await ws.close()


async def test_current_is_extrapolated_and_swap(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "clock")
    empty = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert empty["movie"]["id"] == "" and empty["status"]["isPlaying"] is False and empty["expireId"] == 0
    a = (await api.push_movie(alice, rid, "A"))["id"]
    b = (await api.push_movie(alice, rid, "B"))["id"]
    await api.ok("POST", "/api/room/movie/swap", expect=204, token=alice, room=rid, json={"id1": a, "id2": b})
    names = [m["base"]["name"] for m in (await api.ok("GET", "/api/room/movie/movies", token=alice,
                                                      room=rid))["movies"]]
    assert names == ["B", "A"]
    status, body = await api.call("POST", "/api/room/movie/swap", token=alice, room=rid,
                                  json={"id1": a, "id2": "f" * 32})
    assert_error(status, body, 404)
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": a})
    ws = await api.ws(rid, alice)
    await ws.send(pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                             playback_status=pb.Status(is_playing=True, current_time=100.0, playback_rate=2.0)))
    await ws.send(pb.Message(type=T.SYNC))
    await ws.expect(T.SYNC)
    c1 = (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["status"]
    t1 = time.monotonic()
    await asyncio.sleep(0.3)
    c2 = (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["status"]
    elapsed = time.monotonic() - t1
    assert c1["playbackRate"] == 2.0 and c2["currentTime"] > c1["currentTime"]
    assert abs((c2["currentTime"] - c1["currentTime"]) - 2.0 * elapsed) < 0.25
    # changing the movie resets the clock and keeps the rate
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": b})
    st = (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["status"]
    assert st["isPlaying"] is True and st["playbackRate"] == 2.0 and st["currentTime"] < 2
    await ws.close()


async def test_delete(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    bob = await api.signup("bob")
    rid = await api.create_room(alice, "privacy")
    # a proxied movie pointing at this machine is refused while allow_proxy_to_local is off (the default)
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid,
                                  json={"name": "p", "url": "http://127.0.0.1:1/s.mp4", "proxy": True})
    assert_error(status, body, 400)
    secret = await api.push_movie(alice, rid, "other", "https://example.com/secret.mp4")
    plain = await api.push_movie(alice, rid, "plain", "https://example.com/plain.mp4", headers={"X-A": "b"})
    # "other" started by itself (the room's first movie) and would be protected as the current one: stop it.
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": ""})
    listed = {m["id"]: m for m in (await api.ok("GET", "/api/room/movie/movies", token=bob, room=rid))["movies"]}
    assert listed[plain["id"]]["base"]["url"] == "https://example.com/plain.mp4"
    assert listed[plain["id"]]["base"]["headers"] == {"X-A": "b"}
    # bob (default bits: no DeleteMovie) cannot delete alice's movies
    status, body = await api.call("POST", "/api/room/movie/delete", token=bob, room=rid, json={"ids": [plain["id"]]})
    assert_error(status, body, 403)
    for bad in ({"ids": []}, {"ids": "x"}, {"ids": ["../../etc"]}, {}):
        status, body = await api.call("POST", "/api/room/movie/delete", token=alice, room=rid, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/room/movie/delete", token=alice, room=rid, json={"ids": ["f" * 32]})
    assert_error(status, body, 404)
    await api.ok("POST", "/api/room/movie/delete", expect=204, token=alice, room=rid,
                 json={"ids": [secret["id"], plain["id"]]})
    assert (await api.ok("GET", "/api/room/movie/movies", token=alice, room=rid))["total"] == 0


async def test_public_endpoints_never_401(sqlite_server: Server) -> None:
    api = sqlite_server.api
    for path in ("/api/public/settings", "/api/user/signup/email/captcha", "/api/user/retrieve/email/captcha",
                 "/oauth2/enabled", "/oauth2/enabled/signup", "/api/room/list", "/api/room/hot"):
        for token in (None, "garbage-token"):
            status, body = await api.call("GET", path, token=token)
            assert status == 200, (path, token, status, body)
    settings = await api.ok("GET", "/api/public/settings")
    assert {"emailWhitelist", "passwordDisableSignup", "emailEnable", "emailDisableSignup", "emailWhitelistEnabled",
            "oauth2DisableSignup", "guestEnable", "p2pZone"} <= set(settings)
    captcha = await api.ok("GET", "/api/user/signup/email/captcha")
    assert captcha["captchaId"] and captcha["captchaBase64"].startswith("data:image/")
    status, body = await api.call("GET", "/oauth2/enabled")
    assert body == {"enabled": []}
    status, body = await api.call("GET", "/oauth2/enabled/signup")
    assert body == {"signupEnabled": []}


async def test_unavailable_features_answer_clear_4xx(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "features")
    mid = (await api.push_movie(alice, rid))["id"]
    for method, path in (("GET", "/api/vendor/bilibili/login/qr"),
                         ("POST", "/api/vendor/alist/login"), ("GET", "/api/vendor/emby/me"),
                         ("GET", f"/api/room/movie/proxy/{mid}"), ("HEAD", f"/api/room/movie/proxy/{mid}"),
                         ("GET", f"/api/room/movie/live/flv/{mid}.flv"),
                         ("GET", f"/api/room/movie/live/hls/list/{mid}.m3u8"),
                         ("GET", f"/api/room/movie/live/hls/data/{rid}/{mid}/x.ts"),
                         ("POST", "/api/room/movie/live/publishKey"), ("GET", f"/api/room/movie/danmu/{mid}"),
                         ("GET", "/oauth2/login/github"), ("POST", "/oauth2/callback/github")):
        for token in (alice, None):
            status, body = await api.call(method, path, token=token, room=rid)
            assert 400 <= status < 500, (method, path, status, body)
            if method != "HEAD":
                assert isinstance(body, dict) and body.get("error"), (method, path, body)
