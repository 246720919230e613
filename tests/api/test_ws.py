"""The protobuf WebSocket (§3): every message type, audiences, presence, bad frames, slow clients and kicks."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
import zlib

import aiohttp
import pytest

from synctv._generated import message_pb2 as pb
from tests.support.api_client import Api, WsClient
from tests.support.servers import Server

T = pb.MessageType


def now_ms() -> int:
    return int(time.time() * 1000)


def status(playing: bool, pos: float, rate: float = 1.0) -> pb.Message:
    return pb.Message(type=T.STATUS, timestamp=now_ms(),
                      playback_status=pb.Status(is_playing=playing, current_time=pos, playback_rate=rate))


async def closed(ws: WsClient, timeout: float = 5.0) -> int | None:
    """Read until the server closes the socket; returns the close code."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = await ws.ws.receive(timeout=deadline - time.monotonic())
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.ws.close_code
    raise AssertionError("connection was not closed")


async def still_works(ws: WsClient) -> None:
    await ws.send(pb.Message(type=T.SYNC))
    assert (await ws.expect(T.SYNC)).timestamp > 0


async def setup_room(server: Server) -> tuple[Api, str, str, str]:
    api = server.api
    alice = await server.make_user("alice")
    bob = await server.make_user("bob")
    rid = await api.create_room(alice, "ws room")
    await api.ok("GET", "/api/room/me", token=bob, room=rid)
    return api, rid, alice, bob


async def test_status_audience_and_timestamp(server: Server) -> None:
    api, rid, alice, bob = await setup_room(server)
    movie = await api.push_movie(alice, rid)
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": movie["id"]})
    a1, a2, b = await api.ws(rid, alice), await api.ws(rid, alice), await api.ws(rid, bob)
    before = now_ms()
    await a1.send(status(False, 33.0))
    for ws in (a2, b):
        got = await ws.expect(T.STATUS)
        assert got.playback_status.current_time == 33.0 and not got.playback_status.is_playing
        assert got.sender.username == "alice" and before - 1000 <= got.timestamp <= now_ms() + 1000
    await a1.nothing(T.STATUS, within=0.4)
    # CURRENT and MOVIES go to everyone including the actor's connections
    await api.push_movie(alice, rid, "second")
    for ws in (a1, a2, b):
        got = await ws.expect(T.MOVIES)
        assert got.sender.username == "alice"
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": movie["id"]})
    for ws in (a1, a2, b):
        assert (await ws.expect(T.CURRENT)).sender.username == "alice"
    for ws in (a1, a2, b):
        await ws.close()


