"""`/api/user` contract (§2.3): envelope, login/signup, sessions, password change, token sources, my rooms."""

from __future__ import annotations

import aiohttp

from synctv.auth.passwords import hash_password
from synctv.core.permissions import Role
from tests.support.asserts import assert_error
from tests.support.servers import Server


async def test_login_signup_and_envelope(server: Server) -> None:
    api = server.api
    status, body = await api.call("POST", "/api/user/signup", json={"username": "alice", "password": "password1"})
    assert status == 200 and set(body) == {"data", "time"} and isinstance(body["time"], int)
    assert body["data"]["role"] == Role.USER and body["data"]["token"]
    status, body = await api.call("POST", "/api/user/signup", json={"username": "alice", "password": "password1"})
    assert 400 <= status < 500 and body["error"]
    token = await api.login("alice", "password1")
    me = await api.me(token)
    assert me["username"] == "alice" and len(me["id"]) == 32 and me["role"] == Role.USER
    assert {"id", "username", "email", "createdAt", "role"} <= set(me)

    status, body = await api.call("POST", "/api/user/login", json={"username": "nobody", "password": "password1"})
    assert_error(status, body, 403, "password incorrect")  # unknown accounts are not told apart
    status, body = await api.call("POST", "/api/user/login", json={"username": "alice", "password": "wrong11"})
    assert_error(status, body, 403, "password incorrect")
    status, body = await api.call("POST", "/api/user/login", json={"password": "password1"})
    assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/user/login",
                                  json={"username": "alice", "email": "a@b.cc", "password": "password1"})
    assert_error(status, body, 400)
    # bad usernames and passwords
    for bad in ({"username": "x" * 33, "password": "password1"}, {"username": "", "password": "password1"},
                {"username": "bob", "password": ""}, {"username": "bob", "password": "p" * 33},
                {"username": "bob\n", "password": "password1"}, {"username": 5, "password": "password1"}):
        status, body = await api.call("POST", "/api/user/signup", json=bad)
        assert_error(status, body, 400)


async def test_logout_ends_the_session_only(server: Server) -> None:
    api = server.api
    token = await api.signup("carol")
    room = await api.create_room(token, "carol's room")
    await api.ok("POST", "/api/user/logout", expect=204, token=token)
    status, body = await api.call("GET", "/api/user/me", token=token)
    assert_error(status, body, 401)
    # the account, and its room, still exist; logging in again (even within the same second) works
    again = await api.login("carol", "password1")
    assert (await api.me(again))["username"] == "carol"
    again2 = await api.login("carol", "password1")
    await api.ok("POST", "/api/user/logout", expect=204, token=again)
    assert (await api.me(again2))["username"] == "carol"
    status, _ = await api.call("GET", "/api/room/check", params={"roomId": room})
    assert status == 200


async def test_password_change_invalidates_older_tokens(server: Server) -> None:
    api = server.api
    old = await api.signup("dave")
    other_old = await api.login("dave", "password1")
    status, body = await api.call("POST", "/api/user/password", token=old, json={"password": "password1"})
    assert_error(status, body, 400)
    data = await api.ok("POST", "/api/user/password", token=old, json={"password": "newpass22"})
    assert data["role"] == Role.USER and data["token"]
    for tok in (old, other_old):
        status, body = await api.call("GET", "/api/user/me", token=tok)
        assert_error(status, body, 401, "authentication token expired")
    assert (await api.me(data["token"]))["username"] == "dave"
    status, _ = await api.call("POST", "/api/user/login", json={"username": "dave", "password": "password1"})
    assert status == 403
    await api.login("dave", "newpass22")


async def test_banned_and_pending_login(server: Server) -> None:
    api = server.api
    for name, role, word in (("banned1", Role.BANNED, "banned"), ("pending1", Role.PENDING, "pending")):
        await server.store.users.create(name, await hash_password("password1"), role)
        status, body = await api.call("POST", "/api/user/login", json={"username": name, "password": "password1"})
        assert status == 200, body
        assert "token" not in body["data"] and body["data"]["role"] == role and word in body["data"]["message"]


async def test_role_change_rejects_existing_tokens(server: Server) -> None:
    api = server.api
    token = await server.make_user("erin")
    uid = (await api.me(token))["id"]
    await server.store.users.set_role(uid, Role.BANNED)
    status, body = await api.call("GET", "/api/user/me", token=token)
    assert_error(status, body, 401, "user account has been banned")


