"""Chaos tests on real 3-process clusters (etcd, PostgreSQL): rolling restart, SIGKILL of an owner, etcd outage,
a slow mesh link, and two instances that both believe they own a room. Each prints its figures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from synctv.mesh.ring import Ring
from tests.support.api_client import Api
from tests.support.chaos_support import Viewer, ack_latencies, lost_acknowledged, owners_by_room, p, rewinds
from tests.support.cluster_harness import CLUSTER_SECRET, ClusterProcesses
from tests.support.etcd_server import EtcdServer, free_port
from tests.support.pg_server import PostgresServer
from tests.support.require import missing as component_missing

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres]
TTL_S = 3.0
# Thresholds from the figures the README publishes (chat round trip p99 23-104 ms in a rolling restart; an owner's
# rooms accept commands 2.3-3.2 s after its SIGKILL): the published upper bound times a margin for a busy
# 2-core machine, never more.
PUBLISHED_P99_S = 0.104
P99_MARGIN = 3.0
PUBLISHED_RECOVERY_S = 3.2
RECOVERY_MARGIN_S = 0.5
# The slow-link scenario: 200 ms added each way.
MESH_RTT_S = 0.4


@pytest.fixture
def etcd() -> Iterator[EtcdServer]:
    if not EtcdServer.available():
        component_missing("etcd", "etcd not installed")
    server = EtcdServer()
    server.start()
    yield server
    server.stop()


def make_cluster(pg: PostgresServer, etcd: EtcdServer, size: int = 3,
                 extra_env: dict[str, str] | None = None) -> ClusterProcesses:
    dsn = pg.create_database("x_" + uuid.uuid4().hex[:12])
    return ClusterProcesses(size, dsn, etcd.endpoint, ttl=f"{int(TTL_S)}s",
                            extra_env={"SYNCTV_LOG_LEVEL": "info", "SYNCTV_SERVER_DRAIN_TIMEOUT": "20s",
                                       **(extra_env or {})})


@pytest.fixture
async def cluster(pg_server: PostgresServer, etcd: EtcdServer) -> AsyncIterator[ClusterProcesses]:
    procs = make_cluster(pg_server, etcd)
    procs.start()
    try:
        await procs.wait_ready()
        yield procs
    finally:
        procs.stop()


async def make_viewers(session: aiohttp.ClientSession, procs: ClusterProcesses, per_instance: int,
                       rooms: int = 1) -> tuple[list[Viewer], list[str], dict[str, Api]]:
    apis = {inst.instance_id: Api(inst.base, session) for inst in procs.instances}
    first = apis[procs.instances[0].instance_id]
    creator = await first.signup("creator-" + uuid.uuid4().hex[:6])
    room_ids = [await first.create_room(creator, f"chaos-{i}-{uuid.uuid4().hex[:6]}") for i in range(rooms)]
    viewers: list[Viewer] = []
    for r, room in enumerate(room_ids):
        for inst in procs.instances:
            for k in range(per_instance):
                name = f"v{r}{inst.instance_id}{k}"
                # The first viewer of each room is its creator, who may change the playback status.
                token = creator if inst is procs.instances[0] and k == 0 else \
                    await first.signup(name + uuid.uuid4().hex[:4])
                v = Viewer(name, token, room, apis, inst.instance_id)
                await v.connect(inst.instance_id)
                viewers.append(v)
    return viewers, room_ids, apis


class Workload:
    """Every viewer chats every `chat_every` s; the room's first viewer (its creator) seeks forward regularly."""

    def __init__(self, viewers: list[Viewer], controllers: list[Viewer], alive: list[str],
                 chat_every: float = 0.2) -> None:
        self.viewers = viewers
        self.controllers = controllers
        self.alive = alive
        self.chat_every = chat_every
        self.down: set[str] = set()
        self.misplaced_disconnects: list[tuple[str, str, int | None]] = []
        self.positions_sent: list[float] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._drive()))
        self._tasks += [asyncio.create_task(self._supervise(v)) for v in self.viewers]

    async def _drive(self) -> None:
        n = 0
        position = 100.0
        while not self._stop.is_set():
            for v in self.viewers:
                await v.send_chat(f"{v.name}-{n}")
            if n % 3 == 0:
                position += 1.0
                for c in self.controllers:
                    await c.send_status(position)
                self.positions_sent.append(position)
            n += 1
            await asyncio.sleep(self.chat_every)

    async def _supervise(self, v: Viewer) -> None:
        while not self._stop.is_set():
            if v._reader is not None:
                await asyncio.wait({v._reader, asyncio.ensure_future(self._stop.wait())},
                                   return_when=asyncio.FIRST_COMPLETED)
            if self._stop.is_set():
                return
            last = v.intervals[-1]
            if last.instance not in self.down:
                self.misplaced_disconnects.append((v.name, last.instance, last.close_code))
            # Reconnect through "the load balancer": any instance that is up.
            candidates = [i for i in self.alive if i not in self.down and i != last.instance] or \
                [i for i in self.alive if i not in self.down]
            await v.connect(candidates[hash(v.name) % len(candidates)])

    async def stop(self, drain: float = 1.0) -> None:
        """Stop sending, give what was acknowledged `drain` seconds to arrive, then close every viewer (a
        delivery is only counted missing if its viewer stayed connected through its grace time)."""
        self._stop.set()
        for t in self._tasks:
            t.cancel()
        await asyncio.sleep(drain)
        for v in self.viewers:
            await v.close()


