"""A cut link closes nothing: the stream just goes quiet. Idle links send heartbeats, so a quiet link stays heard
and a cut one goes silent after the limit (and is heard again when the link comes back)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from synctv.discovery import Member
from tests.support.mesh import MeshFactory, command, echoed, wait_until

pytestmark = pytest.mark.timeout(30)


class FreezableRelay:
    """A TCP relay on loopback that can stop forwarding without closing anything (a cut cable)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = asyncio.Event()
        self.open.set()
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    await self.open.wait()
                    writer.write(data)
                    await writer.drain()

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            tr, tw = await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.gather(pipe(r, tw), pipe(tr, w), return_exceptions=True)

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


async def test_a_quiet_link_stays_heard_a_cut_one_goes_silent_and_comes_back(mesh_factory: MeshFactory) -> None:
    a, _ = await mesh_factory("a", silence_limit_s=1.0)
    b, _ = await mesh_factory("b", silence_limit_s=1.0)
    relay = FreezableRelay(a.bound_port)
    via_relay = await relay.start()
    try:
        a.set_members([Member("b", grpc_address=f"127.0.0.1:{b.bound_port}")])
        b.set_members([Member("a", grpc_address=f"127.0.0.1:{via_relay}")])  # b's stream to a crosses the relay
        a.connect("b")
        b.connect("a")
        await wait_until(lambda: a.authenticated("b") and b.authenticated("a"))
        changes: list[bool] = []
        a.on_auth_change = lambda: changes.append(a.silent("b"))
        await asyncio.sleep(2.5)  # well past the limit, and nothing to send: heartbeats keep it heard
        assert not a.silent("b") and not b.silent("a") and changes == []
        relay.open.clear()
        await wait_until(lambda: a.silent("b"), timeout=3)
        assert changes == [True] and a.stats.silences["b"] == 1
        assert not b.silent("a")  # a's stream to b does not cross the relay: b still hears a
        relay.open.set()
        await wait_until(lambda: not a.silent("b"), timeout=3)
        assert changes == [True, False]
        assert echoed(await b.command("a", command("r", "op1", b"1"), timeout=5)) == b"ok:a:1"
    finally:
        relay.close()


async def test_without_a_limit_no_peer_is_ever_silent(mesh_factory: MeshFactory) -> None:
    a, _ = await mesh_factory("a")
    b, _ = await mesh_factory("b")
    a.set_members([Member("b", grpc_address=f"127.0.0.1:{b.bound_port}")])
    b.set_members([Member("a", grpc_address=f"127.0.0.1:{a.bound_port}")])
    a.connect("b")
    b.connect("a")
    await wait_until(lambda: a.authenticated("b"))
    await b.stop(0)
    await asyncio.sleep(1.0)
    a.check_silence()
    assert not a.silent("b")
