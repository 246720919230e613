"""WebSocket limits: connections per user and per address, and messages (chat especially) per connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from synctv._generated import message_pb2 as pb
from tests.api.test_ws import setup_room, still_works
from tests.support.api_client import Api
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


async def test_a_chat_flood_is_cut_to_the_allowance(sqlite_server: Server) -> None:
    api, rid, alice, bob = await setup_room(sqlite_server)
    flooder = await api.ws(rid, alice)
    victim = await api.ws(rid, bob)
    for i in range(150):  # within the general allowance (a burst of 200), so the SYNC below still counts
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
    chats = 0
    try:
        while True:
            if (await victim.recv(0.5)).type == T.CHAT:
                chats += 1
    except TimeoutError:
        pass
    assert 20 <= chats <= 25  # the burst, and what a few milliseconds refill
    await flooder.close()
    await victim.close()


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

    from synctv.api.ws import _Allowance
    from synctv.rooms.hub import Connection

    rooms = SimpleNamespace(messages_per_second=100.0, message_burst=200, chats_per_second=5.0, chat_burst=2)
    allowance = _Allowance(SimpleNamespace(cfg=SimpleNamespace(rooms=rooms)))  # type: ignore[arg-type]
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
