"""A token belongs to a session: ending the session ends every encoding of the token and its open sockets;
a password change needs proof and ends the other sessions; sockets lose rights the moment the user does."""

from __future__ import annotations

import time

import aiohttp
import jwt
import pytest
from sqlalchemy.exc import OperationalError

from synctv._generated import message_pb2 as pb
from synctv.auth.passwords import user_version
from synctv.core.permissions import Role
from tests.api.test_ws import closed, setup_room, still_works
from tests.support.asserts import assert_error
from tests.support.servers import Server

T = pb.MessageType


def _status(at: float) -> pb.Message:
    return pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                      playback_status=pb.Status(is_playing=False, current_time=at, playback_rate=1.0))


async def _allowed(ws: object, msg: pb.Message) -> bool:
    """Send `msg`, then SYNC: allowed iff no ERROR arrives before the SYNC reply."""
    await ws.send(msg)  # type: ignore[attr-defined]
    await ws.send(pb.Message(type=T.SYNC))  # type: ignore[attr-defined]
    denied = False
    while True:
        got = await ws.recv(5.0)  # type: ignore[attr-defined]
        if got.type == T.ERROR:
            denied = True
        elif got.type == T.SYNC:
            return not denied


async def test_logout_revokes_every_encoding_of_the_token(sqlite_server: Server) -> None:
    api = sqlite_server.api
    token = await api.signup("erin")
    room = await api.create_room(token, "erin's")
    padded = token + "="
    jwt.decode(padded, options={"verify_signature": False})  # the JWT library takes the padded form too
    assert (await api.me(padded))["username"] == "erin"
    await api.ok("POST", "/api/user/logout", expect=204, token=token)
    for variant in (token, padded, token + "=="):
        status, body = await api.call("GET", "/api/user/me", token=variant)
        assert_error(status, body, 401)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.ws(room, padded, via_query=True)
    assert refused.value.status == 401


async def test_logout_closes_the_sessions_open_sockets(sqlite_server: Server) -> None:
    api, rid, alice, _ = await setup_room(sqlite_server)
    other = await api.login("alice", "password1")
    ws = await api.ws(rid, alice)
    ws_other = await api.ws(rid, other)
    await api.ok("POST", "/api/user/logout", expect=204, token=alice)
    assert await closed(ws) == 4001
    await still_works(ws_other)  # another session of the same user stays
    await ws_other.close()


async def test_a_password_change_needs_a_fresh_login_or_the_old_password(sqlite_server: Server) -> None:
    api = sqlite_server.api
    fresh = await api.signup("frank")
    user = await sqlite_server.store.users.get_by_username("frank")
    stale = sqlite_server.runtime.services.tokens.issue(user.id, user_version(user.hashed_password),  # type: ignore[union-attr]
                                                       now=time.time() - 3600)
    room = await api.create_room(fresh, "frank's")
    open_ws = await api.ws(room, stale)
    status, body = await api.call("POST", "/api/user/password", token=stale, json={"password": "stolen-pass1"})
    assert_error(status, body, 403)
    assert "oldPassword" in body["error"]
    status, body = await api.call("POST", "/api/user/password", token=stale,
                                  json={"password": "stolen-pass1", "oldPassword": "wrong-guess"})
    assert_error(status, body, 403, "password incorrect")
    await api.login("frank", "password1")  # nothing changed
    data = await api.ok("POST", "/api/user/password", token=stale,
                        json={"password": "newpass-22", "oldPassword": "password1"})
    assert data["token"]
    assert await closed(open_ws) == 4001  # sockets of the old password's sessions close at once
    for tok in (fresh, stale):
        status, _ = await api.call("GET", "/api/user/me", token=tok)
        assert status == 401
    again = await api.ok("POST", "/api/user/password", token=data["token"], json={"password": "newpass-33"})
    assert again["token"]  # a token from a login within the last minutes needs no old password


async def test_a_demoted_admin_loses_room_rights_on_an_open_socket(sqlite_server: Server) -> None:
    api, rid, _alice, _ = await setup_room(sqlite_server)
    root = await sqlite_server.make_user("root2", Role.ROOT)
    admin = await sqlite_server.make_user("siteadmin", Role.ADMIN)
    admin_id = (await api.me(admin))["id"]
    ws = await api.ws(rid, admin)
    assert await _allowed(ws, _status(11.0))  # a site admin may control any room
    await api.ok("POST", "/api/admin/admin/delete", expect=204, token=root, json={"id": admin_id})
    assert not await _allowed(ws, _status(12.0))  # same socket, rights gone
    await ws.close()


async def test_guest_sockets_close_when_guests_are_disabled_site_wide(sqlite_server: Server) -> None:
    api, rid, _alice, _ = await setup_room(sqlite_server)
    root = await sqlite_server.make_user("root3", Role.ROOT)
    guest = await api.ws(rid)
    await still_works(guest)
    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"enable_guest": False})
    assert await closed(guest) == 4001