async def current_position(api: Api, token: str, room: str) -> float:
    data = await api.ok("GET", "/api/room/movie/current", token=token, room=room)
    return float(data["status"]["currentTime"])


async def test_a_rolling_restart_is_not_noticed(cluster: ClusterProcesses) -> None:
    async with aiohttp.ClientSession() as session:
        viewers, rooms, apis = await make_viewers(session, cluster, per_instance=2)
        ids = [i.instance_id for i in cluster.instances]
        work = Workload(viewers, [viewers[0]], ids)
        work.start()
        await asyncio.sleep(2.0)
        restart_times = []
        events: list[tuple[float, str]] = []
        for inst in cluster.instances:
            work.down.add(inst.instance_id)
            started = time.monotonic()
            events.append((started, f"{inst.instance_id} SIGTERM"))
            inst.signal(signal.SIGTERM)
            code = await asyncio.to_thread(inst.wait, 40)
            assert code == 0, inst.log()
            events.append((time.monotonic(), f"{inst.instance_id} exited"))
            inst.start()
            await cluster.wait_ready()
            events.append((time.monotonic(), f"{inst.instance_id} ready"))
            work.down.discard(inst.instance_id)
            restart_times.append(time.monotonic() - started)
            await asyncio.sleep(1.5)
        await asyncio.sleep(1.0)
        await work.stop()
        final = {i: await current_position(apis[i], viewers[0].token, rooms[0]) for i in ids}

    acked, missing = lost_acknowledged(viewers)
    lat = ack_latencies(viewers)
    seen = max(pos for v in viewers for _, pos in v.statuses)
    print(f"\n(a) rolling restart of 3 instances: restarts took {[round(t, 1) for t in restart_times]} s; "
          f"acknowledged chats {acked}, missing deliveries {missing}; disconnects of clients not on the "
          f"restarting instance: {len(work.misplaced_disconnects)}; rewinds: {rewinds(viewers)}; "
          f"command (chat round trip) p50 {p(lat, 50) * 1000:.1f} ms, p99 {p(lat, 99) * 1000:.1f} ms, "
          f"max {max(lat) * 1000:.1f} ms; last acknowledged position {seen}, final state {final}")
    slow = sorted(((ack - v.sent_chat[cid], v.sent_chat[cid], v.instance, v.room[:6]) for v in viewers
                   for cid, ack in v.acked_chat.items()), reverse=True)[:8]
    for lat_s, sent, where, room in slow:
        near = min(events, key=lambda e: abs(e[0] - sent))
        print(f"    slow ack {lat_s * 1000:.0f} ms, sent {sent - near[0]:+.2f} s from {near[1]} "
              f"(viewer now on {where}, room {room})")
    if missing:
        _explain_missing(viewers)
    assert acked > 200
    assert missing == 0
    assert work.misplaced_disconnects == []
    assert rewinds(viewers) == 0
    assert p(lat, 99) < PUBLISHED_P99_S * P99_MARGIN
    assert set(final.values()) == {seen}


