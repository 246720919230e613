"""WebSocket limits: connections per user and per address, and messages (chat especially) per connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from synctv._generated import message_pb2 as pb
from tests.api.test_ws import setup_room, still_works
from tests.support.api_client import Api, WsClient
from tests.support.servers import Server, start_server

T = pb.MessageType


@pytest.fixture
async def tight(tmp_path: Path) -> AsyncIterator[Server]:
    runtime, base = await start_server(tmp_path / "data", SYNCTV_ROOMS_MAX_CONNECTIONS_PER_USER="3",
                                       SYNCTV_ROOMS_MAX_CONNECTIONS_PER_ADDRESS="5")
    async with aiohttp.ClientSession() as session:
        yield Server(runtime, Api(base, session))
    await runtime.stop()


async def test_connections_per_user_and_per_address(tight: Server) -> None:
    api, rid, alice, bob = await setup_room(tight)
    mine = [await api.ws(rid, alice) for _ in range(3)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.ws(rid, alice)
    assert refused.value.status == 429
    others = [await api.ws(rid, bob), await api.ws(rid)]  # 5 from this address now
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.ws(rid)
    assert refused.value.status == 429
    await mine[0].close()
    await asyncio.sleep(0.1)
    again = await api.ws(rid, alice)  # a closed connection frees its place
    await still_works(again)
    for ws in (*mine[1:], *others, again):
        await ws.close()


async def _chats_until_quiet(ws: WsClient) -> int:
    """CHAT messages `ws` receives until nothing arrives for half a second."""
    chats = 0
    try:
        while True:
            if (await ws.recv(0.5)).type == T.CHAT:
                chats += 1
    except TimeoutError:
        pass
    return chats


async def test_a_chat_flood_is_cut_to_the_allowance(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    flooder = await api.ws(rid, alice)
    victim = await api.ws(rid, bob)
    for i in range(60):  # 40 refused: fewer than closing takes (50), and the SYNC below still counts
        await flooder.send(pb.Message(type=T.CHAT, chat_content=f"spam {i}"))
    await flooder.send(pb.Message(type=T.SYNC))
    errors = 0
    while True:
        msg = await flooder.recv()
        if msg.type == T.ERROR:
            assert msg.error_message == "too many messages, slow down"
            errors += 1
        elif msg.type == T.SYNC:
            break  # other messages (a SYNC) still go through the general allowance
    assert errors >= 1
    chats = await _chats_until_quiet(victim)
    assert 20 <= chats <= 25  # the burst, and what a few milliseconds refill
    await flooder.close()
    await victim.close()


async def test_a_users_connections_share_one_chat_allowance(sqlite_server: Server) -> None:
    """More sockets are not more chat: alice's three connections together get one user's burst."""
    api, rid, alice, bob = await setup_room(sqlite_server)
    sockets = [await api.ws(rid, alice) for _ in range(3)]
    victim = await api.ws(rid, bob)
    for i in range(15):
        for ws in sockets:
            await ws.send(pb.Message(type=T.CHAT, chat_content=f"spam {i}"))
    chats = await _chats_until_quiet(victim)
    assert 20 <= chats <= 25, chats  # one burst of 20 for the three, not 45
    await victim.send(pb.Message(type=T.CHAT, chat_content="mine"))  # bob's allowance is his own
    assert (await victim.recv(2)).chat_content == "mine"
    for ws in (*sockets, victim):
        await ws.close()


async def test_a_client_that_keeps_flooding_is_closed(sqlite_server: Server) -> None:
    api, rid, alice, _ = await setup_room(sqlite_server)
    flooder = await api.ws(rid, alice)
    for i in range(3000):  # far beyond the allowance: reading all of it would cost the server too
        await flooder.send(pb.Message(type=T.CHAT, chat_content=f"spam {i}"))
    from tests.api.test_ws import closed

    assert await closed(flooder) == 4008



class _Transport(asyncio.ReadTransport):
    def __init__(self) -> None:
        super().__init__()
        self.reading = True
        self.writes: list[bytes] = []

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def get_write_buffer_size(self) -> int:
        return 0


async def test_past_its_allowance_a_connection_is_not_read_until_it_refills() -> None:
    """Refusing is not enough: reading what a flooder pushes costs a parse per frame. Its transport stops being
    read until the allowance refills, so its own TCP window holds it back."""
    from types import SimpleNamespace

    from synctv.api.ws_allowance import Allowance
    from synctv.rooms.hub import Connection

    rooms = SimpleNamespace(messages_per_second=100.0, message_burst=200, chats_per_second=5.0, chat_burst=2)
    flooded: list[None] = []
    allowance = Allowance(rooms, lambda: flooded.append(None))  # type: ignore[arg-type]
    transport = _Transport()
    conn = Connection(room_id="r", user_id="u", username="u", conn_id="c", socket=None,  # type: ignore[arg-type]
                      transport=transport)
    chat = pb.Message(type=T.CHAT, chat_content="x").SerializeToString()
    assert allowance.admit(conn, chat) and allowance.admit(conn, chat) and transport.reading
    assert not allowance.admit(conn, chat)
    assert not transport.reading  # paused: nothing more is read from this client for now
    assert not allowance.admit(conn, chat)  # what was already buffered is refused, without a second timer
    await asyncio.sleep(0.25)  # one chat token at 5/s
    assert transport.reading
    assert allowance.admit(conn, chat)


async def test_a_flooder_let_through_at_every_refill_is_still_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusals are counted over time: one message admitted per refill must not wipe a flooder's record."""
    from types import SimpleNamespace

    from synctv.api import ws_allowance as ws_module
    from synctv.api.ws_allowance import Allowance
    from synctv.rooms.hub import CLOSE_TOO_SLOW, Connection

    clock = [1000.0]
    monkeypatch.setattr(ws_module.time, "monotonic", lambda: clock[0])
    rooms = SimpleNamespace(messages_per_second=100.0, message_burst=10, chats_per_second=5.0, chat_burst=2)
    flooded: list[None] = []
    allowance = Allowance(rooms, lambda: flooded.append(None))  # type: ignore[arg-type]
    conn = Connection(room_id="r", user_id="u", username="u", conn_id="c", socket=None,  # type: ignore[arg-type]
                      transport=_Transport())
    chat = pb.Message(type=T.CHAT, chat_content="x").SerializeToString()
    admitted = 0
    for _ in range(50):
        if conn.closed.is_set():
            break
        clock[0] += 0.2  # one chat token
        admitted += allowance.admit(conn, chat)
        for _ in range(5):
            allowance.admit(conn, chat)
    assert conn.closed.is_set() and conn.close_code == CLOSE_TOO_SLOW
    assert admitted < 10  # closed within a few refills, not never
    assert len(flooded) == 1  # and its client is put on penalty once

    honest = Allowance(rooms, lambda: flooded.append(None))  # type: ignore[arg-type]
    other = Connection(room_id="r", user_id="v", username="v", conn_id="d", socket=None,  # type: ignore[arg-type]
                       transport=_Transport())
    for _ in range(6):  # a pasted burst: a few refused, then it slows down
        honest.admit(other, chat)
    clock[0] += 5
    assert honest.admit(other, chat) and not other.closed.is_set()
    assert len(flooded) == 1


