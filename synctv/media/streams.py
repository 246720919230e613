"""Running proxy streams by movie, so that editing or deleting a movie (or a viewer leaving) stops its fetches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator


class StreamScope:
    """A cancel scope around one proxied response: `cancel()` ends whatever it is awaiting at once.

    Built on `asyncio.timeout`, so the scope's own cancellation surfaces as TimeoutError to the scope's owner
    and is told apart from every other timeout by `cancelled`.
    """

    def __init__(self) -> None:
        self._timeout: asyncio.Timeout | None = None
        self.reason = ""

    @property
    def cancelled(self) -> bool:
        return bool(self.reason)

    def cancel(self, reason: str) -> None:
        if self.reason:
            return
        self.reason = reason
        if self._timeout is not None:
            self._timeout.reschedule(asyncio.get_running_loop().time())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with asyncio.timeout(None) as tm:
            self._timeout = tm
            if self.reason:
                tm.reschedule(asyncio.get_running_loop().time())
            yield


class StreamRegistry:
    """Scopes by movie, plus one watcher task for all of them that cancels a scope whose client has gone
    (aiohttp does not cancel handlers on disconnect by default; one loop is far cheaper than one per stream)."""

    def __init__(self, watch_interval: float = 0.05) -> None:
        self._by_movie: dict[str, set[StreamScope]] = {}
        self._watched: dict[StreamScope, Callable[[], bool]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self.watch_interval = watch_interval

    @contextlib.contextmanager
    def track(self, movie_id: str, is_gone: Callable[[], bool] | None = None) -> Iterator[StreamScope]:
        scope = StreamScope()
        self._by_movie.setdefault(movie_id, set()).add(scope)
        if is_gone is not None:
            self._watched[scope] = is_gone
            if self._watcher is None or self._watcher.done():
                self._watcher = asyncio.get_running_loop().create_task(self._watch())
        try:
            yield scope
        finally:
            self._watched.pop(scope, None)
            scopes = self._by_movie.get(movie_id)
            if scopes is not None:
                scopes.discard(scope)
                if not scopes:
                    del self._by_movie[movie_id]

    async def _watch(self) -> None:
        while self._watched:
            await asyncio.sleep(self.watch_interval)
            for scope, is_gone in list(self._watched.items()):
                if is_gone():
                    scope.cancel("client disconnected")
                    self._watched.pop(scope, None)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher

    def cancel_movie(self, movie_id: str, reason: str = "movie changed") -> int:
        scopes = self._by_movie.pop(movie_id, set())
        for scope in scopes:
            scope.cancel(reason)
        return len(scopes)

    def count(self, movie_id: str | None = None) -> int:
        if movie_id is not None:
            return len(self._by_movie.get(movie_id, ()))
        return sum(len(s) for s in self._by_movie.values())