async def test_b_sigkill_of_the_owner(cluster: ClusterProcesses) -> None:
    ids = [i.instance_id for i in cluster.instances]
    async with aiohttp.ClientSession() as session:
        viewers, rooms, apis = await make_viewers(session, cluster, per_instance=1, rooms=3)
        owners = {room: Ring(ids).owner(room) for room in rooms}
        victim = max(set(owners.values()), key=list(owners.values()).count)
        busy = [r for r, o in owners.items() if o == victim]
        survivors = [i for i in ids if i != victim]
        # Move the victim's viewers away first: this scenario is about the owner, not its sockets.
        for v in viewers:
            if v.instance == victim:
                await v.close()
                v.stopping = False
                await v.connect(survivors[0])
        controllers = [next(v for v in viewers if v.room == r) for r in rooms]
        work = Workload(viewers, controllers, survivors)
        work.start()
        await asyncio.sleep(2.0)
        before = {v.room: max((pos for _, pos in v.statuses), default=0.0) for v in viewers}
        inst = next(i for i in cluster.instances if i.instance_id == victim)
        killed_at = time.monotonic()
        inst.signal(signal.SIGKILL)
        await asyncio.to_thread(inst.wait, 10)
        await asyncio.sleep(TTL_S + 4.0)
        await work.stop()
        finals = {r: await current_position(apis[survivors[0]], controllers[i].token, r)
                  for i, r in enumerate(rooms)}

    recovery = {}
    for room in busy:
        acks_after = [ack for v in viewers if v.room == room for cid, ack in v.acked_chat.items()
                      if v.sent_chat[cid] > killed_at]
        recovery[room[:8]] = round(min(acks_after) - killed_at, 2) if acks_after else None
    seen = {r: max((pos for v in viewers if v.room == r for _, pos in v.statuses), default=0.0) for r in rooms}
    print(f"\n(b) SIGKILL of {victim}, owner of {len(busy)} busy rooms: commands accepted again after "
          f"{recovery} s (lease TTL {TTL_S} s); last acknowledged positions {seen}, after recovery {finals}; "
          f"positions before kill {before}")
    acked, missing = lost_acknowledged(viewers)
    print(f"    acknowledged chats {acked}, missing deliveries {missing}")
    if missing:
        _explain_missing(viewers)
    assert all(t is not None and t <= PUBLISHED_RECOVERY_S + RECOVERY_MARGIN_S for t in recovery.values()), recovery
    assert acked >= 100 and missing == 0
    for room in rooms:
        assert finals[room] == seen[room]


async def test_c_etcd_outage_moves_nothing(pg_server: PostgresServer, etcd: EtcdServer) -> None:
    procs = make_cluster(pg_server, etcd)
    procs.start()
    try:
        await procs.wait_ready()
        ids = [i.instance_id for i in procs.instances]
        async with aiohttp.ClientSession() as session:
            viewers, rooms, _ = await make_viewers(session, procs, per_instance=1, rooms=2)
            work = Workload(viewers, [next(v for v in viewers if v.room == r) for r in rooms], ids)
            work.start()
            await asyncio.sleep(1.0)
            owners_before = await owners_by_room(procs.instances, CLUSTER_SECRET)
            assert set(owners_before) == set(rooms)
            etcd.stop()
            outage = time.monotonic()
            await asyncio.sleep(30.0)
            etcd.start()
            restored = time.monotonic() - outage
            await asyncio.sleep(3.0)
            await work.stop()
            owners_after = await owners_by_room(procs.instances, CLUSTER_SECRET)
            handoffs = {i: await _metric(session, procs, i, "synctv_handoffs_total") for i in ids}
        acked, missing = lost_acknowledged(viewers)
        during = sum(1 for v in viewers for cid, ack in v.acked_chat.items() if v.sent_chat[cid] > outage)
        print(f"\n(c) etcd down for {restored:.1f} s: owners before {owners_before}, after {owners_after}; "
              f"handoffs {handoffs}; acknowledged chats {acked} ({during} after the outage began), "
              f"missing deliveries {missing}; misplaced disconnects {len(work.misplaced_disconnects)}")
        if missing:
            _explain_missing(viewers)
        assert owners_before == owners_after
        assert acked >= 300 and missing == 0 and work.misplaced_disconnects == []
        assert during > 100
        assert all(v == 0 for v in handoffs.values())
    finally:
        procs.stop()