async def _upgrade_status(api: Api, rid: str, token: str | None) -> tuple[int, dict[str, str], float]:
    """A WebSocket upgrade sent by hand, so that a refusal's envelope and headers can be read."""
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    if token:
        headers["Sec-WebSocket-Protocol"] = token
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with api.session.get(api.base + f"/api/room/ws?roomId={rid}", headers=headers) as resp:
        body = await resp.json() if resp.status >= 400 else {}
        return resp.status, {**resp.headers, **{"error": body.get("error", "")}}, loop.time() - started


async def _flood_until_closed(api: Api, rid: str, token: str | None) -> None:
    from tests.api.test_ws import closed

    flooder = await api.ws(rid, token)
    for i in range(3000):
        await flooder.send(pb.Message(type=T.CHAT, chat_content=f"spam {i}"))
    assert await closed(flooder) == 4008


async def test_a_client_closed_for_flooding_cannot_come_straight_back(sqlite_server: Server) -> None:
    """Its next upgrade is held, then refused with 429 and Retry-After, before any authentication work; other
    users are not held; once the wait is over it may connect again."""
    api, rid, alice, bob = await setup_room(sqlite_server)
    await _flood_until_closed(api, rid, alice)
    status, info, took = await _upgrade_status(api, rid, alice)
    assert status == 429 and info["error"] == "closed for sending too many messages; reconnect later", info
    assert int(info["Retry-After"]) >= 1 and took >= 0.5  # held for (most of) the first 1 s wait
    started = asyncio.get_running_loop().time()
    others = await api.ws(rid, bob)  # another user is neither held nor refused
    assert asyncio.get_running_loop().time() - started < 0.5
    await still_works(others)
    status, info, _ = await _upgrade_status(api, rid, "not-a-token")  # a bad token gets its own answer
    assert status == 401, info
    await asyncio.sleep(0.3)
    back = await api.ws(rid, alice)  # the wait is over
    await still_works(back)
    await back.close()
    await others.close()


async def test_a_flooding_guest_is_kept_out_by_address_not_the_members(sqlite_server: Server) -> None:
    api, rid, alice, _ = await setup_room(sqlite_server)
    await _flood_until_closed(api, rid, None)
    status, info, _ = await _upgrade_status(api, rid, None)
    assert status == 429, info
    member = await api.ws(rid, alice)  # a logged-in user from the same address is not a guest
    await still_works(member)
    await member.close()


def test_flood_penalties_double_per_flood_not_per_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    from synctv.api import ws_penalty

    clock = [500.0]
    monkeypatch.setattr(ws_penalty.time, "monotonic", lambda: clock[0])
    book = ws_penalty.FloodPenalties()
    assert book.take_turn("ws-flood:u") == 0
    for _ in range(32):  # one flooder's 32 sockets closed in the same moment: one flood
        book.punish("ws-flood:u")
    assert book.take_turn("ws-flood:u") == 1.0 and book.take_turn("ws-flood:v") == 0
    waits = []
    for _ in range(4):  # each flood after the previous wait ended doubles it
        clock[0] += book.take_turn("ws-flood:u") + 0.01
        book.punish("ws-flood:u")
        waits.append(book.take_turn("ws-flood:u"))
    assert waits == [2.0, 4.0, 8.0, 16.0]
    # After the wait: probation, two upgrades at once, then one a second.
    clock[0] += 16.01
    assert [book.take_turn("ws-flood:u") for _ in range(3)][:2] == [0, 0]
    assert 0.9 < book.take_turn("ws-flood:u") <= 1.0
    clock[0] += 1.0
    assert book.take_turn("ws-flood:u") == 0
    clock[0] += 3601  # forgotten after an hour without a flood: no probation, and the next wait is 1 s again
    assert all(book.take_turn("ws-flood:u") == 0 for _ in range(5))
    book.punish("ws-flood:u")
    assert book.take_turn("ws-flood:u") == 1.0
