"""Membership scenarios every dynamic discovery backend must pass (used by the etcd and consul tests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from synctv.discovery import Member
from tests.support.mesh import wait_until

# make(instance_id) -> a started-or-not discovery object for this backend
Make = Callable[[str], Any]


def member(instance_id: str) -> Member:
    return Member(
        instance_id=instance_id,
        http_address=f"http://127.0.0.1:80{len(instance_id)}",
        grpc_address=f"127.0.0.1:90{len(instance_id)}",
        version="test",
        started_at_ms=int(time.time() * 1000),
        meta={"zone": "z1"},
    )


def ids(disc: Any) -> list[str]:
    return [m.instance_id for m in disc.members()]


async def scenario_join_and_graceful_leave(make: Make, leave_within: float = 1.0) -> None:
    a = make("node-a")
    changes: list[list[str]] = []
    a.on_change(lambda ms: changes.append([m.instance_id for m in ms]))
    await a.start()
    assert ids(a) == ["node-a"]
    b = make("node-b")
    await b.start()
    await wait_until(lambda: ids(a) == ["node-a", "node-b"], timeout=5)
    await wait_until(lambda: ids(b) == ["node-a", "node-b"], timeout=5)
    got = next(m for m in a.members() if m.instance_id == "node-b")
    assert got.grpc_address == b.self_member.grpc_address and got.meta.get("zone") == "z1"
    assert changes[-1] == ["node-a", "node-b"]
    started = time.monotonic()
    await b.stop()
    await wait_until(lambda: ids(a) == ["node-a"], timeout=leave_within)
    assert time.monotonic() - started < leave_within
    assert a.healthy
    await a.stop()


async def scenario_crash_expires(make: Make, crash: Callable[[Any], Awaitable[None]], within: float) -> None:
    a = make("node-a")
    await a.start()
    b = make("node-b")
    await b.start()
    await wait_until(lambda: ids(a) == ["node-a", "node-b"], timeout=5)
    started = time.monotonic()
    await crash(b)
    await wait_until(lambda: ids(a) == ["node-a"], timeout=within + 2)
    assert time.monotonic() - started <= within
    await a.stop()


async def scenario_outage(
    make: Make, stop_backend: Callable[[], Awaitable[None]], start_backend: Callable[[], Awaitable[None]]
) -> None:
    a = make("node-a")
    b = make("node-b")
    await a.start()
    await b.start()
    await wait_until(lambda: ids(a) == ["node-a", "node-b"], timeout=5)
    await stop_backend()
    await wait_until(lambda: not a.healthy, timeout=8)
    # Degraded: the last known membership is kept and served.
    assert ids(a) == ["node-a", "node-b"]
    await asyncio.sleep(0.2)
    await start_backend()
    await wait_until(lambda: a.healthy and b.healthy, timeout=15)
    await wait_until(lambda: ids(a) == ["node-a", "node-b"] and ids(b) == ["node-a", "node-b"], timeout=10)
    # Still live after recovery: a graceful leave is seen at once.
    await b.stop()
    await wait_until(lambda: ids(a) == ["node-a"], timeout=3)
    await a.stop()
