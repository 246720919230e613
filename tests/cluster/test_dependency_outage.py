"""A shared dependency's outage is not an instance's outage: with etcd stopped for 30 s and then PostgreSQL for
10 s under a chatting, seeking workload on a real 3-instance cluster, `/ready` answers 200 on every instance at
every poll, `/health` reports each outage, no room changes owner (compared room by room), no acknowledged chat
is lost, writes during the database outage answer a clear 503 and succeed when retried after it."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import grpc
import pytest

from synctv._generated import mesh_pb2, mesh_pb2_grpc
from synctv.mesh.auth import inspection_metadata
from tests.cluster.test_chaos import Workload, _explain_missing, current_position, make_viewers
from tests.support.chaos_support import lost_acknowledged
from tests.support.cluster_harness import CLUSTER_SECRET, ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer, find_bin
from tests.support.require import missing as component_missing

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres, pytest.mark.timeout(240)]

ETCD_OUTAGE_S = 30.0
DB_OUTAGE_S = 10.0
PUSH = {"name": "during", "url": "https://example.com/during.mp4"}


@pytest.fixture
def deps() -> Iterator[tuple[EtcdServer, PostgresServer]]:
    if not EtcdServer.available():
        component_missing("etcd", "etcd not installed")
    if find_bin() is None:
        pytest.skip("PostgreSQL server not installed")
    etcd, pg = EtcdServer(), PostgresServer()  # their own servers: this test stops them
    etcd.start()
    pg.start()
    try:
        yield etcd, pg
    finally:
        etcd.stop()
        pg.stop()


async def _owners(procs: ClusterProcesses) -> dict[str, str]:
    """room -> the instance whose actor runs it, read from every instance."""
    out: dict[str, str] = {}
    for inst in procs.instances:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{inst.grpc_port}") as ch:
            reply = await mesh_pb2_grpc.MeshStub(ch).OwnedRooms(
                mesh_pb2.Empty(), metadata=inspection_metadata(CLUSTER_SECRET), timeout=5)
        for room in reply.room_ids:
            assert room not in out, f"{room} owned by {out[room]} and {inst.instance_id}"
            out[room] = inst.instance_id
    return out


async def _wait_discovery(session: aiohttp.ClientSession, procs: ClusterProcesses) -> None:
    """Until every instance's /health says discovery is reachable and lists all of them."""
    deadline = time.monotonic() + 30
    want = f"{len(procs.instances)} members"
    for inst in procs.instances:
        while True:
            async with session.get(inst.base + "/health") as resp:
                body = await resp.json()
            if body["components"]["discovery"]["detail"].startswith(want):
                break
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.2)