async def test_d_slow_mesh_link_moves_nothing(pg_server: PostgresServer, etcd: EtcdServer) -> None:
    """Every mesh link slowed 200 ms in both directions: each instance is reached only through a proxy that
    holds every chunk (either way) 200 ms, so a command to a remote owner and its reply are both delayed."""
    procs = make_cluster(pg_server, etcd)
    proxies = []
    for inst in procs.instances:
        proxy_port, target_port = free_port(), free_port()
        inst.grpc_port = target_port
        inst.env["SYNCTV_CLUSTER_GRPC_PORT"] = str(target_port)
        inst.env["SYNCTV_CLUSTER_ADVERTISE_ADDRESS"] = f"127.0.0.1:{proxy_port}"
        proxies.append(await DelayProxy.start(proxy_port, target_port, delay=0.2))
    procs.start()
    try:
        await procs.wait_ready()
        ids = [i.instance_id for i in procs.instances]
        async with aiohttp.ClientSession() as session:
            viewers, rooms, _ = await make_viewers(session, procs, per_instance=1, rooms=3)
            work = Workload(viewers, [next(v for v in viewers if v.room == r) for r in rooms], ids)
            work.start()
            await asyncio.sleep(2.0)
            owners_before = await owners_by_room(procs.instances, CLUSTER_SECRET)
            assert set(owners_before) == set(rooms)
            await asyncio.sleep(12.0)
            await work.stop(drain=2.5)
            # Read the owners once they are settled: a room caught between two instances (a discovery lease
            # renewed late on these shared cores moves it away and back) is counted nowhere for a moment.
            owners_after: dict[str, str] = {}
            for _ in range(40):
                owners_after = await owners_by_room(procs.instances, CLUSTER_SECRET)
                if owners_after == owners_before:
                    break
                await asyncio.sleep(0.25)
        acked, missing = lost_acknowledged(viewers, grace=2.0)
        # A chat's round trip crosses the mesh when its room is owned elsewhere: there, both directions of the
        # link are delayed (>= 2 x 200 ms); a local owner answers at once.
        remote = [ack - v.sent_chat[cid] for v in viewers for cid, ack in v.acked_chat.items()
                  if owners_before[v.room] != v.instance]
        local = [ack - v.sent_chat[cid] for v in viewers for cid, ack in v.acked_chat.items()
                 if owners_before[v.room] == v.instance]
        print(f"\n(d) 200 ms added each way on every mesh link: owners unchanged room by room "
              f"{owners_before == owners_after}; acknowledged chats {acked}, missing deliveries {missing}; "
              f"chat round trip via a remote owner p50 {p(remote, 50) * 1000:.0f} ms, p99 "
              f"{p(remote, 99) * 1000:.0f} ms; via a local owner p50 {p(local, 50) * 1000:.0f} ms, "
              f"p99 {p(local, 99) * 1000:.0f} ms")
        if missing:
            _explain_missing(viewers)
        assert owners_before == owners_after
        assert acked >= 150 and missing == 0 and work.misplaced_disconnects == []
        assert remote and local and p(remote, 50) >= 0.4 > p(local, 50)  # both directions really delayed
        # One connection's messages share a command while the previous one is in flight, so a remote owner costs
        # one or two round trips, never a queue that grows with the link's delay.
        assert p(remote, 50) < 3 * MESH_RTT_S, p(remote, 50)
    finally:
        procs.stop()
        for proxy in proxies:
            await proxy.close()


