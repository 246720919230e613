"""Site administration API (`/api/admin`), on SQLite and PostgreSQL: every route, hierarchy rules, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from synctv.core.permissions import Role
from tests.support.servers import Server

BAD_ID = "0" * 31 + "x"
MISSING_ID = "f" * 32


async def _uid(server: Server, name: str) -> str:
    user = await server.store.users.get_by_username(name)
    assert user is not None
    return str(user.id)


async def _setup(server: Server) -> dict[str, Any]:
    """A root, a second root, an admin, a second admin and two users, with their tokens and ids."""
    names = {"root": Role.ROOT, "root2": Role.ROOT, "adm": Role.ADMIN, "adm2": Role.ADMIN, "alice": Role.USER,
             "bob": Role.USER}
    out: dict[str, Any] = {}
    for name, role in names.items():
        out[name] = await server.make_user(f"t_{name}", role)
        out[name + "_id"] = await _uid(server, f"t_{name}")
    return out


async def _closed(ws: Any) -> None:
    """Read (skipping data frames) until the server closes the WebSocket."""
    while True:
        msg = await ws.ws.receive(timeout=5)
        if msg.type.name in ("CLOSE", "CLOSED", "CLOSING", "ERROR"):
            return


def _assert_error(status: int, body: Any, expect: int) -> None:
    assert status == expect, (status, body)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("time"), int)


async def test_non_admins_are_refused(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    for method, path in (("GET", "/api/admin/settings"), ("GET", "/api/admin/user/list"),
                         ("POST", "/api/admin/user/ban"), ("GET", "/api/admin/room/list")):
        status, body = await api.call(method, path, json={"id": t["bob_id"]})
        _assert_error(status, body, 401)
        status, body = await api.call(method, path, token=t["alice"], json={"id": t["bob_id"]})
        _assert_error(status, body, 403)
    # root-only routes refuse admins
    for path in ("/api/admin/admin/add", "/api/admin/admin/delete"):
        status, body = await api.call("POST", path, token=t["adm"], json={"id": t["alice_id"]})
        _assert_error(status, body, 403)


async def test_settings(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    all_ = await api.ok("GET", "/api/admin/settings", token=t["adm"])
    assert all_["room"]["room_ttl"] == 48 and all_["user"]["enable_guest"] is True
    assert "oauth2_github" in all_ and all_["database"]["database_version"]
    room = await api.ok("GET", "/api/admin/settings/room", token=t["adm"])
    assert set(room) == {"room"} and room["room"]["disable_create_room"] is False
    oauth = await api.ok("GET", "/api/admin/settings/oauth2", token=t["adm"])
    assert oauth and all(g.startswith("oauth2_") for g in oauth) and "oauth2_casdoor" in oauth
    status, body = await api.call("GET", "/api/admin/settings/nope", token=t["adm"])
    _assert_error(status, body, 400)

    await api.ok("POST", "/api/admin/settings", expect=204, token=t["adm"],
                 json={"room_ttl": "12", "disable_create_room": True, "p2p_zone": "eu"})
    room = await api.ok("GET", "/api/admin/settings/room", token=t["adm"])
    assert room["room"]["room_ttl"] == 12 and room["room"]["disable_create_room"] is True
    assert (await api.ok("GET", "/api/admin/settings/server", token=t["adm"]))["server"]["p2p_zone"] == "eu"

    # all or nothing: one bad value changes nothing
    for bad in ({"room_ttl": 5, "smtp_port": 70000}, {"room_ttl": 0}, {"no_such_setting": 1},
                {"enable_guest": "maybe"}, {"database_version": "9"}, {"room_ttl": 5, "room_must_need_pwd": True,
                                                                       "room_must_no_need_pwd": True}):
        status, body = await api.call("POST", "/api/admin/settings", token=t["adm"], json=bad)
        _assert_error(status, body, 400)
    assert (await api.ok("GET", "/api/admin/settings/room", token=t["adm"]))["room"]["room_ttl"] == 12
    for raw in ("[1,2]", "not json", ""):
        status, body = await api.call("POST", "/api/admin/settings", token=t["adm"], data=raw,
                                      headers={"Content-Type": "application/json"})
        _assert_error(status, body, 400)
    # the change is live: non-admins cannot create rooms now
    status, body = await api.call("POST", "/api/room/create", token=t["alice"],
                                  json={"roomName": "r", "password": ""})
    assert status in (400, 403), (status, body)


async def test_email_off_is_a_clear_400(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    status, body = await api.call("POST", "/api/admin/email/test", token=t["adm"], json={"email": "a@b.cd"})
    _assert_error(status, body, 400)
    assert "email is disabled" in body["error"]


async def test_user_add_and_list(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    await api.ok("POST", "/api/admin/user/add", expect=204, token=t["adm"],
                 json={"username": "carol", "password": "secret12"})
    await api.ok("POST", "/api/admin/user/add", expect=204, token=t["adm"],
                 json={"username": "dave", "password": "secret12", "role": 2})
    # admins (and root users) only by root
    for role in ("admin", 4):
        status, body = await api.call("POST", "/api/admin/user/add", token=t["adm"],
                                      json={"username": "erin", "password": "secret12", "role": role})
        _assert_error(status, body, 403)
        assert body["error"] == "only root can add an admin or root user"
    assert await server.store.users.get_by_username("erin") is None
    await api.ok("POST", "/api/admin/user/add", expect=204, token=t["root"],
                 json={"username": "erin", "password": "secret12", "role": "admin"})
    carol = await api.login("carol", "secret12")
    assert (await api.me(carol))["role"] == Role.USER
    assert (await server.store.users.get_by_username("dave")).role == Role.PENDING
    assert (await server.store.users.get_by_username("erin")).role == Role.ADMIN

    status, body = await api.call("POST", "/api/admin/user/add", token=t["adm"],
                                  json={"username": "newroot", "password": "secret12", "role": 5})
    _assert_error(status, body, 403)
    await api.ok("POST", "/api/admin/user/add", expect=204, token=t["root"],
                 json={"username": "newroot", "password": "secret12", "role": 5})

    for bad in ({"username": "carol", "password": "secret12"},  # taken
                {"username": "", "password": "secret12"}, {"username": "x" * 40, "password": "secret12"},
                {"username": "frank", "password": ""}, {"username": "frank"}, {"password": "secret12"},
                {"username": 5, "password": "secret12"}, {"username": "frank", "password": 123},
                {"username": "frank", "password": "secret12", "role": 9},
                {"username": "frank", "password": "secret12", "role": "wizard"},
                {"username": "frank", "password": "secret12", "role": True},
                {"username": "frank", "password": "secret12", "role": [3]}):
        status, body = await api.call("POST", "/api/admin/user/add", token=t["adm"], json=bad)
        _assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/admin/user/add", token=t["adm"], json=["carol"])
    _assert_error(status, body, 400)

    page = await api.ok("GET", "/api/admin/user/list", token=t["adm"], params={"max": 100})
    names = [u["username"] for u in page["list"]]
    assert "guest" not in names and {"carol", "dave", "erin", "t_alice"} <= set(names)
    assert page["total"] == len(page["list"])
    assert names == sorted(names, reverse=True)  # sort=name, order=desc by default
    assert all(u["email"] == "" and set(u) == {"id", "username", "email", "createdAt", "role"} for u in page["list"])

    asc = await api.ok("GET", "/api/admin/user/list", token=t["adm"],
                       params={"order": "asc", "sort": "createdAt", "max": 100})
    assert asc["total"] == page["total"]
    pending = await api.ok("GET", "/api/admin/user/list", token=t["adm"], params={"role": "pending"})
    assert [u["username"] for u in pending["list"]] == ["dave"]
    admins = await api.ok("GET", "/api/admin/user/list", token=t["adm"], params={"role": "admin"})
    assert {u["username"] for u in admins["list"]} == {"t_adm", "t_adm2", "erin"}
    found = await api.ok("GET", "/api/admin/user/list", token=t["adm"], params={"keyword": "aro", "search": "name"})
    assert [u["username"] for u in found["list"]] == ["carol"]
    by_id = await api.ok("GET", "/api/admin/user/list", token=t["adm"],
                         params={"keyword": t["bob_id"], "search": "id"})
    assert [u["id"] for u in by_id["list"]] == [t["bob_id"]]
    paged = await api.ok("GET", "/api/admin/user/list", token=t["adm"], params={"max": 2, "page": 2})
    assert len(paged["list"]) == 2 and paged["total"] == page["total"]
    # like-patterns are escaped
    none = await api.ok("GET", "/api/admin/user/list", token=t["adm"], params={"keyword": "%"})
    assert none["total"] == 0

    # an unknown role, order or search mode is no error, as upstream (tests/api/test_list_queries.py)
    for params in ({"sort": "age"}, {"page": "x"}, {"max": "1.5"}):
        status, body = await api.call("GET", "/api/admin/user/list", token=t["adm"], params=params)
        _assert_error(status, body, 400)


async def test_user_approve_ban_unban(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    await api.ok("POST", "/api/admin/user/add", expect=204, token=t["adm"],
                 json={"username": "waiting", "password": "secret12", "role": "pending"})
    waiting = await _uid(server, "waiting")
    login = await api.ok("POST", "/api/user/login", json={"username": "waiting", "password": "secret12"})
    assert "token" not in login and login["role"] == Role.PENDING
    await api.ok("POST", "/api/admin/user/approve", expect=204, token=t["adm"], json={"id": waiting})
    token = await api.login("waiting", "secret12")
    status, body = await api.call("POST", "/api/admin/user/approve", token=t["adm"], json={"id": waiting})
    _assert_error(status, body, 400)

    # ban: existing tokens stop working, live connections close, the user's rooms close
    room = await api.create_room(token, "waiting's room")
    ws = await api.ws(room, t["bob"])
    await api.ok("POST", "/api/admin/user/ban", expect=204, token=t["adm"], json={"id": waiting})
    status, body = await api.call("GET", "/api/user/me", token=token)
    _assert_error(status, body, 401)
    await _closed(ws)
    status, body = await api.call("GET", "/api/room/movie/current", token=t["bob"], room=room)
    assert status == 401
    listed = await api.ok("GET", "/api/admin/user/list", token=t["adm"], params={"role": "banned"})
    assert [u["id"] for u in listed["list"]] == [waiting]
    status, body = await api.call("POST", "/api/admin/user/ban", token=t["adm"], json={"id": waiting})
    _assert_error(status, body, 400)

    await api.ok("POST", "/api/admin/user/unban", expect=204, token=t["adm"], json={"id": waiting})
    await api.login("waiting", "secret12")
    status, body = await api.call("POST", "/api/admin/user/unban", token=t["adm"], json={"id": waiting})
    _assert_error(status, body, 400)

    # banning a connected user closes their own connections
    room2 = await api.create_room(t["alice"], "alice room")
    ws_bob = await api.ws(room2, t["bob"])
    await api.ok("POST", "/api/admin/user/ban", expect=204, token=t["adm"], json={"id": t["bob_id"]})
    await _closed(ws_bob)


async def test_user_hierarchy(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    for path in ("/api/admin/user/ban", "/api/admin/user/delete"):
        # nobody on themselves
        for who in ("adm", "root"):
            status, body = await api.call("POST", path, token=t[who], json={"id": t[who + "_id"]})
            _assert_error(status, body, 400)
        # nobody on another root
        for who in ("adm", "root"):
            status, body = await api.call("POST", path, token=t[who], json={"id": t["root2_id"]})
            _assert_error(status, body, 403)
        # only root on admins
        status, body = await api.call("POST", path, token=t["adm"], json={"id": t["adm2_id"]})
        _assert_error(status, body, 403)
    for path, extra in (("/api/admin/user/password", {"password": "another1"}),
                        ("/api/admin/user/username", {"username": "renamed"})):
        status, body = await api.call("POST", path, token=t["adm"], json={"id": t["root2_id"], **extra})
        _assert_error(status, body, 403)
        status, body = await api.call("POST", path, token=t["root"], json={"id": t["root2_id"], **extra})
        _assert_error(status, body, 403)
        status, body = await api.call("POST", path, token=t["adm"], json={"id": t["adm2_id"], **extra})
        _assert_error(status, body, 403)
    # root acts on admins
    await api.ok("POST", "/api/admin/user/ban", expect=204, token=t["root"], json={"id": t["adm2_id"]})
    await api.ok("POST", "/api/admin/user/unban", expect=204, token=t["root"], json={"id": t["adm2_id"]})
    await api.ok("POST", "/api/admin/user/username", expect=204, token=t["root"],
                 json={"id": t["adm2_id"], "username": "adm2_renamed"})
    # a root may change their own password and username
    await api.ok("POST", "/api/admin/user/username", expect=204, token=t["root"],
                 json={"id": t["root_id"], "username": "the_root"})
    await api.ok("POST", "/api/admin/user/password", expect=204, token=t["root"],
                 json={"id": t["root_id"], "password": "rootpass2"})
    await api.login("the_root", "rootpass2")
    await api.ok("POST", "/api/admin/user/delete", expect=204, token=t["adm"], json={"id": t["bob_id"]})
    assert await server.store.users.get(t["bob_id"]) is None


async def test_user_password_username_delete_rooms(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    old_token = t["alice"]
    await api.ok("POST", "/api/admin/user/password", expect=204, token=t["adm"],
                 json={"id": t["alice_id"], "password": "newpass12"})
    status, body = await api.call("GET", "/api/user/me", token=old_token)
    _assert_error(status, body, 401)
    alice = await api.login("t_alice", "newpass12")

    await api.ok("POST", "/api/admin/user/username", expect=204, token=t["adm"],
                 json={"id": t["alice_id"], "username": "alice2"})
    assert (await api.me(alice))["username"] == "alice2"
    status, body = await api.call("POST", "/api/admin/user/username", token=t["adm"],
                                  json={"id": t["alice_id"], "username": "t_bob"})
    _assert_error(status, body, 400)

    r1 = await api.create_room(alice, "alpha", hidden=True)
    await api.create_room(alice, "beta", password="pw1234")
    await api.ok("POST", "/api/room/login", token=t["bob"], json={"roomId": r1, "password": ""})
    rooms = await api.ok("GET", "/api/admin/user/rooms", token=t["adm"], params={"id": t["alice_id"]})
    assert rooms["total"] == 2 and {r["roomName"] for r in rooms["list"]} == {"alpha", "beta"}
    item = next(r for r in rooms["list"] if r["roomName"] == "beta")
    assert item["needPassword"] is True and item["creatorId"] == t["alice_id"] and item["creator"] == "alice2"
    assert set(item) == {"roomId", "roomName", "creatorId", "creator", "viewerCount", "createdAt", "needPassword",
                         "status"}
    named = await api.ok("GET", "/api/admin/user/rooms", token=t["adm"],
                         params={"id": t["alice_id"], "keyword": "alp", "search": "name"})
    assert [r["roomName"] for r in named["list"]] == ["alpha"]
    active = await api.ok("GET", "/api/admin/user/rooms", token=t["adm"],
                          params={"id": t["alice_id"], "status": "banned"})
    assert active["total"] == 0
    joined = await api.ok("GET", "/api/admin/user/joined", token=t["adm"], params={"id": t["bob_id"]})
    assert [r["roomId"] for r in joined["list"]] == [r1] and joined["list"][0]["memberStatus"] == 3
    for params in ({}, {"id": BAD_ID}, {"id": t["alice_id"], "sort": "size"}):
        status, body = await api.call("GET", "/api/admin/user/rooms", token=t["adm"], params=params)
        _assert_error(status, body, 400)

    await api.ok("POST", "/api/admin/user/delete", expect=204, token=t["adm"], json={"id": t["alice_id"]})
    assert await server.store.rooms.get(r1) is None
    status, body = await api.call("POST", "/api/user/login", json={"username": "alice2", "password": "newpass12"})
    _assert_error(status, body, 403)  # a deleted account answers like a wrong password


@pytest.mark.parametrize("path,extra", [
    ("/api/admin/user/delete", {}), ("/api/admin/user/ban", {}), ("/api/admin/user/unban", {}),
    ("/api/admin/user/approve", {}), ("/api/admin/user/password", {"password": "secret12"}),
    ("/api/admin/user/username", {"username": "someone"}), ("/api/admin/admin/add", {}),
    ("/api/admin/admin/delete", {}),
])
async def test_user_routes_bad_input(server: Server, path: str, extra: dict[str, Any]) -> None:
    api = server.api
    t = await _setup(server)
    for body in ({**extra}, {"id": BAD_ID, **extra}, {"id": 12, **extra}, {"id": None, **extra}):
        status, resp = await api.call("POST", path, token=t["root"], json=body)
        _assert_error(status, resp, 400)
    status, resp = await api.call("POST", path, token=t["root"], json={"id": MISSING_ID, **extra})
    _assert_error(status, resp, 404)
    status, resp = await api.call("POST", path, token=t["root"], json={"id": "00000000000000000000000000000001",
                                                                        **extra})
    _assert_error(status, resp, 400)  # the built-in guest
    status, resp = await api.call("POST", path, token=t["root"], data="{", headers={"Content-Type": "application/json"})
    _assert_error(status, resp, 400)
    if extra:
        key = next(iter(extra))
        for value in (None, 5, "", "\u0001bad"):
            status, resp = await api.call("POST", path, token=t["root"], json={"id": t["alice_id"], key: value})
            _assert_error(status, resp, 400)


async def test_rooms(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    r_alice = await api.create_room(t["alice"], "alice's room")
    r_hidden = await api.create_room(t["bob"], "bob hidden", hidden=True)
    r_adm = await api.create_room(t["adm2"], "admin room")
    r_root = await api.create_room(t["root2"], "root room")

    page = await api.ok("GET", "/api/admin/room/list", token=t["adm"], params={"max": 100})
    assert page["total"] == 4 and {r["roomId"] for r in page["list"]} == {r_alice, r_hidden, r_adm, r_root}
    names = [r["roomName"] for r in page["list"]]
    assert names == sorted(names, reverse=True)
    for search, keyword, expect in (("name", "hidden", {r_hidden}), ("creator", "t_bob", {r_hidden}),
                                    ("creatorId", t["alice_id"], {r_alice}), ("id", r_adm, {r_adm}),
                                    ("all", "root", {r_root})):
        got = await api.ok("GET", "/api/admin/room/list", token=t["adm"],
                           params={"search": search, "keyword": keyword})
        assert {r["roomId"] for r in got["list"]} == expect, (search, got)
    # an unknown status or search mode filters nothing, as upstream
    assert (await api.ok("GET", "/api/admin/room/list", token=t["adm"],
                         params={"status": "closed", "search": "x"}))["total"] == 4
    for params in ({"sort": "viewers"}, {"max": "ten"}):
        status, body = await api.call("GET", "/api/admin/room/list", token=t["adm"], params=params)
        _assert_error(status, body, 400)

    # password (non-empty), hierarchy
    await api.ok("POST", "/api/admin/room/password", expect=204, token=t["adm"],
                 json={"id": r_alice, "password": "roompw1"})
    assert (await api.ok("GET", "/api/room/check", params={"roomId": r_alice}))["needPassword"] is True
    for body in ({"id": r_alice, "password": ""}, {"id": r_alice}, {"id": r_alice, "password": 1},
                 {"id": BAD_ID, "password": "roompw1"}, {"password": "roompw1"}):
        status, resp = await api.call("POST", "/api/admin/room/password", token=t["adm"], json=body)
        _assert_error(status, resp, 400)
    status, resp = await api.call("POST", "/api/admin/room/password", token=t["adm"],
                                  json={"id": MISSING_ID, "password": "roompw1"})
    _assert_error(status, resp, 404)
    for who, room in (("adm", r_adm), ("adm", r_root), ("root", r_root)):
        for path, extra in (("/api/admin/room/password", {"password": "roompw1"}), ("/api/admin/room/ban", {}),
                            ("/api/admin/room/delete", {})):
            status, resp = await api.call("POST", path, token=t[who], json={"id": room, **extra})
            _assert_error(status, resp, 403)
    await api.ok("POST", "/api/admin/room/password", expect=204, token=t["root"],
                 json={"id": r_adm, "password": "roompw2"})

    # ban closes the room and disconnects viewers; unban reopens it
    ws = await api.ws(r_hidden, t["bob"])
    await api.ok("POST", "/api/admin/room/ban", expect=204, token=t["adm"], json={"id": r_hidden})
    await _closed(ws)
    status, body = await api.call("GET", "/api/room/movie/current", token=t["bob"], room=r_hidden)
    assert status == 401 and "banned" in body["error"]
    banned = await api.ok("GET", "/api/admin/room/list", token=t["adm"], params={"status": "banned"})
    assert [r["roomId"] for r in banned["list"]] == [r_hidden] and banned["list"][0]["status"] == 1
    status, body = await api.call("POST", "/api/admin/room/ban", token=t["adm"], json={"id": r_hidden})
    _assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/admin/room/approve", token=t["adm"], json={"id": r_hidden})
    _assert_error(status, body, 400)
    await api.ok("POST", "/api/admin/room/unban", expect=204, token=t["adm"], json={"id": r_hidden})
    await api.ok("GET", "/api/room/movie/current", token=t["bob"], room=r_hidden)
    status, body = await api.call("POST", "/api/admin/room/unban", token=t["adm"], json={"id": r_hidden})
    _assert_error(status, body, 400)

    # approve a pending room
    await api.ok("POST", "/api/admin/settings", expect=204, token=t["adm"], json={"create_room_need_review": True})
    r_pending = await api.create_room(t["alice"], "needs review")
    pending = await api.ok("GET", "/api/admin/room/list", token=t["adm"], params={"status": "pending"})
    assert [r["roomId"] for r in pending["list"]] == [r_pending]
    await api.ok("POST", "/api/admin/room/approve", expect=204, token=t["adm"], json={"id": r_pending})
    active = await api.ok("GET", "/api/admin/room/list", token=t["adm"], params={"status": "active"})
    assert r_pending in {r["roomId"] for r in active["list"]}

    # delete
    ws2 = await api.ws(r_pending, t["alice"])
    await api.ok("POST", "/api/admin/room/delete", expect=204, token=t["adm"], json={"id": r_pending})
    await _closed(ws2)
    assert await server.store.rooms.get(r_pending) is None
    status, body = await api.call("POST", "/api/admin/room/delete", token=t["adm"], json={"id": r_pending})
    _assert_error(status, body, 404)
    # root deletes an admin's room; a root may act on their own room
    await api.ok("POST", "/api/admin/room/delete", expect=204, token=t["root"], json={"id": r_adm})
    await api.ok("POST", "/api/admin/room/ban", expect=204, token=t["root2"], json={"id": r_root})
    for path in ("/api/admin/room/approve", "/api/admin/room/ban", "/api/admin/room/unban",
                 "/api/admin/room/delete"):
        for body in ({}, {"id": BAD_ID}, {"id": 7}):
            status, resp = await api.call("POST", path, token=t["adm"], json=body)
            _assert_error(status, resp, 400)
        status, resp = await api.call("POST", path, token=t["adm"], json={"id": MISSING_ID})
        _assert_error(status, resp, 404)


async def test_room_members(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    room = await api.create_room(t["alice"], "members room")
    await api.ok("POST", "/api/room/login", token=t["bob"], json={"roomId": room, "password": ""})
    ws = await api.ws(room, t["bob"])
    page = await api.ok("GET", "/api/admin/room/members", token=t["adm"], params={"roomId": room})
    assert page["total"] == 2
    by_name = {m["username"]: m for m in page["list"]}
    assert by_name["t_alice"]["role"] == 3 and by_name["t_bob"]["role"] == 1
    assert by_name["t_bob"]["onlineCount"] == 1 and by_name["t_bob"]["roomId"] == room
    creators = await api.ok("GET", "/api/admin/room/members", token=t["adm"],
                            params={"roomId": room, "role": "creator"})
    assert [m["userId"] for m in creators["list"]] == [t["alice_id"]]
    banned = await api.ok("GET", "/api/admin/room/members", token=t["adm"], params={"roomId": room,
                                                                                   "status": "banned"})
    assert banned["total"] == 0
    found = await api.ok("GET", "/api/admin/room/members", token=t["adm"],
                         params={"roomId": room, "keyword": "bob", "search": "name"})
    assert [m["userId"] for m in found["list"]] == [t["bob_id"]]
    await ws.close()
    for params in ({}, {"roomId": BAD_ID}, {"roomId": room, "sort": "createdAt"}):
        status, body = await api.call("GET", "/api/admin/room/members", token=t["adm"], params=params)
        _assert_error(status, body, 400)
    status, body = await api.call("GET", "/api/admin/room/members", token=t["adm"], params={"roomId": MISSING_ID})
    _assert_error(status, body, 404)
    status, body = await api.call("GET", "/api/admin/room/members", token=t["alice"], params={"roomId": room})
    _assert_error(status, body, 403)


async def test_site_admins_root_only(server: Server) -> None:
    api = server.api
    t = await _setup(server)
    await api.ok("POST", "/api/admin/admin/add", expect=204, token=t["root"], json={"id": t["alice_id"]})
    assert (await api.me(t["alice"]))["role"] == Role.ADMIN
    await api.ok("GET", "/api/admin/user/list", token=t["alice"])
    status, body = await api.call("POST", "/api/admin/admin/add", token=t["root"], json={"id": t["alice_id"]})
    _assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/admin/admin/add", token=t["root"], json={"id": t["root2_id"]})
    _assert_error(status, body, 400)

    await api.ok("POST", "/api/admin/admin/delete", expect=204, token=t["root"], json={"id": t["alice_id"]})
    assert (await api.me(t["alice"]))["role"] == Role.USER
    status, body = await api.call("GET", "/api/admin/user/list", token=t["alice"])
    _assert_error(status, body, 403)
    status, body = await api.call("POST", "/api/admin/admin/delete", token=t["root"], json={"id": t["alice_id"]})
    _assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/admin/admin/delete", token=t["root"], json={"id": t["root2_id"]})
    _assert_error(status, body, 403)
    status, body = await api.call("POST", "/api/admin/admin/delete", token=t["root"], json={"id": t["root_id"]})
    _assert_error(status, body, 403)
    # a banned or pending user cannot become an admin directly
    await api.ok("POST", "/api/admin/user/ban", expect=204, token=t["root"], json={"id": t["bob_id"]})
    status, body = await api.call("POST", "/api/admin/admin/add", token=t["root"], json={"id": t["bob_id"]})
    _assert_error(status, body, 400)


async def test_admin_routes_in_openapi(server: Server) -> None:
    spec = await server.api.ok("GET", "/api/openapi.json")
    paths = spec["paths"]
    for path in ("/api/admin/settings", "/api/admin/settings/{group}", "/api/admin/email/test",
                 "/api/admin/vendors", "/api/admin/vendors/add", "/api/admin/user/add", "/api/admin/user/delete",
                 "/api/admin/user/password", "/api/admin/user/username", "/api/admin/user/list",
                 "/api/admin/user/approve", "/api/admin/user/ban", "/api/admin/user/unban", "/api/admin/user/rooms",
                 "/api/admin/room/password", "/api/admin/room/list", "/api/admin/room/approve",
                 "/api/admin/room/ban", "/api/admin/room/unban", "/api/admin/room/delete",
                 "/api/admin/room/members", "/api/admin/admin/add", "/api/admin/admin/delete"):
        assert path in paths, path
    assert paths["/api/admin/admin/add"]["post"]["description"].startswith("A root")
