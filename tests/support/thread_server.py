"""A real server on its own event loop in a background thread, for synchronous clients (schemathesis, requests)
that cannot share the test's event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from synctv.app import Runtime
from tests.support.api_client import Api
from tests.support.servers import Server, start_server

T = TypeVar("T")


class ThreadServer:
    def __init__(self, data_dir: Path, dsn: str | None = None, **env: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="synctv-test-server", daemon=True)
        self._thread.start()
        self._runtime: Runtime | None = None
        self._session: aiohttp.ClientSession | None = None
        self.base = ""
        self.server = self.run(self._start(data_dir, dsn, env))

    async def _start(self, data_dir: Path, dsn: str | None, env: dict[str, str]) -> Server:
        self._runtime, self.base = await start_server(data_dir, dsn, **env)
        self._session = aiohttp.ClientSession()
        return Server(self._runtime, Api(self.base, self._session))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        async def _stop() -> None:
            if self._session is not None:
                await self._session.close()
            if self._runtime is not None:
                await self._runtime.stop()

        try:
            self.run(_stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
