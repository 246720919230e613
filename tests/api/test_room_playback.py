"""Over HTTP and the WebSocket: the first movie starts by itself, durations, play-mode settings, the join guard,
and chat history for a joining viewer (with its retention settings and the admin's clear)."""

from __future__ import annotations

import asyncio
import time

from synctv._generated import message_pb2 as pb
from synctv.core.room import JOIN_GRACE_MS
from tests.support.asserts import assert_error
from tests.support.servers import Server

T = pb.MessageType


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def _member(server: Server, owner_room: str, name: str) -> str:
    token = await server.api.signup(name)
    await server.api.ok("POST", "/api/room/login", token=token, json={"roomId": owner_room, "password": ""})
    return token


async def test_the_first_movie_added_to_an_empty_room_becomes_current(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "fresh")
    ws = await api.ws(rid, alice)
    first = await api.push_movie(alice, rid, "first", "https://example.com/a.mp4")
    await ws.expect(T.CURRENT)
    current = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert current["movie"]["id"] == first["id"] and current["status"]["isPlaying"] is True
    await api.push_movie(alice, rid, "second", "https://example.com/b.mp4")  # something plays: no change
    await ws.nothing(T.CURRENT, within=0.5)
    assert (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["movie"]["id"] == first["id"]
    await ws.close()


async def test_a_folder_does_not_start_and_a_batch_starts_its_first_movie(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "batch")
    await api.push_movie(alice, rid, "Season", "", isFolder=True)
    assert (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["movie"]["id"] == ""
    batch = await api.ok("POST", "/api/room/movie/pushs", token=alice, room=rid,
                         json=[{"name": f"m{i}", "url": f"https://example.com/{i}.mp4"} for i in range(3)])
    assert (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["movie"]["id"] == batch[0]["id"]


async def test_duration_reports_need_the_status_permission_and_valid_input(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "lengths")
    movie = await api.push_movie(alice, rid)
    bob = await _member(sqlite_server, rid, "bob")  # default member bits: no set-status
    status, body = await api.call("POST", "/api/room/movie/duration", token=bob, room=rid,
                                  json={"id": movie["id"], "duration": 30})
    assert_error(status, body, 403)
    status, body = await api.call("POST", "/api/room/movie/duration", room=rid,
                                  json={"id": movie["id"], "duration": 30})
    assert status in (401, 403) and body["error"]
    for bad in ({"id": movie["id"]}, {"id": movie["id"], "duration": "30"}, {"id": movie["id"], "duration": True},
                {"id": movie["id"], "duration": -1}, {"id": movie["id"], "duration": 0}, {"id": "x", "duration": 3},
                {"id": "e" * 32, "duration": 3}, {"duration": 3}):
        status, body = await api.call("POST", "/api/room/movie/duration", token=alice, room=rid, json=bad)
        assert_error(status, body, 400)
    ws = await api.ws(rid, alice)
    await ws.send(pb.Message(type=T.STATUS, timestamp=now_ms(),
                             playback_status=pb.Status(is_playing=True, current_time=0.0, playback_rate=1.0)))
    await api.ok("POST", "/api/room/movie/duration", expect=204, token=alice, room=rid,
                 json={"id": movie["id"], "duration": 0.5})
    stop = await ws.expect(T.STATUS, timeout=3)  # the room's own clock reached the end
    assert stop.playback_status.current_time == 0.5 and not stop.playback_status.is_playing
    await ws.close()


async def test_play_mode_settings_are_bounded(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "modes")
    settings = await api.ok("GET", "/api/room/admin/settings", token=alice, room=rid)
    assert settings["play_mode"] == 1 and settings["play_next_delay"] == 3  # next, after 3 s
    await api.ok("POST", "/api/room/admin/settings", expect=204, token=alice, room=rid,
                 json={"play_mode": 4, "play_next_delay": 0})
    for bad in ({"play_mode": 5}, {"play_mode": -1}, {"play_mode": "shuffle"}, {"play_next_delay": 601},
                {"play_next_delay": 1.5}):
        status, body = await api.call("POST", "/api/room/admin/settings", token=alice, room=rid, json=bad)
        assert_error(status, body, 400)
    settings = await api.ok("GET", "/api/room/admin/settings", token=alice, room=rid)
    assert settings["play_mode"] == 4 and settings["play_next_delay"] == 0
    bob = await _member(sqlite_server, rid, "bob")
    status, body = await api.call("POST", "/api/room/admin/settings", token=bob, room=rid, json={"play_mode": 0})
    assert_error(status, body, 403)


async def test_a_new_connection_cannot_rewind_a_playing_room_but_a_seek_later_does(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "guarded")
    await api.push_movie(alice, rid)
    host = await api.ws(rid, alice)
    await host.send(pb.Message(type=T.STATUS, timestamp=now_ms(),
                               playback_status=pb.Status(is_playing=True, current_time=21.5, playback_rate=1.0)))
    joiner = await api.ws(rid, alice)
    await joiner.send(pb.Message(type=T.STATUS, timestamp=now_ms(),
                                 playback_status=pb.Status(is_playing=True, current_time=0.2, playback_rate=1.0)))
    back = await joiner.expect(T.CHECK_STATUS)
    assert back.playback_status.current_time >= 21.5
    await host.nothing(T.STATUS, within=0.5)
    current = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert current["status"]["currentTime"] >= 21.5
    await asyncio.sleep(JOIN_GRACE_MS / 1000)  # the host's own seek back, once past its own first moments
    await host.send(pb.Message(type=T.STATUS, timestamp=now_ms(),
                               playback_status=pb.Status(is_playing=True, current_time=3.0, playback_rate=1.0)))
    moved = await joiner.expect(T.STATUS)
    assert 3.0 <= moved.playback_status.current_time < 4.0
    await host.close()
    await joiner.close()


async def test_a_joining_viewer_gets_the_chat_history_and_an_admin_can_clear_it(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "talk")
    bob = await _member(sqlite_server, rid, "bob")
    ws = await api.ws(rid, alice)
    for i in range(3):
        await ws.send(pb.Message(type=T.CHAT, chat_content=f"hello {i} <3"))
        await ws.expect(T.CHAT)
    late = await api.ws(rid, bob)
    history = [await late.expect(T.CHAT) for _ in range(3)]
    assert [m.chat_content for m in history] == [f"hello {i} &lt;3" for i in range(3)]
    assert {m.sender.username for m in history} == {"alice"} and all(m.timestamp > 0 for m in history)
    await late.nothing(T.CHAT, within=0.3)  # each once

    status, body = await api.call("POST", "/api/room/admin/chat/clear", token=bob, room=rid)
    assert_error(status, body, 403)
    status, body = await api.call("POST", "/api/room/admin/chat/clear", room=rid)
    assert status in (401, 403) and body["error"]
    await api.ok("POST", "/api/room/admin/chat/clear", expect=204, token=alice, room=rid)
    again = await api.ws(rid, bob)
    await again.nothing(T.CHAT, within=0.5)
    for sock in (ws, late, again):
        await sock.close()


async def test_chat_history_follows_the_retention_settings(sqlite_server: Server) -> None:
    api = sqlite_server.api
    root = sqlite_server.store.settings
    await root.set_many({"chat_history_max": 2})
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "short memory")
    ws = await api.ws(rid, alice)
    for i in range(4):
        await ws.send(pb.Message(type=T.CHAT, chat_content=f"m{i}"))
        await ws.expect(T.CHAT)
    late = await api.ws(rid, alice)
    assert [(await late.expect(T.CHAT)).chat_content for _ in range(2)] == ["m2", "m3"]
    await root.set_many({"chat_history_max": 0})
    await ws.send(pb.Message(type=T.CHAT, chat_content="not kept"))
    off = await api.ws(rid, alice)
    await off.nothing(T.CHAT, within=0.5)
    for sock in (ws, late, off):
        await sock.close()


async def test_default_permissions_can_be_applied_to_every_member(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "perms")
    bob = await _member(sqlite_server, rid, "bob")
    carol = await _member(sqlite_server, rid, "carol")
    await api.ok("POST", "/api/room/admin/settings", expect=204, token=alice, room=rid,
                 json={"user_default_permissions": 193 | 32})  # + set-status
    assert (await api.ok("GET", "/api/room/me", token=bob, room=rid))["permissions"] == 193  # new members only
    status, body = await api.call("POST", "/api/room/admin/members/apply-default-permissions", token=bob, room=rid)
    assert_error(status, body, 403)
    status, body = await api.call("POST", "/api/room/admin/members/apply-default-permissions", room=rid)
    assert status in (401, 403) and body["error"]
    done = await api.ok("POST", "/api/room/admin/members/apply-default-permissions", token=alice, room=rid)
    assert done == {"updated": 2, "permissions": 193 | 32}
    for token in (bob, carol):
        assert (await api.ok("GET", "/api/room/me", token=token, room=rid))["permissions"] == 193 | 32
    # and the room's owner sees the new bits at once: bob may now set the playback status
    await api.push_movie(alice, rid)
    ws = await api.ws(rid, bob)
    await asyncio.sleep(JOIN_GRACE_MS / 1000)
    await ws.send(pb.Message(type=T.STATUS, timestamp=now_ms(),
                             playback_status=pb.Status(is_playing=False, current_time=7.0, playback_rate=1.0)))
    await ws.nothing(T.ERROR, within=0.5)
    current = await api.ok("GET", "/api/room/movie/current", token=alice, room=rid)
    assert current["status"]["currentTime"] == 7.0 and current["status"]["isPlaying"] is False
    await ws.close()