async def test_e_two_believed_owners_only_one_commits(pg_server: PostgresServer, tmp_path: Any) -> None:
    """n1 believes it is alone; n2 believes the cluster is {n1, n2}. For a room the second view gives to n2,
    both would own it. Two guards stand in the way: membership (n1 refuses n2's mesh stream, so n2 cannot
    authenticate with the member it lists and is left out, owning nothing) and, behind it, the ownership epoch.
    Whichever acts, the database shows it: every committed write of the contest has one epoch and one writer."""
    from tests.support.cluster_harness import CLUSTER_SECRET, JWT_SECRET, Instance

    dsn = pg_server.create_database("e_" + uuid.uuid4().hex[:12])
    ports = {"n1": free_port(), "n2": free_port()}
    import os

    instances = []
    for iid, peers in (("n1", ""), ("n2", f"n1=127.0.0.1:{ports['n1']}")):
        env = dict(os.environ)
        env.update({"SYNCTV_DATABASE_TYPE": "postgres", "SYNCTV_DATABASE_CUSTOM_DSN": dsn,
                    "SYNCTV_JWT_SECRET": JWT_SECRET, "SYNCTV_CLUSTER_ENABLED": "true",
                    "SYNCTV_CLUSTER_INSTANCE_ID": iid, "SYNCTV_CLUSTER_SECRET": CLUSTER_SECRET,
                    "SYNCTV_CLUSTER_ADVERTISE_ADDRESS": "127.0.0.1", "SYNCTV_CLUSTER_GRPC_LISTEN": "127.0.0.1",
                    "SYNCTV_CLUSTER_GRPC_PORT": str(ports[iid]), "SYNCTV_CLUSTER_DISCOVERY_TYPE": "static",
                    "SYNCTV_CLUSTER_DISCOVERY_STATIC_PEERS": peers})
        instances.append(Instance(iid, free_port(), ports[iid], tmp_path / iid, env))
    for inst in instances:
        inst.start()
    try:
        async with aiohttp.ClientSession() as session:
            apis = {i.instance_id: Api(i.base, session) for i in instances}
            await _wait_up(session, instances)
            room = ""
            token = ""
            for k in range(20):  # a room that the two-member view gives to n2 (3 rooms per user at most)
                if k % 3 == 0:
                    token = await apis["n1"].signup(f"split{k}")
                candidate = await apis["n1"].create_room(token, f"split-{k}")
                if Ring(["n1", "n2"]).owner(candidate) == "n2":
                    room = candidate
                    break
            assert room
            a = Viewer("a", token, room, apis, "n1")
            b = Viewer("b", token, room, apis, "n2")
            await a.connect("n1")
            await b.connect("n2")
            # Read what is committed, straight from the database, all along: (epoch, position) of the row.
            rows: list[tuple[int, float]] = []
            reading = asyncio.Event()

            async def read_rows() -> None:
                import asyncpg

                conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://"))
                try:
                    while not reading.is_set():
                        row = await conn.fetchrow("SELECT owner_epoch, current FROM rooms WHERE id = $1", room)
                        if row is not None and row["current"]:
                            status = json.loads(row["current"]).get("status") or {}
                            rows.append((int(row["owner_epoch"]), float(status.get("currentTime", 0.0))))
                        await asyncio.sleep(0.01)
                finally:
                    await conn.close()

            reader = asyncio.create_task(read_rows())
            for k in range(40):
                await a.send_status(1000.0 + 2 * k)  # even positions: n1's believer
                await b.send_status(1001.0 + 2 * k)  # odd positions: n2's believer
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            reading.set()
            await reader
            fences = {i: await _metric_at(session, inst.base, "synctv_fence_rejections_total")
                      for i, inst in zip(("n1", "n2"), instances, strict=True)}
            left_out = {i: await _metric_at(session, inst.base, "synctv_cluster_left_out")
                        for i, inst in zip(("n1", "n2"), instances, strict=True)}
            committed = [(epoch, pos) for epoch, pos in rows if pos >= 1000.0]
            parities = {int(pos) % 2 for _, pos in committed}
            winner = "n1" if parities == {0} else "n2"
            final = {winner: await current_position(apis[winner], token, room)}
            status, body = await apis["n2" if winner == "n1" else "n1"].call(
                "GET", "/api/room/movie/current", token=token, room=room)
            await a.close()
            await b.close()
        epochs = {epoch for epoch, _ in committed}
        loser = "n2" if winner == "n1" else "n1"
        names = {0: "n1", 1: "n2"}
        print(f"\n(e) two instances with views that disagree on one room: left out {left_out}; fence rejections "
              f"{fences}; rows read back from the database {len(rows)}, with the contest's positions "
              f"{len(committed)}: epochs {sorted(epochs)}, writers {sorted(names[x] for x in parities)}; "
              f"errors seen by the refused side {len(a.errors) + len(b.errors)}; final positions {final}")
        # Every committed write of the contest came from one epoch and one writer...
        assert len(committed) >= 10 and len(epochs) == 1 and len(parities) == 1
        # ... the other side was stopped by a guard: left out of the membership, or fenced by the epoch.
        assert left_out[loser] == 1 or fences[loser] >= 1
        assert fences[winner] == 0
        # The refused side does not serve the room's live state (no stale copy): a retryable 503.
        assert status == 503 and body["error"], body
    finally:
        for inst in instances:
            inst.stop()