async def test_my_sessions_are_listed_with_this_one_marked_and_can_be_ended(sqlite_server: Server) -> None:
    api = sqlite_server.api
    laptop = await api.signup("alice")
    phone = await api.login("alice", "password1")
    tablet = await api.login("alice", "password1")
    await api.ok("GET", "/api/user/me", token=phone, headers={"User-Agent": "Phone/1.0"})
    await api.ok("GET", "/api/user/me", token=tablet)
    listed = (await api.ok("GET", "/api/user/sessions", token=laptop))["list"]
    assert len(listed) == 3
    assert [s["current"] for s in listed].count(True) == 1
    phone_row = next(s for s in listed if s["userAgent"] == "Phone/1.0")
    now = time.time()
    for s in listed:
        assert now - 120 < s["createdAt"] <= s["lastSeenAt"] <= now + 5 < s["expiresAt"]
        assert len(s["id"]) == 64
    # Bob can neither see nor end Alice's sessions: a session of someone else is "not found".
    bob = await api.signup("bob")
    assert [s["current"] for s in (await api.ok("GET", "/api/user/sessions", token=bob))["list"]] == [True]
    status, body = await api.call("POST", "/api/user/sessions/revoke", token=bob, json={"id": phone_row["id"]})
    assert_error(status, body, 404)
    assert (await api.call("GET", "/api/user/me", token=phone))[0] == 200
    # Ending one: its token stops working at once, the others keep working.
    await api.ok("POST", "/api/user/sessions/revoke", expect=204, token=laptop, json={"id": phone_row["id"]})
    assert (await api.call("GET", "/api/user/me", token=phone))[0] == 401
    assert (await api.call("GET", "/api/user/me", token=tablet))[0] == 200
    status, body = await api.call("POST", "/api/user/sessions/revoke", token=laptop, json={"id": phone_row["id"]})
    assert_error(status, body, 404)
    # Ending all others leaves this one only.
    ended = await api.ok("POST", "/api/user/sessions/revoke-others", token=laptop)
    assert ended == {"ended": 1}
    assert (await api.call("GET", "/api/user/me", token=tablet))[0] == 401
    (only,) = (await api.ok("GET", "/api/user/sessions", token=laptop))["list"]
    assert only["current"] and (await api.call("GET", "/api/user/me", token=laptop))[0] == 200


async def test_session_routes_refuse_bad_input_and_anonymous_callers(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    for bad in ({}, {"id": 5}, {"id": ""}, {"id": "x" * 64}, {"id": "A" * 64}, {"id": "a" * 63}, {"id": None}):
        status, body = await api.call("POST", "/api/user/sessions/revoke", token=alice, json=bad)
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/user/sessions/revoke", token=alice, data="not json",
                                  headers={"Content-Type": "application/json"})
    assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/user/sessions/revoke", token=alice, json={"id": "a" * 64})
    assert_error(status, body, 404)
    for method, path in (("GET", "/api/user/sessions"), ("POST", "/api/user/sessions/revoke"),
                         ("POST", "/api/user/sessions/revoke-others")):
        status, body = await api.call(method, path, json={"id": "a" * 64})
        assert_error(status, body, 401)
    # a password change ends the other sessions, and the list says so
    other = await api.login("alice", "password1")
    await api.ok("GET", "/api/user/me", token=other)
    fresh = await api.ok("POST", "/api/user/password", token=alice,
                         json={"password": "password2", "oldPassword": "password1"})
    listed = (await api.ok("GET", "/api/user/sessions", token=fresh["token"]))["list"]
    assert [s["current"] for s in listed] == [True]
    assert (await api.call("GET", "/api/user/sessions", token=other))[0] == 401


async def test_a_session_use_that_cannot_be_recorded_does_not_refuse_the_user(sqlite_server: Server,
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    store = sqlite_server.store.sessions

    async def broken(*_: object) -> None:
        raise OperationalError("INSERT INTO user_sessions", {}, ConnectionRefusedError("database is down"))

    monkeypatch.setattr(store._uses, "_run", broken)
    before = store.use_failures
    with caplog.at_level("WARNING", logger="synctv.store.sessions"):
        me = await api.ok("GET", "/api/user/me", token=alice)
        assert me["username"] == "alice"
        await store.flush()
    assert store.use_failures == before + 1  # counted and logged, never the user's problem
    assert any("session use not recorded" in r.getMessage() for r in caplog.records)


async def test_a_wave_of_new_sessions_is_recorded_in_one_transaction(sqlite_server: Server,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A join storm of first-time sessions must not queue one write transaction per request on the database."""
    import asyncio

    api = sqlite_server.api
    for i in range(12):
        await api.signup(f"wave{i}")
    store = sqlite_server.store.sessions
    await store.flush()
    batches: list[int] = []
    record = store._record_many

    async def counted(uses: dict[str, object]) -> object:
        batches.append(len(uses))
        return await record(uses)  # type: ignore[arg-type]

    monkeypatch.setattr(store._uses, "_run", counted)
    fresh = [await api.login(f"wave{i}", "password1") for i in range(12)]  # new sessions, none recorded yet
    await asyncio.gather(*(api.ok("GET", "/api/user/me", token=t) for t in fresh))
    await store.flush()
    assert sum(batches) == 12 and len(batches) < 12  # every use recorded, in fewer transactions than requests
    listed = (await api.ok("GET", "/api/user/sessions", token=fresh[0]))["list"]
    assert [s["current"] for s in listed].count(True) == 1
