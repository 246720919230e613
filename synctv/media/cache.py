"""The slice cache: fixed-size aligned slices of proxied sources, fetched on demand and shared by every viewer.

A source is one URL with one set of headers (so an edited movie never gets another version's bytes). Slices live
in memory (LRU) or on disk (LRU by last use, size-bounded, kept across restarts). Concurrent requests for one
slice share a single upstream fetch, which runs on even if the viewer who started it goes away.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

SLICE_SIZE = 2 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class NotCacheable(Exception):
    """The origin does not serve byte ranges the cache can use: serve this source uncached."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    size: int
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


def source_key(url: str, headers: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps([url, sorted(headers.items())]).encode()).hexdigest()[:40]


def parse_content_range(value: str) -> tuple[int, int, int]:
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if not match:
        raise NotCacheable("origin answered without a usable Content-Range")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


class SliceStore(Protocol):
    def has(self, key: str) -> bool: ...

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, data: bytes) -> None: ...


class MemoryStore:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def has(self, key: str) -> bool:
        return key in self._items

    async def get(self, key: str) -> bytes | None:
        data = self._items.get(key)
        if data is not None:
            self._items.move_to_end(key)
        return data

    async def put(self, key: str, data: bytes) -> None:
        if len(data) > self.limit:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.used -= len(old)
        self._items[key] = data
        self.used += len(data)
        while self.used > self.limit:
            _, evicted = self._items.popitem(last=False)
            self.used -= len(evicted)


class DiskStore:
    """One file per slice under `root`; the LRU order is rebuilt from modification times at start."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self.used = 0
        self._index: OrderedDict[str, int] = OrderedDict()
        root.mkdir(parents=True, exist_ok=True)
        entries = []
        for path in root.iterdir():
            if path.suffix == ".tmp":
                path.unlink(missing_ok=True)
                continue
            if path.is_file():
                st = path.stat()
                entries.append((st.st_mtime, path.name, st.st_size))
        for _, name, size in sorted(entries):
            self._index[name] = size
            self.used += size
        self._evict()

    def _path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        return key in self._index

    async def get(self, key: str) -> bytes | None:
        if key not in self._index:
            return None
        self._index.move_to_end(key)
        path = self._path(key)

        def read() -> bytes | None:
            try:
                data = path.read_bytes()
                os.utime(path)
                return data
            except FileNotFoundError:
                return None

        data = await asyncio.to_thread(read)
        if data is None:
            self.used -= self._index.pop(key, 0)
        return data

    async def put(self, key: str, data: bytes) -> None:
        if len(data) > self.limit:
            return
        path = self._path(key)

        def write() -> None:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)

        await asyncio.to_thread(write)
        self.used -= self._index.pop(key, 0)
        self._index[key] = len(data)
        self.used += len(data)
        self._evict()

    def _evict(self) -> None:
        while self.used > self.limit and self._index:
            name, size = self._index.popitem(last=False)
            self.used -= size
            self._path(name).unlink(missing_ok=True)


# (start, end inclusive) -> (bytes, what the origin said about the whole source)
SliceFetch = Callable[[int, int], Awaitable[tuple[bytes, SourceInfo]]]


class SliceCache:
    def __init__(self, store: SliceStore, slice_size: int = SLICE_SIZE) -> None:
        self.store = store
        self.slice_size = slice_size
        self._info: dict[str, SourceInfo] = {}
        self._inflight: dict[str, asyncio.Task[bytes]] = {}
        self.fetches = 0

    async def info(self, source: str) -> SourceInfo | None:
        known = self._info.get(source)
        if known is None:
            raw = await self.store.get(f"{source}-info")
            if raw is not None:
                known = self._info[source] = SourceInfo(**json.loads(raw))
        return known

    def cached(self, source: str, first: int, last: int) -> bool:
        return all(self.store.has(f"{source}-{i}") for i in range(first, last + 1))

    async def _fetch(self, source: str, index: int, fetch: SliceFetch) -> bytes:
        start = index * self.slice_size
        info = self._info.get(source)
        end = start + self.slice_size - 1
        if info is not None:
            end = min(end, info.size - 1)
        self.fetches += 1
        data, fresh = await fetch(start, end)
        if info is None:
            self._info[source] = fresh
            await self.store.put(f"{source}-info", json.dumps(asdict(fresh)).encode())
        want = min(self.slice_size, fresh.size - start)
        if len(data) != want:
            raise NotCacheable(f"origin sent {len(data)} bytes for a {want}-byte slice")
        await self.store.put(f"{source}-{index}", data)
        return data

    def _done(self, key: str, task: asyncio.Task[bytes]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have left

    async def slice(self, source: str, index: int, fetch: SliceFetch) -> bytes:
        key = f"{source}-{index}"
        data = await self.store.get(key)
        if data is not None:
            return data
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(source, index, fetch))
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._done(key, t))
        # shielded: a viewer who leaves does not cancel the fetch the others are waiting for
        return await asyncio.shield(task)
