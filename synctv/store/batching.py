"""Coalescing concurrent lookups and inserts into one statement (the dataloader and group-commit pattern).

A join storm asks the database the same shaped question hundreds of times at once ("who is this user?", "may
they enter this room?", "make them a member"). One statement for the whole wave costs about what one costs
alone, and on SQLite one write transaction instead of hundreds queued on its single writer lock.

Freshness is the same as asking alone: a key asked for while a batch is running waits for the next batch (it
is never answered from a query that started before it was asked), and the next batch starts as soon as the
running one ends. When the server is idle a request waits for nothing but one turn of the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
A = TypeVar("A")
V = TypeVar("V")

# `run(requests)` answers every key it was given: a value, or an exception for that key alone.
Runner = Callable[[dict[K, A]], Awaitable[dict[K, "V | BaseException"]]]


class Batcher(Generic[K, A, V]):
    def __init__(self, run: Runner[K, A, V], max_batch: int = 500) -> None:
        self._run = run
        self._max = max_batch
        self._pending: dict[K, tuple[A, asyncio.Future[V]]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        return self._task is None and not self._pending

    async def get(self, key: K, arg: A) -> V:
        """The answer for `key`; `arg` is what the runner needs for it (the first caller's wins for a key that
        is asked for twice in one batch)."""
        entry = self._pending.get(key)
        if entry is None:
            entry = (arg, asyncio.get_running_loop().create_future())
            self._pending[key] = entry
        if self._task is None:
            self._task = asyncio.ensure_future(self._drain())
        # Shielded: one caller giving up must not cancel the answer the others share.
        return await asyncio.shield(entry[1])

    async def _drain(self) -> None:
        try:
            while self._pending:
                keys = list(self._pending)[: self._max]
                batch = {k: self._pending.pop(k) for k in keys}
                try:
                    answers = await self._run({k: a for k, (a, _) in batch.items()})
                except Exception as exc:
                    for _, fut in batch.values():
                        _fail(fut, exc)
                    continue
                for k, (_, fut) in batch.items():
                    if fut.done():
                        continue
                    answer = answers.get(k, KeyError(k))
                    if isinstance(answer, BaseException):
                        _fail(fut, answer)
                    else:
                        fut.set_result(answer)
        finally:
            self._task = None
            if self._pending:  # cancelled mid-drain (shutdown): nobody may wait forever
                for _, fut in self._pending.values():
                    if not fut.done():
                        fut.cancel()
                self._pending.clear()


def _fail(fut: asyncio.Future[V], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
        fut.exception()  # callers that gave up never read it: don't log it as unretrieved