async def test_token_sources(server: Server) -> None:
    api = server.api
    token = await api.signup("frank")
    for headers, params in (({"Authorization": token}, None), ({"Authorization": f"Bearer {token}"}, None),
                            ({"Authorization": f"bearer {token}"}, None)):
        status, body = await api.call("GET", "/api/user/me", headers=headers, params=params)
        assert status == 200 and body["data"]["username"] == "frank", (headers, params)
    # ?token= only where a browser cannot send a header (tests/api/test_url_token.py)
    status, body = await api.call("GET", "/api/user/me", params={"token": token})
    assert_error(status, body, 401)
    for garbage in ("garbage", "Bearer garbage", "a.b.c", token[:-3] + "abc"):
        status, body = await api.call("GET", "/api/user/me", headers={"Authorization": garbage})
        assert_error(status, body, 401)
    status, body = await api.call("GET", "/api/user/me")
    assert_error(status, body, 401)
    # WebSocket: the token as subprotocol, echoed back as the selected protocol
    room = await api.create_room(token, "frank's room")
    ws = await api.ws(room, token)
    assert ws.ws.protocol == token
    await ws.close()
    ws = await api.ws(room, token, via_query=True)
    await ws.close()
    url = api.base.replace("http", "ws", 1) + f"/api/room/ws?roomId={room}"
    try:
        await api.session.ws_connect(url, protocols=("not-a-token",))
        raise AssertionError("a bad token must not upgrade")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401


async def test_my_rooms_and_joined(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    bob = await api.signup("bob")
    await server.store.settings.set_many({"user_max_room_count": 0})
    ids = []
    for name in ("b-room", "a-room", "c-room"):
        ids.append(await api.create_room(alice, name, hidden=name == "c-room"))
    page = await api.ok("GET", "/api/user/rooms", token=alice, params={"sort": "name", "order": "asc", "max": 2})
    assert page["total"] == 3 and [r["roomName"] for r in page["list"]] == ["a-room", "b-room"]
    page2 = await api.ok("GET", "/api/user/rooms", token=alice,
                         params={"sort": "name", "order": "asc", "max": 2, "page": 2})
    assert [r["roomName"] for r in page2["list"]] == ["c-room"]
    desc = await api.ok("GET", "/api/user/rooms", token=alice, params={"sort": "name"})
    assert [r["roomName"] for r in desc["list"]] == ["c-room", "b-room", "a-room"]
    item = desc["list"][0]
    assert {"roomId", "roomName", "creatorId", "creator", "viewerCount", "createdAt", "needPassword",
            "status"} <= set(item)
    kw = await api.ok("GET", "/api/user/rooms", token=alice, params={"keyword": "b-r"})
    assert [r["roomName"] for r in kw["list"]] == ["b-room"]
    status, body = await api.call("GET", "/api/user/rooms", token=alice, params={"sort": "bogus"})
    assert_error(status, body, 400, "not support sort")
    status, body = await api.call("GET", "/api/user/rooms", token=alice, params={"page": "x"})
    assert_error(status, body, 400)
    assert (await api.ok("GET", "/api/user/rooms", token=bob))["total"] == 0

    # bob joins two rooms; joined lists memberships but not own rooms
    for rid in ids[:2]:
        await api.ok("GET", "/api/room/me", token=bob, room=rid)
    joined = await api.ok("GET", "/api/user/rooms/joined", token=bob, params={"sort": "name", "order": "asc"})
    assert joined["total"] == 2 and [r["roomName"] for r in joined["list"]] == ["a-room", "b-room"]
    assert joined["list"][0]["memberStatus"] == 3 and joined["list"][0]["memberRole"] == 1
    assert (await api.ok("GET", "/api/user/rooms/joined", token=alice))["total"] == 0
    j = await api.ok("GET", "/api/user/room/joined", token=bob, room=ids[0])
    assert j["joined"] is True and j["status"] == 3 and j["room"]["name"] == "b-room"

    # exit: membership gone; the creator cannot exit; delete: creator only
    await api.ok("POST", "/api/user/room/exit", expect=204, token=bob, json={"id": ids[0]})
    j = await api.ok("GET", "/api/user/room/joined", token=bob, room=ids[0])
    assert j["joined"] is False and j["status"] == 0
    status, body = await api.call("POST", "/api/user/room/exit", token=alice, json={"id": ids[0]})
    assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/user/room/delete", token=bob, json={"id": ids[1]})
    assert_error(status, body, 403, "not creator")
    await api.ok("POST", "/api/user/room/delete", expect=204, token=alice, json={"id": ids[1]})
    status, _ = await api.call("GET", "/api/room/check", params={"roomId": ids[1]})
    assert status == 404


async def test_change_username(server: Server) -> None:
    api = server.api
    token = await api.signup("gina")
    await api.signup("hank")
    await api.ok("POST", "/api/user/username", expect=204, token=token, json={"username": "gina2"})
    assert (await api.me(token))["username"] == "gina2"
    status, body = await api.call("POST", "/api/user/username", token=token, json={"username": "hank"})
    assert_error(status, body, 400)
    await api.login("gina2", "password1")

