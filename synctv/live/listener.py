"""Where RTMP connections come in: their own port, or the HTTP port shared by telling RTMP from HTTP on a
connection's first byte (RTMP's C0 is 0x03; an HTTP request starts with a letter)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Coroutine
from typing import Any, cast

from aiohttp import web

RTMP_VERSION_BYTE = 3
FIRST_BYTE_TIMEOUT_S = 10.0  # a connection that sends nothing is not kept open forever (at most this long)

RtmpHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Coroutine[Any, Any, None]]


class _Sniffer(asyncio.Protocol):
    """The first protocol of every connection on a shared port: hands the transport to RTMP or to aiohttp."""

    def __init__(self, http_factory: Callable[[], asyncio.Protocol], rtmp: RtmpHandler,
                 tasks: set[asyncio.Task[None]], first_byte_timeout: float | None = None) -> None:
        self._first_byte_timeout = first_byte_timeout
        self._http_factory = http_factory
        self._rtmp = rtmp
        self._tasks = tasks
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same interface.
        self._transport = cast(asyncio.Transport, transport)
        limit = FIRST_BYTE_TIMEOUT_S if self._first_byte_timeout is None else \
            min(FIRST_BYTE_TIMEOUT_S, self._first_byte_timeout)
        self._timer = asyncio.get_running_loop().call_later(limit, transport.close)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if data[:1] == bytes([RTMP_VERSION_BYTE]):
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader(limit=2 ** 16, loop=loop)
            proto = asyncio.StreamReaderProtocol(reader, loop=loop)
            transport.set_protocol(proto)
            proto.connection_made(transport)
            writer = asyncio.StreamWriter(transport, proto, reader, loop)
            task = loop.create_task(self._rtmp(reader, writer, data))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        http = self._http_factory()
        transport.set_protocol(http)
        http.connection_made(transport)
        http.data_received(data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._transport = None


class SharedSite(web.TCPSite):
    """aiohttp's TCP site, with RTMP connections on the same port taken aside before HTTP parsing."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, rtmp: RtmpHandler, *,
                 first_byte_timeout: float | None = None, **kw: Any) -> None:
        super().__init__(runner, host, port, **kw)
        self._rtmp = rtmp
        self._first_byte_timeout = first_byte_timeout
        self.rtmp_tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        http = self._runner.server
        assert http is not None
        self._server = await loop.create_server(
            lambda: _Sniffer(http, self._rtmp, self.rtmp_tasks, self._first_byte_timeout), self._host, self._port,
            backlog=self._backlog, reuse_address=self._reuse_address, reuse_port=self._reuse_port)
        sock = self._server.sockets[0] if self._server.sockets else None
        if sock is not None:
            self._bound_port = sock.getsockname()[1]

    async def stop(self) -> None:
        for task in list(self.rtmp_tasks):
            task.cancel()
        await super().stop()


class RtmpListener:
    """RTMP on its own port."""

    def __init__(self, host: str, port: int, handler: RtmpHandler) -> None:
        self.host, self.port, self._handler = host, port, handler
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await self._handler(reader, writer, b"")
            finally:
                if task is not None:
                    self._tasks.discard(task)

        self._server = await asyncio.start_server(on_conn, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
