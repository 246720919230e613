"""WebSocket limits hold across a real 2-instance cluster (separate processes, etcd, PostgreSQL): the limit's
worth of sockets split over both instances, and the next one is refused on either with the same answer; a
close frees a slot for the other instance; a killed instance's slots come back within the lease."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator

import aiohttp
import pytest

from synctv.mesh.ring import Ring
from tests.support.api_client import Api, WsClient
from tests.support.asserts import assert_error
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer
from tests.support.require import missing

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres, pytest.mark.timeout(120)]

PER_USER, PER_ADDRESS, LEASE_S = 4, 6, 4.0


@pytest.fixture
def cluster(pg_server: PostgresServer) -> Iterator[ClusterProcesses]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    etcd = EtcdServer()
    etcd.start()
    env = {"SYNCTV_ROOMS_MAX_CONNECTIONS_PER_USER": str(PER_USER),
           "SYNCTV_ROOMS_MAX_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS),
           "SYNCTV_ROOMS_CONNECTION_LEASE": f"{LEASE_S:g}s"}
    procs = ClusterProcesses(2, pg_server.create_database("wl_" + uuid.uuid4().hex[:12]), etcd.endpoint,
                             extra_env=env)
    procs.start()
    try:
        asyncio.run(procs.wait_ready())
        yield procs
    finally:
        procs.stop()
        etcd.stop()


async def refusal(api: Api, room: str, token: str) -> tuple[int, object]:
    """The answer to an upgrade request that the limits refuse before upgrading (a plain GET: when a slot is
    free it fails the upgrade instead, 4xx, and gives the slot back)."""
    return await api.call("GET", "/api/room/ws", token=token, params={"roomId": room})


async def opens(api: Api, room: str, token: str) -> bool:
    try:
        ws = await api.ws(room, token)
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 429
        return False
    opened.append(ws)
    return True


opened: list[WsClient] = []


async def user_kept_by(apis: list[Api], instance: str) -> tuple[str, str]:
    """A new user whose connection count the ring gives to `instance`, and a room of theirs."""
    ring = Ring(["n1", "n2"])
    for i in range(64):
        token = await apis[0].signup(f"u{i}-{uuid.uuid4().hex[:6]}")
        uid = (await apis[0].me(token))["id"]
        if ring.owner(f"slot:ws-user:{uid}") == instance:
            return token, await apis[0].create_room(token, f"room {uid[:8]}")
    raise AssertionError("no user kept by " + instance)


async def test_limits_hold_across_instances_and_a_killed_instance_gives_its_slots_back(
        cluster: ClusterProcesses) -> None:
    opened.clear()
    async with aiohttp.ClientSession() as session:
        apis = [Api(inst.base, session) for inst in cluster.instances]
        alice, room_a = await user_kept_by(apis, "n1")
        # Per user: the limit's worth, split over both instances, then refused on either, in the same words.
        for i in range(PER_USER):
            assert await opens(apis[i % 2], room_a, alice)
        for api in apis:
            assert not await opens(api, room_a, alice)
            status, body = await refusal(api, room_a, alice)
            assert_error(status, body, 429, f"too many connections for this user (at most {PER_USER})")
        # Per address (every client here is 127.0.0.1): two more users fill it.
        bob, room_b = await user_kept_by(apis, "n2")
        assert await opens(apis[1], room_b, bob)
        assert await opens(apis[0], room_b, bob)
        for api in apis:
            status, body = await refusal(api, room_b, bob)
            assert_error(status, body, 429, f"too many connections from this address (at most {PER_ADDRESS})")
        # A close on one instance frees a slot for the other.
        bobs = opened[-2:]
        await bobs[0].close()
        assert await _soon(lambda: opens(apis[0], room_b, bob), 3.0)
        for ws in opened[-3:]:
            await ws.close()  # bob is gone: the address has room again, alice is still at her limit
        del opened[-3:]
        assert await _soon(lambda: _refused_for_user(apis[0], room_a, alice), 3.0)

        # n2 dies with two of alice's sockets open; her count is kept by n1, which gives them back within the
        # lease (or sooner, when discovery drops n2), and not before n2 is gone.
        cluster.instances[1].signal(signal.SIGKILL)
        killed = time.monotonic()
        assert not await opens(apis[0], room_a, alice)
        assert await _soon(lambda: opens(apis[0], room_a, alice), LEASE_S + 3.0)
        freed_after = time.monotonic() - killed
        print(f"slots of the killed instance came back after {freed_after:.2f} s (lease {LEASE_S:g} s)")
        assert freed_after <= LEASE_S + 1.5
        assert await opens(apis[0], room_a, alice), await refusal(apis[0], room_a, alice)  # both of n2's slots
        assert not await opens(apis[0], room_a, alice)  # and no more: alice's two on n1 still count
        for ws in opened:
            await ws.close()


async def _refused_for_user(api: Api, room: str, token: str) -> bool:
    status, body = await refusal(api, room, token)
    return status == 429 and isinstance(body, dict) and "for this user" in str(body.get("error"))


async def _soon(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False
