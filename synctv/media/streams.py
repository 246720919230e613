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
    def __init__(self) -> None:
        self._by_movie: dict[str, set[StreamScope]] = {}

    @contextlib.contextmanager
    def track(self, movie_id: str) -> Iterator[StreamScope]:
        scope = StreamScope()
        self._by_movie.setdefault(movie_id, set()).add(scope)
        try:
            yield scope
        finally:
            scopes = self._by_movie.get(movie_id)
            if scopes is not None:
                scopes.discard(scope)
                if not scopes:
                    del self._by_movie[movie_id]

    def cancel_movie(self, movie_id: str, reason: str = "movie changed") -> int:
        scopes = self._by_movie.pop(movie_id, set())
        for scope in scopes:
            scope.cancel(reason)
        return len(scopes)

    def count(self, movie_id: str | None = None) -> int:
        if movie_id is not None:
            return len(self._by_movie.get(movie_id, ()))
        return sum(len(s) for s in self._by_movie.values())


async def watch_disconnect(is_gone: Callable[[], bool], scope: StreamScope, interval: float = 0.05) -> None:
    """Cancel `scope` as soon as the client's connection is gone (aiohttp does not cancel handlers by default)."""
    while not scope.cancelled:
        if is_gone():
            scope.cancel("client disconnected")
            return
        await asyncio.sleep(interval)
