"""A userspace TCP proxy that delays every chunk by a random 100 ± 50 ms in each direction (order kept, as on
one TCP connection), in its own thread: one browser's whole path to an instance goes through it."""

from __future__ import annotations

import asyncio
import random
import threading
from contextlib import suppress

from tests.support.etcd_server import free_port


class JitterProxy:
    def __init__(self, target_host: str, target_port: int, delay_ms: float = 100.0, spread_ms: float = 50.0,
                 seed: int = 18) -> None:
        self.target = (target_host, target_port)
        self.delay_s, self.spread_s = delay_ms / 1000.0, spread_ms / 1000.0
        self.port = free_port()
        self._random = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self.chunks = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _delay(self) -> float:
        return self.delay_s + self._random.uniform(-self.spread_s, self.spread_s)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Each chunk leaves `delay` after it arrived, but never before the chunk ahead of it."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def release() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            with suppress(Exception):
                writer.close()

        sender = asyncio.ensure_future(release())
        last_due = 0.0
        try:
            while data := await reader.read(65536):
                self.chunks += 1
                last_due = max(last_due, loop.time() + self._delay())
                queue.put_nowait((last_due, data))
        except (ConnectionError, OSError):
            pass
        queue.put_nowait((last_due, b""))
        with suppress(Exception):
            await sender

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w),
                             return_exceptions=True)

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self._stop = asyncio.Event()
        self._started.set()
        async with server:
            await self._stop.wait()
        # Connections still open end here, so the loop closes with no task left pending.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> None:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="jitter-proxy", daemon=True)
        self._thread.start()
        assert self._started.wait(10), "jitter proxy did not start"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
