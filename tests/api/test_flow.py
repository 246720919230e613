"""The new-user flow end to end, on SQLite and PostgreSQL: sign up, password room, join, playlist, live sync."""

from __future__ import annotations

import time

from synctv._generated import message_pb2 as pb
from tests.support.servers import Server

T = pb.MessageType


async def test_two_users_watch_together(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    bob = await api.signup("bob")
    room = await api.create_room(alice, "movie night", password="secret1")

    check = await api.ok("GET", "/api/room/check", params={"roomId": room})
    assert check["needPassword"] is True and check["name"] == "movie night"
    # A password room refuses non-members until they log in to it.
    status, body = await api.call("GET", "/api/room/movie/current", token=bob, room=room)
    assert status == 403 and "password" in body["error"]
    status, body = await api.call("POST", "/api/room/login", token=bob, json={"roomId": room, "password": "nope"})
    assert status == 403 and body["error"] == "password error"
    joined = await api.ok("POST", "/api/room/login", token=bob, json={"roomId": room, "password": "secret1"})
    assert joined["status"] == 3

    ws_a = await api.ws(room, alice)
    ws_b = await api.ws(room, bob)
    assert (await ws_a.expect(T.VIEWER_COUNT)).viewer_count >= 1
    assert (await ws_b.expect(T.VIEWER_COUNT)).viewer_count == 2

    movie = await api.push_movie(alice, room, "Big Buck Bunny", "https://example.com/bbb.mp4")
    assert (await ws_b.expect(T.MOVIES)).sender.user_id == movie["creatorId"]
    await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=room, json={"id": movie["id"]})
    await ws_a.expect(T.CURRENT)
    await ws_b.expect(T.CURRENT)
    current = await api.ok("GET", "/api/room/movie/current", token=bob, room=room)
    assert current["movie"]["id"] == movie["id"] and current["movie"]["base"]["type"] == "mp4"
    assert current["status"]["isPlaying"] is True

    now = int(time.time() * 1000)
    # pause at 10 s
    await ws_a.send(pb.Message(type=T.STATUS, timestamp=now,
                               playback_status=pb.Status(is_playing=False, current_time=10.0, playback_rate=1.0)))
    got = await ws_b.expect(T.STATUS)
    assert got.playback_status.is_playing is False and got.playback_status.current_time == 10.0
    assert got.sender.username == "alice" and got.timestamp > 0
    # play, seek and a rate change
    await ws_a.send(pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                               playback_status=pb.Status(is_playing=True, current_time=42.0, playback_rate=1.5)))
    got = await ws_b.expect(T.STATUS)
    assert got.playback_status.is_playing and got.playback_status.playback_rate == 1.5
    assert 42.0 <= got.playback_status.current_time < 42.0 + 1.5 * 1.5
    # the sender's own connection does not get its STATUS back
    await ws_a.nothing(T.STATUS, within=0.3)
    # chat reaches everyone, sender included, escaped
    await ws_b.send(pb.Message(type=T.CHAT, chat_content="hi <b>"))
    for ws in (ws_a, ws_b):
        chat = await ws.expect(T.CHAT)
        assert chat.chat_content == "hi &lt;b&gt;" and chat.sender.username == "bob"
    # an invalid rate is refused with an error to the sender and changes nothing
    await ws_a.send(pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                               playback_status=pb.Status(is_playing=True, current_time=1.0, playback_rate=0.0)))
    err = await ws_a.expect(T.ERROR)
    assert "rate" in err.error_message
    current = await api.ok("GET", "/api/room/movie/current", token=bob, room=room)
    assert current["status"]["playbackRate"] == 1.5
    # SYNC answers with the server's timestamp and status
    await ws_b.send(pb.Message(type=T.SYNC))
    sync = await ws_b.expect(T.SYNC)
    assert sync.timestamp > 0 and sync.playback_status.playback_rate == 1.5
    await ws_a.close()
    await ws_b.close()
