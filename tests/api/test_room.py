"""`/api/room` and room members (§2.4): creation, listing, password rooms, joining, settings, member admin."""

from __future__ import annotations

from typing import Any

import aiohttp

from synctv._generated import message_pb2 as pb
from synctv.core.permissions import MemberStatus, RoomStatus
from tests.support.asserts import assert_error
from tests.support.servers import Server


async def test_create_and_check(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    status, body = await api.call("POST", "/api/room/create", token=alice,
                                  json={"roomName": "r1", "password": "", "settings": {"hidden": False}})
    assert status == 201 and body["data"]["status"] == RoomStatus.ACTIVE and len(body["data"]["roomId"]) == 32
    rid = body["data"]["roomId"]
    status, body = await api.call("POST", "/api/room/create", token=alice, json={"roomName": "r1"})
    assert_error(status, body, 400)
    for bad in ({"roomName": ""}, {"roomName": "x" * 33}, {"roomName": 3}, {"roomName": "ok", "settings": 5},
                {"roomName": "ok", "password": "p" * 40}, {"roomName": "ok", "settings": {"hidden": "yes"}}):
        status, body = await api.call("POST", "/api/room/create", token=alice, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/room/create", json={"roomName": "anon"})
    assert_error(status, body, 401)

    check = await api.ok("GET", "/api/room/check", params={"roomId": rid})
    assert check["name"] == "r1" and check["needPassword"] is False and check["enabledGuest"] is True
    assert {"name", "creatorId", "creator", "viewerCount", "status", "needPassword", "enabledGuest"} <= set(check)
    assert (await api.ok("GET", "/api/room/check", headers={"X-Room-Id": rid}))["name"] == "r1"
    status, body = await api.call("GET", "/api/room/check", params={"roomId": "f" * 32})
    assert_error(status, body, 404)
    status, body = await api.call("GET", "/api/room/check", params={"roomId": "short"})
    assert_error(status, body, 401, "invalid room ID")

    info = await api.ok("GET", "/api/room/info", token=alice, room=rid)
    assert info["id"] == rid and info["name"] == "r1" and info["creator"] == "alice"
    assert info["member"]["role"] == 3 and info["member"]["permissions"] == 0xFFFFFFFF
    me = await api.ok("GET", "/api/room/me", token=alice, room=rid)
    assert me["roomId"] == rid and me["role"] == 3 and me["status"] == 3 and me["adminPermissions"] == 0xFFFFFFFF


async def test_list_pagination_sort_and_search(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    uid = (await api.me(alice))["id"]
    for i in range(105):
        await server.store.rooms.create(f"room{i:03d}", uid, b"", RoomStatus.ACTIVE, {"hidden": False})
    await server.store.rooms.create("hidden-one", uid, b"", RoomStatus.ACTIVE, {"hidden": True})
    await server.store.rooms.create("pending-one", uid, b"", RoomStatus.PENDING, {"hidden": False})
    page = await api.ok("GET", "/api/room/list", params={"max": 1000})
    assert page["total"] == 105 and len(page["list"]) == 100
    names = [r["roomName"] for r in page["list"]]
    assert names == sorted(names, reverse=True)  # default: name desc
    default = await api.ok("GET", "/api/room/list")
    assert len(default["list"]) == 10
    p2 = await api.ok("GET", "/api/room/list", params={"max": 100, "page": 2})
    assert len(p2["list"]) == 5
    asc = await api.ok("GET", "/api/room/list", params={"sort": "name", "order": "asc", "max": 3, "page": 0})
    assert [r["roomName"] for r in asc["list"]] == ["room000", "room001", "room002"]
    assert (await api.ok("GET", "/api/room/list", params={"max": 0}))["list"].__len__() == 10
    by_time = await api.ok("GET", "/api/room/list", params={"sort": "createdAt", "order": "desc", "max": 100})
    assert len(by_time["list"]) == 100
    kw = await api.ok("GET", "/api/room/list", params={"keyword": "room10", "search": "name"})
    assert sorted(r["roomName"] for r in kw["list"]) == [f"room10{i}" for i in range(5)] and kw["total"] == 5
    by_creator = await api.ok("GET", "/api/room/list", params={"keyword": "alice", "search": "creator"})
    assert by_creator["total"] == 105
    rid = kw["list"][0]["roomId"]
    by_id = await api.ok("GET", "/api/room/list", params={"keyword": rid, "search": "id"})
    assert [r["roomId"] for r in by_id["list"]] == [rid]
    status, body = await api.call("GET", "/api/room/list", params={"sort": "viewers"})
    assert_error(status, body, 400, "not support sort")
    status, body = await api.call("GET", "/api/room/list", params={"max": "ten"})
    assert_error(status, body, 400)
    # as upstream: an unknown order is ascending, an unknown search mode is no error (tests/api/test_list_queries.py)
    assert (await api.ok("GET", "/api/room/list", params={"order": "sideways", "search": "everything"}))["total"] == 105
    # keyword with LIKE wildcards is matched literally
    assert (await api.ok("GET", "/api/room/list", params={"keyword": "%"}))["total"] == 0


async def test_password_room_is_closed_to_non_members(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    bob = await api.signup("bob")
    rid = await api.create_room(alice, "secret room", password="pw12345")
    await api.push_movie(alice, rid)
    refused: list[tuple[str, str, Any]] = [
        ("GET", "/api/room/me", None), ("GET", "/api/room/info", None), ("GET", "/api/room/movie/current", None),
        ("GET", "/api/room/movie/movies", None), ("GET", "/api/room/settings", None),
        ("GET", "/api/room/members", None), ("POST", "/api/room/pwd/check", {"password": "pw12345"}),
        ("POST", "/api/room/movie/push", {"name": "x", "url": "https://e.com/x.mp4"}),
        ("POST", "/api/room/movie/current", {"id": ""}), ("POST", "/api/room/movie/clear", {"parentId": ""}),
        ("GET", "/api/room/admin/settings", None),
    ]
    for method, path, body in refused:
        status, resp = await api.call(method, path, token=bob, room=rid, json=body)
        assert_error(status, resp, 403)
        # and the guest is refused too
        status, resp = await api.call(method, path, room=rid, json=body)
        assert status in (401, 403) and resp["error"], (path, status)
    url = api.base.replace("http", "ws", 1) + f"/api/room/ws?roomId={rid}"
    for protocols in ((bob,), ()):
        try:
            await api.session.ws_connect(url, protocols=protocols)
            raise AssertionError("non-member upgraded")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status in (401, 403)
    # bob is still not a member after all that
    assert await server.store.members.get(rid, (await api.me(bob))["id"]) is None
    # /check and /login work
    assert (await api.ok("GET", "/api/room/check", params={"roomId": rid}))["needPassword"] is True
    status, body = await api.call("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": "wrong"})
    assert_error(status, body, 403, "password error")
    joined = await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": "pw12345"})
    assert joined["status"] == 3 and joined["role"] == 1 and joined["permissions"] == 193
    # an existing member logs in again without the password
    again = await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
    assert again["status"] == 3
    await api.ok("GET", "/api/room/movie/movies", token=bob, room=rid)
    assert (await api.ok("POST", "/api/room/pwd/check", token=bob, room=rid, json={"password": "pw12345"}))["valid"]
    assert not (await api.ok("POST", "/api/room/pwd/check", token=bob, room=rid, json={"password": "x"}))["valid"]
    # changing and removing the password
    status, body = await api.call("POST", "/api/room/admin/pwd", token=alice, room=rid, json={"password": "pw12345"})
    assert_error(status, body, 400, "password is the same")
    await api.ok("POST", "/api/room/admin/pwd", expect=204, token=alice, room=rid, json={"password": ""})
    assert (await api.ok("GET", "/api/room/check", params={"roomId": rid}))["needPassword"] is False
    status, body = await api.call("POST", "/api/room/login", json={"roomId": rid})
    assert_error(status, body, 401)


async def test_room_status_and_join_rules(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    bob = await api.signup("bob")
    bob_id = (await api.me(bob))["id"]
    rid = await api.create_room(alice, "rules")
    # join review: bob is pending until approved
    await api.ok("POST", "/api/room/admin/settings", expect=204, token=alice, room=rid, json={"join_need_review": True})
    status, body = await api.call("GET", "/api/room/me", token=bob, room=rid)
    assert_error(status, body, 401, "user account is pending approval")
    pending = await api.ok("GET", "/api/room/admin/members", token=alice, room=rid, params={"status": "pending"})
    assert [m["userId"] for m in pending["list"]] == [bob_id] and pending["total"] == 1
    await api.ok("POST", "/api/room/admin/members/approve", expect=204, token=alice, room=rid, json={"id": bob_id})
    assert (await api.ok("GET", "/api/room/me", token=bob, room=rid))["status"] == MemberStatus.ACTIVE
    # no new members
    carol = await api.signup("carol")
    await api.ok("POST", "/api/room/admin/settings", expect=204, token=alice, room=rid,
                 json={"disable_join_new_user": True})
    status, body = await api.call("GET", "/api/room/me", token=carol, room=rid)
    assert_error(status, body, 403)
    # settings validation
    for bad in ({"no_such_setting": True}, {"hidden": "yes"}, {"guest_permissions": -1},
                {"user_default_permissions": 2**33}, {}):
        status, body = await api.call("POST", "/api/room/admin/settings", token=alice, room=rid, json=bad)
        assert_error(status, body, 400)
    settings = await api.ok("GET", "/api/room/settings", token=bob, room=rid)
    assert settings["join_need_review"] is True and settings["user_default_permissions"] == 193
    # a pending (unapproved) room is unusable
    await server.store.rooms.set_status(rid, RoomStatus.PENDING)
    status, body = await api.call("GET", "/api/room/me", token=bob, room=rid)
    assert_error(status, body, 401, "room is pending approval")
    await server.store.rooms.set_status(rid, RoomStatus.BANNED)
    status, body = await api.call("GET", "/api/room/me", token=bob, room=rid)
    assert_error(status, body, 401, "room has been banned")
    status, body = await api.call("GET", "/api/room/movie/current", room=rid)
    assert_error(status, body, 401)


async def test_members_listing_and_admin(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "members")
    tokens = {}
    for name in ("bob", "carol", "dave"):
        tokens[name] = await api.signup(name)
        await api.ok("GET", "/api/room/me", token=tokens[name], room=rid)
    ids = {n: (await api.me(t))["id"] for n, t in tokens.items()}
    page = await api.ok("GET", "/api/room/members", token=tokens["bob"], room=rid,
                        params={"sort": "name", "order": "asc"})
    assert page["total"] == 4 and [m["username"] for m in page["list"]] == ["alice", "bob", "carol", "dave"]
    m = page["list"][1]
    assert {"userId", "username", "roomId", "joinAt", "onlineCount", "permissions", "adminPermissions", "role",
            "status"} <= set(m)
    two = await api.ok("GET", "/api/room/members", token=alice, room=rid, params={"max": 2, "page": 2,
                                                                                   "sort": "join", "order": "asc"})
    assert [m["username"] for m in two["list"]] == ["carol", "dave"]
    creators = await api.ok("GET", "/api/room/members", token=alice, room=rid, params={"role": "creator"})
    assert [m["username"] for m in creators["list"]] == ["alice"]
    status, body = await api.call("GET", "/api/room/members", token=alice, room=rid, params={"sort": "age"})
    assert_error(status, body, 400, "not support sort")
    # an unknown role filters nothing, as upstream
    assert (await api.ok("GET", "/api/room/members", token=alice, room=rid, params={"role": "king"}))["total"] == 4
    # promote bob; bob (with default admin bits) cannot ban the creator or another admin or himself
    await api.ok("POST", "/api/room/admin/members/admin", expect=204, token=alice, room=rid,
                 json={"id": ids["bob"], "adminPermissions": 31})
    await api.ok("POST", "/api/room/admin/members/admin", expect=204, token=alice, room=rid,
                 json={"id": ids["carol"], "adminPermissions": 31})
    me = await api.ok("GET", "/api/room/me", token=tokens["bob"], room=rid)
    assert me["role"] == 2 and me["adminPermissions"] == 31 and me["permissions"] == 0xFFFFFFFF
    alice_id = (await api.me(alice))["id"]
    for target in (alice_id, ids["carol"], ids["bob"]):
        status, body = await api.call("POST", "/api/room/admin/members/ban", token=tokens["bob"], room=rid,
                                      json={"id": target})
        assert_error(status, body, 403)
    status, body = await api.call("POST", "/api/room/admin/members/ban", token=tokens["bob"], room=rid,
                                  json={"id": "f" * 32})
    assert_error(status, body, 404)
    await api.ok("POST", "/api/room/admin/members/ban", expect=204, token=tokens["bob"], room=rid,
                 json={"id": ids["dave"]})
    status, body = await api.call("GET", "/api/room/me", token=tokens["dave"], room=rid)
    assert_error(status, body, 401, "user has been banned from this room")
    banned = await api.ok("GET", "/api/room/admin/members", token=alice, room=rid, params={"status": "banned"})
    assert [m["username"] for m in banned["list"]] == ["dave"]
    await api.ok("POST", "/api/room/admin/members/unban", expect=204, token=tokens["bob"], room=rid,
                 json={"id": ids["dave"]})
    await api.ok("GET", "/api/room/me", token=tokens["dave"], room=rid)
    # only the creator changes roles; demote carol with given bits
    status, body = await api.call("POST", "/api/room/admin/members/member", token=tokens["bob"], room=rid,
                                  json={"id": ids["carol"], "permissions": 1})
    assert_error(status, body, 403)
    await api.ok("POST", "/api/room/admin/members/member", expect=204, token=alice, room=rid,
                 json={"id": ids["carol"], "permissions": 1})
    me = await api.ok("GET", "/api/room/me", token=tokens["carol"], room=rid)
    assert me["role"] == 1 and me["permissions"] == 1
    await api.ok("POST", "/api/room/admin/members/admin/permissions", expect=204, token=alice, room=rid,
                 json={"id": ids["bob"], "adminPermissions": 1})
    assert (await api.ok("GET", "/api/room/me", token=tokens["bob"], room=rid))["adminPermissions"] == 1
    status, body = await api.call("POST", "/api/room/admin/members/admin/permissions", token=alice, room=rid,
                                  json={"id": ids["carol"], "adminPermissions": 1})
    assert_error(status, body, 400)
    # remove dave: the approve bit alone does not remove, the ban bit does; membership gone
    status, body = await api.call("POST", "/api/room/admin/members/delete", token=tokens["bob"], room=rid,
                                  json={"id": ids["dave"]})
    assert_error(status, body, 403, "no permission")
    await api.ok("POST", "/api/room/admin/members/admin/permissions", expect=204, token=alice, room=rid,
                 json={"id": ids["bob"], "adminPermissions": 2})
    await api.ok("POST", "/api/room/admin/members/delete", expect=204, token=tokens["bob"], room=rid,
                 json={"id": ids["dave"]})
    assert await server.store.members.get(rid, ids["dave"]) is None


async def test_hot_rooms_and_viewer_counts(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "hot one")
    hidden = await api.create_room(alice, "hidden hot", hidden=True)
    ws1 = await api.ws(rid, alice)
    ws2 = await api.ws(hidden, alice)
    # The greeting VIEWER_COUNT is sent once the owner has counted the connection.
    await ws1.expect(pb.MessageType.VIEWER_COUNT)
    await ws2.expect(pb.MessageType.VIEWER_COUNT)
    hot = await api.ok("GET", "/api/room/hot")
    assert [r["roomId"] for r in hot["list"]] == [rid] and hot["total"] == 1
    assert hot["list"][0]["viewerCount"] == 1 and hot["list"][0]["status"] == 0
    assert (await api.ok("GET", "/api/room/check", params={"roomId": rid}))["viewerCount"] == 1
    await ws1.close()
    await ws2.close()