class Poller:
    """Polls /ready and /health of every instance every 0.25 s: every non-200 /ready, and which components
    /health reported failing."""

    def __init__(self, session: aiohttp.ClientSession, procs: ClusterProcesses) -> None:
        self.session = session
        self.procs = procs
        self.polls = 0
        self.not_ready: list[tuple[str, float, int]] = []
        self.failing: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            for inst in self.procs.instances:
                try:
                    async with self.session.get(inst.base + "/ready") as resp:
                        status = resp.status
                    async with self.session.get(inst.base + "/health") as resp:
                        body: dict[str, Any] = await resp.json()
                except aiohttp.ClientError:
                    status, body = 0, {}
                self.polls += 1
                if status != 200:
                    self.not_ready.append((inst.instance_id, time.monotonic(), status))
                for name, c in body.get("components", {}).items():
                    if not c["ok"]:
                        self.failing.setdefault(name, set()).add(inst.instance_id)
            await asyncio.sleep(0.25)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def test_etcd_and_database_outages_keep_every_instance_ready(
        deps: tuple[EtcdServer, PostgresServer]) -> None:
    etcd, pg = deps
    dsn = pg.create_database("o_" + uuid.uuid4().hex[:12])
    procs = ClusterProcesses(3, dsn, etcd.endpoint, extra_env={"SYNCTV_SERVER_DRAIN_TIMEOUT": "20s"})
    procs.start()
    try:
        await procs.wait_ready()
        ids = [i.instance_id for i in procs.instances]
        async with aiohttp.ClientSession() as session:
            viewers, rooms, apis = await make_viewers(session, procs, per_instance=1, rooms=3)
            controllers = [next(v for v in viewers if v.room == r) for r in rooms]
            work = Workload(viewers, controllers, ids)
            work.start()
            await asyncio.sleep(1.5)
            owners_before = await _owners(procs)
            assert set(owners_before) == set(rooms)
            poller = Poller(session, procs)
            poller.start()

            etcd.stop()
            etcd_down = time.monotonic()
            await asyncio.sleep(ETCD_OUTAGE_S)
            assert poller.failing.get("discovery") == set(ids)  # every instance reported it
            etcd.start()
            etcd_back = time.monotonic()
            await _wait_discovery(session, procs)
            discovery_recovery = time.monotonic() - etcd_back
            await asyncio.sleep(1.0)
            owners_mid = await _owners(procs)

            await asyncio.to_thread(pg.stop_process)
            db_down = time.monotonic()
            await asyncio.sleep(1.5)
            # A write during the outage: a clear, retryable refusal.
            api = apis[ids[1]]
            status, body = await api.call("POST", "/api/room/movie/push", token=controllers[0].token,
                                          room=rooms[0], json=PUSH)
            assert status == 503 and body["error"] == "database unavailable, try again", (status, body)
            await asyncio.sleep(max(0.0, DB_OUTAGE_S - (time.monotonic() - db_down)))
            assert poller.failing.get("database") == set(ids)
            await asyncio.to_thread(pg.start)
            db_back = time.monotonic()
            # The same write, retried until the pool has reconnected.
            for _ in range(60):
                status, body = await api.call("POST", "/api/room/movie/push", token=controllers[0].token,
                                              room=rooms[0], json=PUSH)
                if status == 200:
                    break
                assert status == 503, (status, body)
                await asyncio.sleep(0.25)
            assert status == 200, body
            write_recovery = time.monotonic() - db_back
            await asyncio.sleep(3.0)
            await poller.stop()
            await work.stop()
            owners_after = await _owners(procs)
            finals = {r: await current_position(apis[ids[0]], controllers[i].token, r) for i, r in enumerate(rooms)}

        acked, missing = lost_acknowledged(viewers)
        during_etcd = sum(1 for v in viewers for cid in v.acked_chat if etcd_down < v.sent_chat[cid] < db_down)
        during_db = sum(1 for v in viewers for cid in v.acked_chat
                        if db_down < v.sent_chat[cid] < db_down + DB_OUTAGE_S)
        refused = sum(1 for c in controllers for e in c.errors if e == "database unavailable, try again")
        seen = {r: max((pos for v in viewers if v.room == r for _, pos in v.statuses), default=0.0) for r in rooms}
        print(f"\n(outage) etcd down {ETCD_OUTAGE_S:.0f} s, then PostgreSQL down {DB_OUTAGE_S:.0f} s: /ready polls "
              f"{poller.polls}, not 200: {len(poller.not_ready)}; owners unchanged room by room: "
              f"{owners_before == owners_mid == owners_after}; acknowledged chats {acked} ({during_etcd} during the "
              f"etcd outage, {during_db} during the database outage), missing {missing}; seeks refused during the "
              f"database outage {refused}; a refused write succeeded {write_recovery:.2f} s after the database "
              f"came back; discovery reachable again {discovery_recovery:.2f} s after etcd; "
              f"last acknowledged positions {seen}, stored {finals}")
        if missing:
            t0 = min(i.start for v in viewers for i in v.intervals)
            print(f"etcd down at {etcd_down - t0:.2f}, back at {etcd_back - t0:.2f}; database down at "
                  f"{db_down - t0:.2f}, back at {db_back - t0:.2f}")
            _explain_missing(viewers)
        assert poller.polls >= 3 * 100 and poller.not_ready == []
        assert owners_before == owners_mid == owners_after
        assert missing == 0 and work.misplaced_disconnects == []
        assert acked >= 500 and during_etcd >= 200 and during_db >= 50
        assert refused >= 1  # seeks need the database: each got an ERROR, the room state did not change
        assert finals == seen
    finally:
        procs.stop()
