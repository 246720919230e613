"""A token belongs to a session: ending the session ends every encoding of the token and its open sockets;
a password change needs proof and ends the other sessions; sockets lose rights the moment the user does."""

from __future__ import annotations

import time

import aiohttp
import jwt
import pytest

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