async def test_every_client_message_type(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    movie = await api.push_movie(alice, rid)
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": movie["id"]})
    a, b = await api.ws(rid, alice), await api.ws(rid, bob)
    assert (await a.expect(T.VIEWER_COUNT)).viewer_count >= 1
    # CHAT: everyone incl. the sender, escaped, server timestamp
    await b.send(pb.Message(type=T.CHAT, chat_content="<hi> & 'bye'"))
    for ws in (a, b):
        got = await ws.expect(T.CHAT)
        assert got.chat_content == "&lt;hi&gt; &amp; &#39;bye&#39;" and got.sender.username == "bob"
        assert abs(got.timestamp - now_ms()) < 5000
    for bad, err in (("", "message is empty"), ("x" * 5000, "message too long")):
        await b.send(pb.Message(type=T.CHAT, chat_content=bad))
        assert (await b.expect(T.ERROR)).error_message == err
    # SYNC
    await a.send(status(True, 50.0, 1.0))
    await b.expect(T.STATUS)
    await b.send(pb.Message(type=T.SYNC))
    sync = await b.expect(T.SYNC)
    assert sync.playback_status.is_playing and 50.0 <= sync.playback_status.current_time < 55.0
    # CHECK_STATUS: silence within tolerance, server status outside
    await b.send(pb.Message(type=T.CHECK_STATUS, timestamp=now_ms(),
                            playback_status=pb.Status(is_playing=True, current_time=52.0, playback_rate=1.0)))
    await b.send(pb.Message(type=T.CHECK_STATUS, timestamp=now_ms(),
                            playback_status=pb.Status(is_playing=True, current_time=500.0, playback_rate=1.0)))
    got = await b.expect(T.CHECK_STATUS)
    assert 50.0 <= got.playback_status.current_time < 55.0  # the answer to the second check only
    await b.send(pb.Message(type=T.SYNC))
    nxt = await b.recv()
    while nxt.type == T.VIEWER_COUNT:
        nxt = await b.recv()
    assert nxt.type == T.SYNC
    # EXPIRED: crc32 of the current movie id is fresh; anything else is stale
    await b.send(pb.Message(type=T.EXPIRED, expiration_id=zlib.crc32(movie["id"].encode())))
    await b.send(pb.Message(type=T.EXPIRED, expiration_id=12345))
    assert (await b.expect(T.EXPIRED)).type == T.EXPIRED
    await b.send(pb.Message(type=T.SYNC))
    nxt = await b.recv()
    while nxt.type == T.VIEWER_COUNT:
        nxt = await b.recv()
    assert nxt.type == T.SYNC
    # server-only types are refused with ERROR, and the connection stays open
    for mtype in (T.UNKNOWN, T.ERROR, T.CURRENT, T.MOVIES, T.VIEWER_COUNT, T.MY_STATUS):
        await b.send(pb.Message(type=mtype))
        err = await b.expect(T.ERROR)
        assert err.error_message.startswith("unknown message type")
    await b.send(pb.Message(type=99))
    assert (await b.expect(T.ERROR)).error_message.startswith("unknown message type")
    await b.send(pb.Message(type=T.STATUS))
    assert (await b.expect(T.ERROR)).error_message in ("playback status is nil", "set status error: no permission")
    await still_works(b)
    # STATUS without permission: ERROR, no change
    await b.send(status(False, 1.0))
    assert (await b.expect(T.ERROR)).error_message == "set status error: no permission"
    await a.nothing(T.STATUS, within=0.3)
    await a.close()
    await b.close()


async def test_webrtc_signalling(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    a, b = await api.ws(rid, alice), await api.ws(rid, bob)
    await a.send(pb.Message(type=T.WEBRTC_JOIN))
    await b.send(pb.Message(type=T.WEBRTC_JOIN))
    join = await a.expect(T.WEBRTC_JOIN)
    b_addr = getattr(join.webrtc_data, "from")
    assert b_addr.startswith(join.sender.user_id + ":") and join.sender.username == "bob"
    # the offer goes only to the addressed connection, with the sender's address as `from`
    a2 = await api.ws(rid, alice)
    await a.send(pb.Message(type=T.WEBRTC_OFFER, webrtc_data=pb.WebRTCData(data='{"sdp":1}', to=b_addr)))
    offer = await b.expect(T.WEBRTC_OFFER)
    a_addr = getattr(offer.webrtc_data, "from")
    assert offer.webrtc_data.data == '{"sdp":1}' and offer.webrtc_data.to == b_addr and a_addr.count(":") == 1
    await b.send(pb.Message(type=T.WEBRTC_ANSWER, webrtc_data=pb.WebRTCData(data="ans", to=a_addr)))
    assert (await a.expect(T.WEBRTC_ANSWER)).webrtc_data.data == "ans"
    await b.send(pb.Message(type=T.WEBRTC_ICE_CANDIDATE, webrtc_data=pb.WebRTCData(data="ice", to=a_addr)))
    assert (await a.expect(T.WEBRTC_ICE_CANDIDATE)).webrtc_data.data == "ice"
    await a2.nothing(T.WEBRTC_OFFER, within=0.2)
    await a2.nothing(T.WEBRTC_ICE_CANDIDATE, within=0.2)
    await b.send(pb.Message(type=T.WEBRTC_OFFER, webrtc_data=pb.WebRTCData(data="x", to="garbage")))
    assert (await b.expect(T.ERROR)).error_message == "target user id is invalid"
    # disconnecting while joined announces WEBRTC_LEAVE to everyone
    await b.close()
    leave = await a.expect(T.WEBRTC_LEAVE)
    assert getattr(leave.webrtc_data, "from") == b_addr
    assert getattr((await a2.expect(T.WEBRTC_LEAVE)).webrtc_data, "from") == b_addr
    await a.close()
    await a2.close()


async def test_viewer_count_is_distinct_users(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    a1 = await api.ws(rid, alice)
    assert (await a1.expect(T.VIEWER_COUNT)).viewer_count == 1
    a2 = await api.ws(rid, alice)
    assert (await a2.expect(T.VIEWER_COUNT)).viewer_count == 1  # two tabs, one user
    g1 = await api.ws(rid)
    assert (await g1.expect(T.VIEWER_COUNT)).viewer_count == 2
    g2 = await api.ws(rid)
    assert (await g2.expect(T.VIEWER_COUNT)).viewer_count == 2  # all guests are one user
    b = await api.ws(rid, bob)
    assert (await b.expect(T.VIEWER_COUNT)).viewer_count == 3
    # the change is rebroadcast to everyone within one tick (5 s)
    got = await a1.expect(T.VIEWER_COUNT, timeout=7.0)
    while got.viewer_count != 3:
        got = await a1.expect(T.VIEWER_COUNT, timeout=7.0)
    members = await api.ok("GET", "/api/room/members", token=alice, room=rid)
    online = {m["username"]: m["onlineCount"] for m in members["list"]}
    assert online == {"alice": 2, "bob": 1}
    assert (await api.ok("GET", "/api/room/check", params={"roomId": rid}))["viewerCount"] == 3
    await b.close()
    await g1.close()
    await g2.close()
    got = await a2.expect(T.VIEWER_COUNT, timeout=7.0)
    while got.viewer_count != 1:
        got = await a2.expect(T.VIEWER_COUNT, timeout=7.0)
    await a1.close()
    await a2.close()


async def test_bad_frames_close_only_that_connection(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    good = await api.ws(rid, bob)
    bad_text = await api.ws(rid, alice)
    await bad_text.ws.send_str("hello")
    assert await closed(bad_text) is not None
    for garbage in (b"\xff\xff\xff\xff", os.urandom(64), b"\x0a\xff"):
        bad = await api.ws(rid, alice)
        await bad.ws.send_bytes(garbage)
        assert await closed(bad) is not None
    await still_works(good)
    await good.send(pb.Message(type=T.CHAT, chat_content="still here"))
    assert (await good.expect(T.CHAT)).chat_content == "still here"
    await good.close()


def _raw_ws(host: str, port: int, path: str, token: str) -> socket.socket:
    """A WebSocket that handshakes and then never reads: a tiny receive buffer fills at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: {token}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_slow_client_is_dropped(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    hub = sqlite_server.runtime.services.hub
    rooms = sqlite_server.runtime.services.cfg.rooms
    # The flooder must outpace the slow reader: lift its message allowance (read when a socket opens).
    rooms.messages_per_second = rooms.chats_per_second = 1e9
    rooms.message_burst = rooms.chat_burst = 10**9
    flooder = await api.ws(rid, alice)
    watcher = await api.ws(rid, alice)
    port = int(api.base.rsplit(":", 1)[1])
    slow = await asyncio.to_thread(_raw_ws, "127.0.0.1", port, f"/api/room/ws?roomId={rid}", bob)
    try:
        await asyncio.sleep(0.2)
        assert hub.connection_count() == 3
        stop = asyncio.Event()

        async def drain(ws: WsClient) -> int:
            n = 0
            while not stop.is_set():
                try:
                    msg = await ws.ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if msg.type == aiohttp.WSMsgType.BINARY:
                    n += 1
                else:
                    break
            return n

        readers = [asyncio.create_task(drain(flooder)), asyncio.create_task(drain(watcher))]
        text = "x" * 4000
        deadline = time.monotonic() + 30
        sent = 0
        while hub.connection_count() > 2 and time.monotonic() < deadline:
            for _ in range(50):
                await flooder.send(pb.Message(type=T.CHAT, chat_content=text))
                sent += 1
            await asyncio.sleep(0.01)
        assert hub.connection_count() == 2, f"slow client still connected after {sent} messages"
        stop.set()
        received = await asyncio.gather(*readers)
        assert received[1] > 0
        # the room keeps serving the others
        await still_works(watcher)
        await watcher.send(pb.Message(type=T.CHAT, chat_content="after"))
        got = await watcher.expect(T.CHAT)
        while got.chat_content != "after":
            got = await watcher.expect(T.CHAT)
    finally:
        slow.close()
    await flooder.close()
    await watcher.close()


@pytest.mark.parametrize("how", ["ban", "delete_member", "delete_room", "exit"])
async def test_kicks_close_the_users_connections(sqlite_server: Server, how: str) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    bob_id = (await api.me(bob))["id"]
    b1, b2, a = await api.ws(rid, bob), await api.ws(rid, bob), await api.ws(rid, alice)
    if how == "ban":
        await api.ok("POST", "/api/room/admin/members/ban", expect=204, token=alice, room=rid, json={"id": bob_id})
    elif how == "delete_member":
        await api.ok("POST", "/api/room/admin/members/delete", expect=204, token=alice, room=rid, json={"id": bob_id})
    elif how == "exit":
        await api.ok("POST", "/api/user/room/exit", expect=204, token=bob, json={"id": rid})
    else:
        await api.ok("POST", "/api/room/admin/delete", expect=204, token=alice, room=rid)
    assert await closed(b1) is not None
    assert await closed(b2) is not None
    if how == "delete_room":
        assert await closed(a) is not None
    else:
        await still_works(a)
        await a.close()
    if how == "ban":
        url = api.base.replace("http", "ws", 1) + f"/api/room/ws?roomId={rid}"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await api.session.ws_connect(url, protocols=(bob,))


async def test_my_status_reaches_all_target_connections(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    bob_id = (await api.me(bob))["id"]
    b1, b2, a = await api.ws(rid, bob), await api.ws(rid, bob), await api.ws(rid, alice)
    await api.ok("POST", "/api/room/admin/members/member/permissions", expect=204, token=alice, room=rid,
                 json={"id": bob_id, "permissions": 255})
    for ws in (b1, b2):
        got = await ws.expect(T.MY_STATUS)
        assert got.sender.username == "alice"
    await a.nothing(T.MY_STATUS, within=0.3)
    # the new bits apply at once: bob may now set the status
    await b1.send(status(False, 7.0))
    assert (await b2.expect(T.STATUS)).playback_status.current_time == 7.0
    await api.ok("POST", "/api/room/admin/members/admin", expect=204, token=alice, room=rid,
                 json={"id": bob_id, "adminPermissions": 1})
    for ws in (b1, b2):
        await ws.expect(T.MY_STATUS)
    for ws in (b1, b2, a):
        await ws.close()


async def test_guest_disabled_kicks_guests(sqlite_server: Server) -> None:
    api, rid, alice, _ = await setup_room(sqlite_server)
    g = await api.ws(rid)
    a = await api.ws(rid, alice)
    await api.ok("POST", "/api/room/admin/settings", expect=204, token=alice, room=rid, json={"disable_guest": True})
    assert await closed(g) is not None
    await still_works(a)
    await a.close()
