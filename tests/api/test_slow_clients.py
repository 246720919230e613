"""Slow and stalled clients (slowloris): a request head or body that doesn't arrive in time costs the server a
connection for a bounded time, never forever, and a normal keep-alive client is not affected."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from synctv.config import ConfigError
from tests.support.servers import make_config, start_server

pytestmark = pytest.mark.timeout(30)

ENV = {"SYNCTV_SERVER_HTTP_HEADER_TIMEOUT": "1s", "SYNCTV_SERVER_HTTP_BODY_TIMEOUT": "1s"}


async def _open(base: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(base)
    return await asyncio.open_connection(url.hostname, url.port)


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> tuple[float, bytes]:
    t0 = time.monotonic()
    data = await asyncio.wait_for(reader.read(), seconds)  # read() returns at EOF
    return time.monotonic() - t0, data


async def test_a_head_that_never_completes_is_cut_off(tmp_path: Path) -> None:
    runtime, base = await start_server(tmp_path / "data", **ENV)
    try:
        stalled = []
        for _ in range(20):
            reader, writer = await _open(base)
            writer.write(b"GET /api/public/settings HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never the rest
            await writer.drain()
            stalled.append((reader, writer))
        idle_reader, idle_writer = await _open(base)  # connects and sends nothing at all
        for reader, _ in [*stalled, (idle_reader, idle_writer)]:
            took, data = await _closed_within(reader, 5.0)
            assert took < 3.0 and data == b""
        # The server is fine, and a keep-alive client that keeps asking is served throughout.
        async with aiohttp.ClientSession() as session:
            for _ in range(3):
                async with session.get(base + "/api/public/settings") as resp:
                    assert resp.status == 200
                await asyncio.sleep(0.4)
    finally:
        for _, writer in stalled:
            writer.close()
        await runtime.stop()


async def test_a_body_that_stops_arriving_gets_408_in_the_envelope(tmp_path: Path) -> None:
    runtime, base = await start_server(tmp_path / "data", **ENV)
    try:
        reader, writer = await _open(base)
        body = json.dumps({"username": "slowpoke", "password": "password1"}).encode()
        writer.write(b"POST /api/user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
        await writer.drain()
        t0 = time.monotonic()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
        assert time.monotonic() - t0 < 3.0
        assert head.startswith(b"HTTP/1.1 408"), head
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        assert json.loads(await reader.readexactly(length))["error"] == "request body not received in time"
        writer.close()
        # A body sent in pieces, each in time, is read whole (not only its first piece).
        reader, writer = await _open(base)
        big = json.dumps({"username": "x" * 20, "password": "p" * 200_000}).encode()
        writer.write(b"POST /api/user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(big))
        for i in range(0, len(big), 50_000):
            writer.write(big[i:i + 50_000])
            await writer.drain()
            await asyncio.sleep(0.05)
        status = (await asyncio.wait_for(reader.readline(), 5.0)).split()[1]
        assert status != b"408" and status != b"400"  # it was parsed as JSON: the login itself is refused
        writer.close()
    finally:
        await runtime.stop()


@pytest.mark.parametrize("value", ["0s", "-1s", "soon"])
def test_bad_timeouts_are_config_errors(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"server\.http\.header_timeout"):
        make_config(tmp_path / "d", SYNCTV_SERVER_HTTP_HEADER_TIMEOUT=value)
