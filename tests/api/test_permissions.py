"""Permissions, table-driven: every member bit against every gated action, room toggles, guests, bypasses and
room-admin bits, at the core level and end to end through the HTTP API and the WebSocket."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from synctv._generated import message_pb2 as pb
from synctv.core.permissions import (
    ALL_PERMISSIONS,
    DEFAULT_PERMISSIONS,
    GUEST_USER_ID,
    TOGGLES,
    AdminPerm,
    MemberRole,
    Membership,
    MemberStatus,
    Perm,
    Role,
    Subject,
    effective_permissions,
    has_admin_permission,
    has_permission,
    is_room_admin,
)
from tests.support.api_client import Api, WsClient
from tests.support.servers import Server

T = pb.MessageType
CREATOR = "c" * 32
USER = "d" * 32
ALL_BITS = [p for p in Perm]
ALL_ADMIN_BITS = [p for p in AdminPerm]
NO_TOGGLES: dict[str, Any] = {}


# ---------------------------------------------------------------- core level

@pytest.mark.parametrize("bit", ALL_BITS, ids=[p.name for p in ALL_BITS])
def test_core_member_bit(bit: Perm) -> None:
    subject = Subject(USER, Role.USER)
    with_bit = Membership(permissions=int(bit))
    without = Membership(permissions=0xFF & ~int(bit))
    for other in ALL_BITS:
        assert has_permission(subject, CREATOR, with_bit, NO_TOGGLES, other) == (other == bit)
        assert has_permission(subject, CREATOR, without, NO_TOGGLES, other) == (other != bit)
    assert effective_permissions(subject, CREATOR, with_bit, NO_TOGGLES) == int(bit)


@pytest.mark.parametrize("bit", ALL_BITS, ids=[p.name for p in ALL_BITS])
def test_core_toggles_veto_non_admins_only(bit: Perm) -> None:
    key = TOGGLES.get(bit)
    settings = {k: False for k in TOGGLES.values()}
    member = Membership(permissions=ALL_PERMISSIONS)
    plain = Subject(USER, Role.USER)
    # WebRTC has no toggle; every other bit is vetoed for a plain member with all bits
    assert has_permission(plain, CREATOR, member, settings, bit) == (key is None)
    if key is not None:
        assert not has_permission(plain, CREATOR, member, {key: False}, bit)
        assert has_permission(plain, CREATOR, member, {key: True}, bit)
    room_admin = Membership(role=MemberRole.ADMIN, permissions=0)
    assert has_permission(plain, CREATOR, room_admin, settings, bit)
    assert has_permission(Subject(CREATOR, Role.USER), CREATOR, None, settings, bit)
    for role in (Role.ADMIN, Role.ROOT):
        assert has_permission(Subject(USER, role), CREATOR, None, settings, bit)


def test_core_guest_and_statuses() -> None:
    guest = Subject(GUEST_USER_ID, Role.USER)
    assert effective_permissions(guest, CREATOR, None, {}) == 0
    bits = int(Perm.GET_MOVIE_LIST | Perm.SEND_CHAT_MESSAGE)
    assert effective_permissions(guest, CREATOR, Membership(permissions=ALL_PERMISSIONS),
                                 {"guest_permissions": bits}) == bits
    assert effective_permissions(guest, CREATOR, None, {"guest_permissions": bits,
                                                        "can_send_chat_message": False}) == 1
    plain = Subject(USER, Role.USER)
    assert effective_permissions(plain, CREATOR, None, {}) == 0
    for status in (MemberStatus.BANNED, MemberStatus.PENDING, MemberStatus.NOT_JOINED):
        assert effective_permissions(plain, CREATOR, Membership(status=status, permissions=ALL_PERMISSIONS), {}) == 0
    assert effective_permissions(plain, CREATOR, Membership(), {}) == DEFAULT_PERMISSIONS == 193


@pytest.mark.parametrize("bit", ALL_ADMIN_BITS, ids=[p.name for p in ALL_ADMIN_BITS])
def test_core_admin_bit(bit: AdminPerm) -> None:
    subject = Subject(USER, Role.USER)
    admin_with = Membership(role=MemberRole.ADMIN, admin_permissions=int(bit))
    admin_without = Membership(role=MemberRole.ADMIN, admin_permissions=0xFF & ~int(bit))
    for other in ALL_ADMIN_BITS:
        assert has_admin_permission(subject, CREATOR, admin_with, other) == (other == bit)
        assert has_admin_permission(subject, CREATOR, admin_without, other) == (other != bit)
    # a plain member holding the bit is not a room admin; neither is a pending/banned admin
    assert not has_admin_permission(subject, CREATOR, Membership(admin_permissions=ALL_PERMISSIONS), bit)
    assert not has_admin_permission(subject, CREATOR, Membership(role=MemberRole.ADMIN, status=MemberStatus.BANNED,
                                                                 admin_permissions=ALL_PERMISSIONS), bit)
    assert has_admin_permission(Subject(CREATOR, Role.USER), CREATOR, None, bit)
    assert has_admin_permission(Subject(USER, Role.ADMIN), CREATOR, None, bit)
    assert not has_admin_permission(Subject(GUEST_USER_ID, Role.USER), CREATOR, admin_with, bit)
    assert is_room_admin(subject, CREATOR, admin_with) and not is_room_admin(subject, CREATOR, Membership())


# ---------------------------------------------------------------- end to end


@dataclass
class Room:
    api: Api
    server: Server
    room: str
    creator: str  # token
    member: str
    member_id: str
    member_ws: WsClient
    creator_ws: WsClient

    async def movie(self, name: str = "m", token: str | None = None, **extra: Any) -> str:
        return str((await self.api.push_movie(token or self.creator, self.room, name, **extra))["id"])

    async def set_member_permissions(self, bits: int) -> None:
        await self.api.ok("POST", "/api/room/admin/members/member/permissions", expect=204, token=self.creator,
                          room=self.room, json={"id": self.member_id, "permissions": bits})
        await self.member_ws.expect(T.MY_STATUS)

    async def settings(self, **values: Any) -> None:
        await self.api.ok("POST", "/api/room/admin/settings", expect=204, token=self.creator, room=self.room,
                          json=values)


async def http_ok(r: Room, token: str | None, method: str, path: str, *, json: Any = None,
                  params: dict[str, Any] | None = None) -> bool:
    status, body = await r.api.call(method, path, token=token, room=r.room, json=json, params=params)
    assert status in (200, 204, 403), (method, path, status, body)
    if status == 403:
        assert isinstance(body, dict) and body.get("error"), body
    return status != 403


async def ws_ok(ws: WsClient, msg: pb.Message) -> bool:
    """Send `msg`, then SYNC; allowed iff no ERROR arrives before the SYNC reply."""
    await ws.send(msg)
    await ws.send(pb.Message(type=T.SYNC))
    denied = False
    while True:
        got = await ws.recv(5.0)
        if got.type == T.ERROR:
            denied = True
        elif got.type == T.SYNC:
            return not denied


Probe = Callable[[Room, str | None, WsClient], Awaitable[bool]]


async def p_list(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await http_ok(r, tok, "GET", "/api/room/movie/movies")


async def p_push(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await http_ok(r, tok, "POST", "/api/room/movie/push", json={"name": "p", "url": "https://e.com/p.mp4"})


async def p_pushs(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await http_ok(r, tok, "POST", "/api/room/movie/pushs", json=[{"name": "q", "url": "https://e.com/q.mp4"}])


async def p_delete_others(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await http_ok(r, tok, "POST", "/api/room/movie/delete", json={"ids": [await r.movie()]})


async def p_clear(r: Room, tok: str | None, ws: WsClient) -> bool:
    folder = await r.movie("folder", isFolder=True, url="")
    await r.movie("child", parentId=folder)
    return await http_ok(r, tok, "POST", "/api/room/movie/clear", json={"parentId": folder})


async def p_edit(r: Room, tok: str | None, ws: WsClient) -> bool:
    mid = await r.movie()
    return await http_ok(r, tok, "POST", "/api/room/movie/edit",
                         json={"id": mid, "name": "renamed", "url": "https://e.com/r.mp4"})


async def p_swap(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await http_ok(r, tok, "POST", "/api/room/movie/swap", json={"id1": await r.movie(), "id2": await r.movie()})


async def p_current(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await http_ok(r, tok, "POST", "/api/room/movie/current", json={"id": await r.movie()})


async def p_status(r: Room, tok: str | None, ws: WsClient) -> bool:
    pos = float(time.time() % 1000)
    ok = await ws_ok(ws, pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                                    playback_status=pb.Status(is_playing=False, current_time=pos, playback_rate=1.0)))
    current = await r.api.ok("GET", "/api/room/movie/current", token=r.creator, room=r.room)
    assert (current["status"]["currentTime"] == pos) == ok  # a denied STATUS changes nothing
    return ok


async def p_chat(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await ws_ok(ws, pb.Message(type=T.CHAT, chat_content="hello"))


async def p_rtc_join(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await ws_ok(ws, pb.Message(type=T.WEBRTC_JOIN))


async def p_rtc_offer(r: Room, tok: str | None, ws: WsClient) -> bool:
    return await ws_ok(ws, pb.Message(type=T.WEBRTC_OFFER, webrtc_data=pb.WebRTCData(data="{}", to="a:b")))


PROBES: dict[Perm, list[Probe]] = {
    Perm.GET_MOVIE_LIST: [p_list],
    Perm.ADD_MOVIE: [p_push, p_pushs],
    Perm.DELETE_MOVIE: [p_delete_others, p_clear],
    Perm.EDIT_MOVIE: [p_edit, p_swap],
    Perm.SET_CURRENT_MOVIE: [p_current],
    Perm.SET_CURRENT_STATUS: [p_status],
    Perm.SEND_CHAT_MESSAGE: [p_chat],
    Perm.WEBRTC: [p_rtc_join, p_rtc_offer],
}


async def outcomes(r: Room, tok: str | None, ws: WsClient) -> dict[str, bool]:
    return {f"{bit.name}:{p.__name__}": await p(r, tok, ws) for bit, probes in PROBES.items() for p in probes}


async def make_room(server: Server, password: str = "") -> Room:
    api = server.api
    creator = await server.make_user("owner")
    member = await server.make_user("member")
    member_id = (await api.me(member))["id"]
    room = await api.create_room(creator, "perm room", password=password)
    if password:
        await api.ok("POST", "/api/room/login", token=member, json={"roomId": room, "password": password})
    else:
        await api.ok("GET", "/api/room/me", token=member, room=room)  # joins
    return Room(api, server, room, creator, member, member_id, await api.ws(room, member), await api.ws(room, creator))


async def test_every_member_bit_end_to_end(sqlite_server: Server) -> None:
    r = await make_room(sqlite_server)
    for bit in ALL_BITS:
        await r.set_member_permissions(int(bit))
        got = await outcomes(r, r.member, r.member_ws)
        assert got == {k: k.startswith(bit.name + ":") for k in got}, f"exactly {bit.name}"
        await r.set_member_permissions(0xFF & ~int(bit))
        got = await outcomes(r, r.member, r.member_ws)
        assert got == {k: not k.startswith(bit.name + ":") for k in got}, f"all but {bit.name}"


async def test_own_movies_can_be_deleted_without_the_bit(sqlite_server: Server) -> None:
    r = await make_room(sqlite_server)
    await r.set_member_permissions(int(Perm.ADD_MOVIE))
    own = await r.movie("mine", token=r.member)
    other = await r.movie("theirs")
    assert not await http_ok(r, r.member, "POST", "/api/room/movie/delete", json={"ids": [own, other]})
    assert await http_ok(r, r.member, "POST", "/api/room/movie/delete", json={"ids": [own]})
    assert not await http_ok(r, r.member, "POST", "/api/room/movie/clear", json={"parentId": ""})


async def test_room_toggles_veto_non_admins(sqlite_server: Server) -> None:
    r = await make_room(sqlite_server)
    await r.set_member_permissions(0xFF)
    creator_before = await outcomes(r, r.creator, r.creator_ws)
    assert all(creator_before.values())
    for bit, key in TOGGLES.items():
        await r.settings(**{key: False})
        got = await outcomes(r, r.member, r.member_ws)
        assert got == {k: not k.startswith(bit.name + ":") for k in got}, key
        await r.settings(**{key: True})
    # all toggles off: the creator, a room admin and a site admin still may do everything
    await r.settings(**{k: False for k in TOGGLES.values()})
    assert all((await outcomes(r, r.creator, r.creator_ws)).values())
    await r.api.ok("POST", "/api/room/admin/members/admin", expect=204, token=r.creator, room=r.room,
                   json={"id": r.member_id, "adminPermissions": 0})
    await r.member_ws.expect(T.MY_STATUS)
    assert all((await outcomes(r, r.member, r.member_ws)).values())
    site_admin = await sqlite_server.make_user("siteadmin", Role.ADMIN)
    ws = await r.api.ws(r.room, site_admin)
    assert all((await outcomes(r, site_admin, ws)).values())
    await ws.close()


async def test_guest_permissions_come_from_room_settings(sqlite_server: Server) -> None:
    r = await make_room(sqlite_server)
    guest_ws = await r.api.ws(r.room)
    got = await outcomes(r, None, guest_ws)
    assert not any(got.values()), got
    bits = Perm.GET_MOVIE_LIST | Perm.SEND_CHAT_MESSAGE | Perm.SET_CURRENT_STATUS
    # the creator sets guest bits through the member-permissions route with the guest's id
    await r.api.ok("POST", "/api/room/admin/members/member/permissions", expect=204, token=r.creator,
                   room=r.room, json={"id": GUEST_USER_ID, "permissions": int(bits)})
    got = await outcomes(r, None, guest_ws)
    assert got == {k: any(k.startswith(b.name + ":") for b in Perm if b & bits) for k in got}
    await r.settings(guest_permissions=int(Perm.ADD_MOVIE))
    got = await outcomes(r, None, guest_ws)
    assert got == {k: k.startswith("ADD_MOVIE:") for k in got}
    # guests cannot reach the room-admin or room!g tiers at all
    for method, path in (("GET", "/api/room/settings"), ("GET", "/api/room/members"),
                         ("GET", "/api/room/admin/settings"), ("POST", "/api/room/admin/delete")):
        status, body = await r.api.call(method, path, room=r.room)
        assert status in (401, 403) and body["error"]
    await guest_ws.close()


async def test_site_admin_bypasses_password_room(sqlite_server: Server) -> None:
    r = await make_room(sqlite_server, password="pw12345")
    site_admin = await sqlite_server.make_user("siteadmin", Role.ADMIN)
    await r.settings(**{k: False for k in TOGGLES.values()})
    ws = await r.api.ws(r.room, site_admin)
    assert all((await outcomes(r, site_admin, ws)).values())
    await r.api.ok("POST", "/api/room/admin/settings", expect=204, token=site_admin, room=r.room,
                   json={"can_add_movie": True})
    await ws.close()


# room-admin bits -> (method, path, body factory); every route needs exactly its bit
AdminAction = Callable[[Room, Server], Awaitable[tuple[str, str, Any]]]


async def _pending_user(r: Room, s: Server, name: str, status: MemberStatus) -> str:
    tok = await s.make_user(name)
    uid = (await r.api.me(tok))["id"]
    await s.store.members.get_or_create(r.room, uid, status=status, permissions=DEFAULT_PERMISSIONS)
    return str(uid)


async def a_approve(r: Room, s: Server) -> tuple[str, str, Any]:
    uid = await _pending_user(r, s, f"p{time.time_ns()}", MemberStatus.PENDING)
    return "POST", "/api/room/admin/members/approve", {"id": uid}


async def a_remove(r: Room, s: Server) -> tuple[str, str, Any]:
    uid = await _pending_user(r, s, f"r{time.time_ns()}", MemberStatus.ACTIVE)
    return "POST", "/api/room/admin/members/delete", {"id": uid}


async def a_ban(r: Room, s: Server) -> tuple[str, str, Any]:
    uid = await _pending_user(r, s, f"b{time.time_ns()}", MemberStatus.ACTIVE)
    return "POST", "/api/room/admin/members/ban", {"id": uid}


async def a_unban(r: Room, s: Server) -> tuple[str, str, Any]:
    uid = await _pending_user(r, s, f"u{time.time_ns()}", MemberStatus.BANNED)
    return "POST", "/api/room/admin/members/unban", {"id": uid}


async def a_settings(r: Room, s: Server) -> tuple[str, str, Any]:
    return "POST", "/api/room/admin/settings", {"hidden": False}


async def a_pwd(r: Room, s: Server) -> tuple[str, str, Any]:
    return "POST", "/api/room/admin/pwd", {"password": f"pw{time.time_ns() % 10**8}"}


async def a_delete(r: Room, s: Server) -> tuple[str, str, Any]:
    return "POST", "/api/room/admin/delete", None


ADMIN_ACTIONS: dict[AdminPerm, list[AdminAction]] = {
    AdminPerm.APPROVE_PENDING_MEMBER: [a_approve],
    AdminPerm.BAN_ROOM_MEMBER: [a_ban, a_unban, a_remove],  # upstream lets the approve bit remove; we do not
    AdminPerm.SET_USER_PERMISSION: [],  # member-permission routes are creator-only (below)
    AdminPerm.SET_ROOM_SETTINGS: [a_settings],
    AdminPerm.SET_ROOM_PASSWORD: [a_pwd],
    AdminPerm.DELETE_ROOM: [a_delete],
}


@pytest.mark.parametrize("bit", ALL_ADMIN_BITS, ids=[p.name for p in ALL_ADMIN_BITS])
async def test_room_admin_bits_end_to_end(sqlite_server: Server, bit: AdminPerm) -> None:
    r = await make_room(sqlite_server)
    s = sqlite_server

    async def set_admin(bits: int) -> None:
        await r.api.ok("POST", "/api/room/admin/members/admin", expect=204, token=r.creator, room=r.room,
                       json={"id": r.member_id, "adminPermissions": bits})

    async def run(bits: int) -> dict[str, int]:
        await set_admin(bits)
        out = {}
        for b, actions in ADMIN_ACTIONS.items():
            for a in actions:
                if b == AdminPerm.DELETE_ROOM and bits & int(b):
                    continue  # run last, it ends the room
                method, path, body = await a(r, s)
                status, resp = await r.api.call(method, path, token=r.member, room=r.room, json=body)
                assert status in (204, 403), (path, status, resp)
                out[f"{b.name}:{a.__name__}"] = status
        return out

    got = await run(0x3F & ~int(bit))
    assert {k: v for k, v in got.items() if k.startswith(bit.name + ":")} == \
        {k: 403 for k in got if k.startswith(bit.name + ":")}
    assert all(v == 204 for k, v in got.items() if not k.startswith(bit.name + ":")), got
    got = await run(int(bit))
    assert all(v == (204 if k.startswith(bit.name + ":") else 403) for k, v in got.items()), got
    # the creator-only routes stay closed to room admins, whatever their bits
    status, _ = await r.api.call("POST", "/api/room/admin/members/member/permissions", token=r.member, room=r.room,
                                 json={"id": r.member_id, "permissions": 1})
    assert status == 403
    if bit == AdminPerm.DELETE_ROOM:
        method, path, body = await a_delete(r, s)
        status, _ = await r.api.call(method, path, token=r.member, room=r.room, json=body)
        assert status == 204
        status, _ = await r.api.call("GET", "/api/room/check", params={"roomId": r.room})
        assert status == 404
    # a plain member never reaches the room-admin tier
    await r.api.ok("POST", "/api/room/admin/members/member", expect=204, token=r.creator, room=r.room,
                   json={"id": r.member_id, "permissions": ALL_PERMISSIONS}) if bit != AdminPerm.DELETE_ROOM else None
    if bit != AdminPerm.DELETE_ROOM:
        status, body = await r.api.call("GET", "/api/room/admin/settings", token=r.member, room=r.room)
        assert status == 403 and body["error"] == "user is not a room administrator"


async def test_the_approve_bit_only_approves(sqlite_server: Server) -> None:
    r = await make_room(sqlite_server)
    await r.api.ok("POST", "/api/room/admin/members/admin", expect=204, token=r.creator, room=r.room,
                   json={"id": r.member_id, "adminPermissions": int(AdminPerm.APPROVE_PENDING_MEMBER)})
    method, path, body = await a_remove(r, sqlite_server)
    status, resp = await r.api.call(method, path, token=r.member, room=r.room, json=body)
    assert status == 403 and resp["error"] == "no permission"
    assert await sqlite_server.store.members.get(r.room, body["id"]) is not None
    method, path, body = await a_approve(r, sqlite_server)
    await r.api.ok(method, path, expect=204, token=r.member, room=r.room, json=body)
