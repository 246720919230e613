"""Slice cache stores (memory LRU, disk LRU surviving restarts) and single-flight slice fetches."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from synctv.media.cache import DiskStore, MemoryStore, NotCacheable, SliceCache, SourceInfo

DATA = bytes(i % 256 for i in range(10_000))


async def test_memory_lru() -> None:
    store = MemoryStore(limit=30)
    for key in "abc":
        await store.put(key, b"x" * 10)
    assert await store.get("a") == b"x" * 10  # a is now the most recent
    await store.put("d", b"y" * 10)
    assert not store.has("b") and store.has("a") and store.has("d") and store.used == 30
    await store.put("huge", b"z" * 31)  # larger than the whole cache: not stored
    assert not store.has("huge")


async def test_disk_lru_survives_restart(tmp_path: Path) -> None:
    store = DiskStore(tmp_path, limit=25)
    await store.put("a", b"1" * 10)
    await store.put("b", b"2" * 10)
    await store.put("c", b"3" * 10)
    assert not store.has("a") and not (tmp_path / "a").exists() and store.used == 20
    (tmp_path / "junk.tmp").write_bytes(b"half-written")
    again = DiskStore(tmp_path, limit=25)
    assert again.has("b") and again.has("c") and await again.get("c") == b"3" * 10
    assert not (tmp_path / "junk.tmp").exists()
    smaller = DiskStore(tmp_path, limit=10)  # a smaller limit evicts at start
    assert smaller.used <= 10


async def test_single_flight_and_shared_fetch() -> None:
    cache = SliceCache(MemoryStore(1 << 20), slice_size=4096)
    calls: list[tuple[int, int]] = []
    gate = asyncio.Event()

    async def fetch(start: int, end: int) -> tuple[bytes, SourceInfo]:
        calls.append((start, end))
        await gate.wait()
        return DATA[start:end + 1], SourceInfo(len(DATA), "video/mp4")

    waiters = [asyncio.create_task(cache.slice("src", 1, fetch)) for _ in range(10)]
    await asyncio.sleep(0.01)
    waiters[0].cancel()  # the viewer who started the fetch leaves; the others still get their bytes
    gate.set()
    results = await asyncio.gather(*waiters[1:])
    assert all(r == DATA[4096:8192] for r in results) and calls == [(4096, 8191)]
    assert await cache.info("src") == SourceInfo(len(DATA), "video/mp4")
    # the last slice is short, and its end is clamped to the size now known
    assert await cache.slice("src", 2, fetch) == DATA[8192:]
    assert calls[-1] == (8192, 9999)
    assert cache.cached("src", 1, 2) and not cache.cached("src", 0, 2)


async def test_wrong_length_is_not_cached() -> None:
    cache = SliceCache(MemoryStore(1 << 20), slice_size=4096)

    async def short(start: int, end: int) -> tuple[bytes, SourceInfo]:
        return DATA[start:start + 10], SourceInfo(len(DATA))

    with pytest.raises(NotCacheable):
        await cache.slice("src", 0, short)
    assert not cache.cached("src", 0, 0)
