"""A real `synctv serve` process: state survives SIGKILL (playing rooms advance by the downtime), SIGTERM is a
clean exit that closes WebSockets with a close frame."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from synctv._generated import message_pb2 as pb
from tests.support.api_client import Api

pytestmark = pytest.mark.slow
T = pb.MessageType
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCTV_")}
        env["SYNCTV_LOG_LEVEL"] = "warning"
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once
            [sys.executable, "-m", "synctv", "serve", "--data-dir", str(self.data_dir), "--port", str(self.port),
             "--listen", "127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, self.proc.stderr.read().decode() if self.proc.stderr else ""
                try:
                    async with s.get(f"http://127.0.0.1:{self.port}/api/public/settings") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("server did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
async def proc(tmp_path: Path) -> AsyncIterator[Proc]:
    p = Proc(tmp_path / "data", free_port())
    yield p
    p.stop()


async def test_state_survives_sigkill(proc: Proc) -> None:
    await proc.start()
    async with aiohttp.ClientSession() as session:
        api = Api(f"http://127.0.0.1:{proc.port}", session)
        alice = await api.signup("alice")
        bob = await api.signup("bob")
        rid = await api.create_room(alice, "survivor", password="pw12345")
        await api.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": "pw12345"})
        m1 = await api.push_movie(alice, rid, "one")
        m2 = await api.push_movie(alice, rid, "two")
        await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=rid, json={"id": m2["id"]})
        paused = await api.create_room(alice, "paused room")
        m3 = await api.push_movie(alice, paused, "three")
        await api.ok("POST", "/api/room/movie/current", expect=204, token=alice, room=paused, json={"id": m3["id"]})

        ws = await api.ws(rid, alice)
        await ws.send(pb.Message(type=T.STATUS, playback_status=pb.Status(is_playing=True, current_time=30.0,
                                                                           playback_rate=1.0)))
        await ws.send(pb.Message(type=T.SYNC))
        sync = await ws.expect(T.SYNC)
        set_at = time.time()
        assert 30.0 <= sync.playback_status.current_time < 31.0
        ws2 = await api.ws(paused, alice)
        await ws2.send(pb.Message(type=T.STATUS, playback_status=pb.Status(is_playing=False, current_time=12.5,
                                                                            playback_rate=1.0)))
        await ws2.send(pb.Message(type=T.SYNC))
        await ws2.expect(T.SYNC)
        # acknowledged means durable: kill without warning
        proc.kill(signal.SIGKILL)
        proc.wait(10)
        await ws.close()
        await ws2.close()
    await asyncio.sleep(2)
    await proc.start()
    async with aiohttp.ClientSession() as session:
        api = Api(f"http://127.0.0.1:{proc.port}", session)
        # tokens survive (the JWT secret is kept in config.yaml); users, rooms, membership, playlist are there
        assert (await api.me(alice))["username"] == "alice"
        await api.login("bob", "password1")
        assert (await api.ok("GET", "/api/room/me", token=bob, room=rid))["status"] == 3
        movies = await api.ok("GET", "/api/room/movie/movies", token=bob, room=rid)
        assert [m["id"] for m in movies["movies"]] == [m1["id"], m2["id"]]
        cur = await api.ok("GET", "/api/room/movie/current", token=bob, room=rid)
        elapsed = time.time() - set_at
        assert cur["movie"]["id"] == m2["id"] and cur["status"]["isPlaying"] is True
        assert abs(cur["status"]["currentTime"] - (30.0 + elapsed)) < 1.5, (cur["status"], elapsed)
        assert elapsed > 2
        cur = await api.ok("GET", "/api/room/movie/current", token=alice, room=paused)
        assert cur["status"]["isPlaying"] is False and cur["status"]["currentTime"] == 12.5
        # and the room works again over the WebSocket
        ws = await api.ws(rid, bob)
        await ws.send(pb.Message(type=T.SYNC))
        sync = await ws.expect(T.SYNC)
        assert abs(sync.playback_status.current_time - (30.0 + time.time() - set_at)) < 1.5
        await ws.close()


async def test_sigterm_exits_cleanly_and_closes_websockets(proc: Proc) -> None:
    await proc.start()
    async with aiohttp.ClientSession() as session:
        api = Api(f"http://127.0.0.1:{proc.port}", session)
        alice = await api.signup("alice")
        rid = await api.create_room(alice, "closing")
        ws = await api.ws(rid, alice)
        await ws.expect(T.VIEWER_COUNT)
        proc.kill(signal.SIGTERM)
        deadline = time.monotonic() + 10
        got_close = False
        while time.monotonic() < deadline:
            msg = await ws.ws.receive(timeout=deadline - time.monotonic())
            if msg.type == aiohttp.WSMsgType.CLOSE:
                got_close = True
                break
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
        assert got_close, "no close frame before the connection ended"
        assert ws.ws.close_code in (1001, 1012, 1013)
        code = await asyncio.to_thread(proc.wait, 10)
        assert code == 0