def _explain_missing(viewers: list[Viewer]) -> None:
    from tests.support.chaos_support import was_connected

    t0 = min(i.start for v in viewers for i in v.intervals)
    for sender in viewers:
        for cid, ack in sorted(sender.acked_chat.items(), key=lambda kv: kv[1]):
            sent = sender.sent_chat[cid]
            for v in viewers:
                if v is not sender and v.room == sender.room and was_connected(v, sent - 0.2, ack + 1.0) \
                        and cid not in v.received_chat:
                    iv = [(i.instance, round(i.start - t0, 2), round(i.end - t0, 2)) for i in v.intervals]
                    print(f"  missing {cid} sent {sent - t0:.2f} acked {ack - t0:.2f} by {sender.instance} "
                          f"at {v.name} on {iv}")
                    break


async def _wait_up(session: aiohttp.ClientSession, instances: list[Any]) -> None:
    deadline = time.monotonic() + 40
    for inst in instances:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(inst.base + "/live") as resp:
                    if resp.status == 200:
                        break
            assert time.monotonic() < deadline, inst.log()
            await asyncio.sleep(0.2)


async def _metric_at(session: aiohttp.ClientSession, base: str, name: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    async with session.get(base + "/metrics") as resp:
        text = await resp.text()
    total = 0.0
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name:
                total += s.value
    return total


async def _metric(session: aiohttp.ClientSession, procs: ClusterProcesses, iid: str, name: str) -> float:
    inst = next(i for i in procs.instances if i.instance_id == iid)
    return await _metric_at(session, inst.base, name)


async def _owned(session: aiohttp.ClientSession, procs: ClusterProcesses, iid: str) -> int:
    return int(await _metric(session, procs, iid, "synctv_rooms_owned"))


class DelayProxy:
    """A TCP proxy on loopback that holds every chunk `delay` seconds before forwarding it (both ways)."""

    def __init__(self, server: asyncio.AbstractServer) -> None:
        self.server = server

    @classmethod
    async def start(cls, listen_port: int, target_port: int, delay: float) -> DelayProxy:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

            async def pump() -> None:
                while True:
                    due, data = await queue.get()
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    if not data:
                        writer.close()
                        return
                    writer.write(data)
                    await writer.drain()

            task = asyncio.create_task(pump())
            try:
                while True:
                    data = await reader.read(65536)
                    queue.put_nowait((time.monotonic() + delay, data))
                    if not data:
                        break
                await task
            except (ConnectionError, asyncio.CancelledError):
                task.cancel()

        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            try:
                server_r, server_w = await asyncio.open_connection("127.0.0.1", target_port)
            except OSError:
                client_w.close()
                return
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w), return_exceptions=True)

        return cls(await asyncio.start_server(handle, "127.0.0.1", listen_port))

    async def close(self) -> None:
        self.server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2)
