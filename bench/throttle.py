"""What the cluster-wide rate limiter costs, and what one flooding user costs everybody else.

1. limiter: a 2-instance cluster (PostgreSQL, etcd) with `rate_limit` on (a budget too large to refuse
   anything) and off, alternately, each round on fresh processes. Requests come from 64 client addresses
   (`X-Forwarded-For`, trusted) spread over both instances, so some addresses are kept by the instance that
   receives them and some by the other. Prints server CPU per request on and off, and the difference.
2. flood: one instance; other users' REST latency (p50/p99 of `GET /api/room/movie/movies`) at idle, then
   while one user opens as many WebSockets as it may and sends chat as fast as it can. Prints the ratio.
3. slots: what the cluster-wide WebSocket limits cost per upgrade: one slot of a user and one of an address
   taken and given back. (a) The single-instance path, in process. (b) Two instances in one process talking
   real gRPC on loopback, both keys kept by the other instance (an ask on upgrade, a batched report on close),
   8 upgrades in flight, and 64 (a join storm): the process's CPU covers both sides. (c) For scale, a
   2-instance cluster where every upgrade (open, first frame, close) goes to one instance and one room it owns,
   alternately with the keys kept by that instance ("local") and by the other ("remote"); both instances' CPU
   per upgrade.

    .venv/bin/python -m bench.throttle [--requests 4000] [--rounds 3] [--upgrades 1000]
                                       [--skip-limiter] [--skip-flood] [--skip-slots]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import percentile, table, write_json
from bench.procs import proc_cpu, start_single
from synctv._generated import message_pb2 as pb
from synctv.mesh.ring import Ring
from synctv.rooms.cluster.placement import Placement
from synctv.rooms.cluster.slots import REPORT_DELAY_S, ClusterSlots
from tests.support.api_client import Api
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.inprocess_cluster import InProcessCluster
from tests.support.pg_server import PostgresServer

ADDRESSES = [f"198.51.100.{i}" for i in range(64)]


async def _requests(bases: list[str], n: int) -> None:
    async with aiohttp.ClientSession() as session:
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> None:
            async with sem:
                headers = {"X-Forwarded-For": ADDRESSES[i % len(ADDRESSES)]}
                async with session.get(bases[i % len(bases)] + "/api/public/settings", headers=headers) as r:
                    assert r.status == 200, r.status
                    await r.read()

        await asyncio.gather(*(one(i) for i in range(n)))


def limiter_round(pg: PostgresServer, etcd: EtcdServer, enabled: bool, n: int) -> float:
    env = {"SYNCTV_RATE_LIMIT_ENABLE": "true" if enabled else "false", "SYNCTV_RATE_LIMIT_LIMIT": "1000000000",
           "SYNCTV_RATE_LIMIT_TRUST_FORWARD_HEADER": "true", "SYNCTV_LOG_LEVEL": "warning"}
    procs = ClusterProcesses(2, pg.create_database("thr_" + uuid.uuid4().hex[:8]), etcd.endpoint, extra_env=env)
    try:
        procs.start()
        asyncio.run(procs.wait_ready())
        bases = [i.base for i in procs.instances]
        asyncio.run(_requests(bases, 300))  # warm: connections, leases, JIT-free but cache-warm
        pids = [i.proc.pid for i in procs.instances if i.proc is not None]
        before = sum(proc_cpu(p) for p in pids)
        asyncio.run(_requests(bases, n))
        return (sum(proc_cpu(p) for p in pids) - before) / n
    finally:
        procs.stop()


async def _latencies(api: Api, token: str, room: str, seconds: float, rate: float) -> list[float]:
    out: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        await api.ok("GET", "/api/room/movie/movies", token=token, room=room)
        out.append(time.perf_counter() - t0)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - t0)))
    return out


async def _flooder(base: str, token: str, room: str) -> None:
    """The flooding user, in its own process (it must share neither the server's nor the measuring client's
    event loop): as many WebSockets as the limits let it open, chat as fast as it can, reconnecting when
    closed. Prints `ready` once its sockets are open and its counts as JSON when stdin closes. It runs at the
    lowest CPU priority: on a real deployment the attacker's CPU is not the server's, and here the two share
    one machine, so without it the figure would measure the scheduler, not the server."""
    import json
    import os
    import sys

    os.nice(19)

    async with aiohttp.ClientSession() as session:
        api = Api(base, session)
        sockets = []
        for _ in range(64):
            try:
                sockets.append(await api.ws(room, token))
            except aiohttp.WSServerHandshakeError:
                break
        stop = asyncio.Event()
        sent = reconnects = 0

        async def drain(ws: Any) -> None:
            # Reads what the server sends, so that a close is noticed (and the socket is never "too slow").
            while (await ws.ws.receive()).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                                                       aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                pass

        async def spam(ws: Any) -> None:
            nonlocal sent, reconnects
            reader = asyncio.ensure_future(drain(ws))
            while not stop.is_set():
                if reader.done():  # closed for flooding: come straight back, as an attacker would
                    await ws.ws.close()
                    try:
                        ws = await api.ws(room, token)
                        reconnects += 1
                    except aiohttp.WSServerHandshakeError:
                        await asyncio.sleep(0.01)
                        continue
                    reader = asyncio.ensure_future(drain(ws))
                try:
                    await ws.send(pb.Message(type=pb.MessageType.CHAT, chat_content="spam" * 50))
                except (ConnectionError, RuntimeError):
                    await asyncio.sleep(0.01)
                    continue
                sent += 1
                if sent % 50 == 0:
                    await asyncio.sleep(0)
            reader.cancel()

        tasks = [asyncio.create_task(spam(ws)) for ws in sockets]
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        print(json.dumps({"sockets": len(sockets), "chats_sent": sent, "reconnects": reconnects}), flush=True)


async def flood(seconds: float) -> dict[str, Any]:
    import json
    import sys

    dep = await start_single(2)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(dep.bases[0], session)
            victim, flooder = dep.tokens
            room = await api.create_room(victim, "quiet room")
            idle = await _latencies(api, victim, room, seconds, 20)
            froom = await api.create_room(flooder, "loud room")
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.throttle", "--flooder", dep.bases[0], flooder, froom,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            assert proc.stdin is not None and proc.stdout is not None
            assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
            loaded = await _latencies(api, victim, room, seconds, 20)
            proc.stdin.close()
            counts = json.loads((await asyncio.wait_for(proc.stdout.readline(), 60)).decode())
            await proc.wait()
        cpu_s = dep.cpu()
    finally:
        dep.stop()
    p99_idle, p99_loaded = percentile(idle, 99), percentile(loaded, 99)
    return {**counts, "server_cpu_s": cpu_s,
            "idle_p50_ms": percentile(idle, 50) * 1000,
            "idle_p99_ms": p99_idle * 1000, "flood_p50_ms": percentile(loaded, 50) * 1000,
            "flood_p99_ms": p99_loaded * 1000, "p99_ratio": p99_loaded / p99_idle}


def local_slots_us(n: int = 100_000) -> float:
    """CPU per acquire + release of a user's and an address's slot on a single instance (no mesh)."""
    router: Any = argparse.Namespace(placement=Placement("solo"), mesh=None, instance_id="solo")
    slots = ClusterSlots(router)
    wants = [("ws-user:u", 1_000_000), ("ws-address:198.51.100.1", 1_000_000)]
    keys = [k for k, _ in wants]

    async def run() -> float:
        t0 = time.process_time()
        for _ in range(n):
            assert await slots.acquire(wants) is None
            slots.release(keys)
        return (time.process_time() - t0) / n

    return asyncio.run(run()) * 1e6


async def _remote_slots(data_dir: Path, n: int, in_flight: int = 8) -> float:
    cl = await InProcessCluster.start(data_dir, "n1", "n2", transport="grpc")
    try:
        edge = cl.nodes["n1"].router.slots
        for _ in range(200):  # mutual authentication, then both are in each other's ring
            if all(len(node.router.members()) == 2 for node in cl.nodes.values()):
                break
            await asyncio.sleep(0.05)
        users = [k for k in (f"ws-user:{i}" for i in range(4000)) if edge.owner(k) == "n2"][:64]
        addresses = [k for k in (f"ws-address:203.0.113.{i}" for i in range(256)) if edge.owner(k) == "n2"][:64]
        sem = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with sem:
                wants = [(users[i % len(users)], 1_000_000), (addresses[i % len(addresses)], 1_000_000)]
                assert await edge.acquire(wants) is None
                edge.release(k for k, _ in wants)

        await asyncio.gather(*(one(i) for i in range(200)))  # warm
        await asyncio.sleep(REPORT_DELAY_S * 4)
        t0 = time.process_time()
        await asyncio.gather(*(one(i) for i in range(n)))
        await asyncio.sleep(REPORT_DELAY_S * 4)  # the closes' reports are part of the cost
        cost = (time.process_time() - t0) / n
        assert cl.nodes["n2"].router.slots.book.keys() == []  # every slot came back
        return cost * 1e6
    finally:
        await cl.stop()


async def _signup_kept_by(api: Api, ring: Ring, owner: str) -> tuple[str, str]:
    for i in range(200):
        token = await api.signup(f"s{i}-{uuid.uuid4().hex[:6]}")
        uid = str((await api.me(token))["id"])
        if ring.owner(f"slot:ws-user:{uid}") == owner:
            return token, uid
    raise RuntimeError("no user kept by " + owner)


async def _upgrades(base: str, token: str, room: str, addresses: list[str], n: int) -> None:
    url = base.replace("http", "ws", 1) + f"/api/room/ws?roomId={room}"
    async with aiohttp.ClientSession() as session:
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem, session.ws_connect(url, protocols=(token,), autoping=True,
                                               headers={"X-Forwarded-For": addresses[i % len(addresses)]}) as ws:
                await ws.receive(timeout=10)  # the first frame: the upgrade is through

        await asyncio.gather(*(one(i) for i in range(n)))


async def _slot_rounds(procs: ClusterProcesses, rounds: int, n: int) -> list[dict[str, Any]]:
    ring = Ring(["n1", "n2"])
    base = procs.instances[0].base
    async with aiohttp.ClientSession() as session:
        api = Api(base, session)
        local_user, _ = await _signup_kept_by(api, ring, "n1")
        remote_user, _ = await _signup_kept_by(api, ring, "n2")
        creator = await api.signup("slots-" + uuid.uuid4().hex[:6])  # both users join as plain members
        room = ""
        for i in range(200):
            room = await api.create_room(creator, f"slots {i}")
            if ring.owner(room) == "n1":
                break
    candidates = [f"203.0.113.{i}" for i in range(256)]
    addresses = {"local": [a for a in candidates if ring.owner(f"slot:ws-address:{a}") == "n1"][:64],
                 "remote": [a for a in candidates if ring.owner(f"slot:ws-address:{a}") == "n2"][:64]}
    users = {"local": local_user, "remote": remote_user}
    pids = [i.proc.pid for i in procs.instances if i.proc is not None]
    rows: list[dict[str, Any]] = []
    for mode in ("local", "remote"):  # warm both paths
        await _upgrades(base, users[mode], room, addresses[mode], 100)
    for r in range(rounds):
        for mode in ("local", "remote"):
            before = sum(proc_cpu(p) for p in pids)
            await _upgrades(base, users[mode], room, addresses[mode], n)
            await asyncio.sleep(REPORT_DELAY_S * 4)  # the closes' reports are part of the cost
            rows.append({"round": r + 1, "slot_keys": mode,
                         "us_per_upgrade": (sum(proc_cpu(p) for p in pids) - before) / n * 1e6})
    return rows


def slots_bench(rounds: int, n: int) -> dict[str, Any]:
    single = local_slots_us()
    print(f"single instance: {single:.1f} us of CPU per upgrade (acquire + release of a user and an address slot)")
    with tempfile.TemporaryDirectory() as tmp:
        remote_rows = [{"round": r + 1, "in_flight": k,
                        "us_per_upgrade": asyncio.run(_remote_slots(Path(tmp) / f"d{r}-{k}", n, k))}
                       for r in range(rounds) for k in (8, 64)]
    grpc_us = statistics.median(x["us_per_upgrade"] for x in remote_rows if x["in_flight"] == 8)
    storm_us = statistics.median(x["us_per_upgrade"] for x in remote_rows if x["in_flight"] == 64)
    print(table(remote_rows, ["round", "in_flight", "us_per_upgrade"]))
    print(f"keys kept by the other instance (gRPC, both sides): {grpc_us:.1f} us of CPU per upgrade (median, 8 in "
          f"flight), {storm_us:.1f} us (64 in flight)")
    pg, etcd = PostgresServer(), EtcdServer()
    pg.start()
    etcd.start()
    env = {"SYNCTV_ROOMS_MAX_CONNECTIONS_PER_USER": "1000000", "SYNCTV_ROOMS_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
           "SYNCTV_RATE_LIMIT_TRUST_FORWARD_HEADER": "true", "SYNCTV_LOG_LEVEL": "warning"}
    procs = ClusterProcesses(2, pg.create_database("slots_" + uuid.uuid4().hex[:8]), etcd.endpoint, extra_env=env)
    try:
        procs.start()
        asyncio.run(procs.wait_ready())
        rows = asyncio.run(_slot_rounds(procs, rounds, n))
    finally:
        procs.stop()
        etcd.stop()
        pg.stop()
    local = statistics.median(x["us_per_upgrade"] for x in rows if x["slot_keys"] == "local")
    remote = statistics.median(x["us_per_upgrade"] for x in rows if x["slot_keys"] == "remote")
    rows.append({"round": "median", "slot_keys": "remote - local", "us_per_upgrade": remote - local})
    print(table(rows, ["round", "slot_keys", "us_per_upgrade"]))
    print(f"whole upgrades on a 2-instance cluster: median {local:.1f} us with the keys kept locally, {remote:.1f} us "
          f"kept by the other instance")
    print(f"cluster-wide WebSocket limits: {single:.1f} us per upgrade on one instance, {grpc_us:.1f} us when the "
          f"keys are kept by another instance ({storm_us:.1f} us in a join storm)")
    return {"single_us": single, "grpc_rows": remote_rows, "grpc_us": grpc_us, "storm_us": storm_us, "rows": rows,
            "local_us": local, "remote_us": remote}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--skip-limiter", action="store_true")
    parser.add_argument("--skip-flood", action="store_true")
    parser.add_argument("--flooder", nargs=3, metavar=("BASE", "TOKEN", "ROOM"), help=argparse.SUPPRESS)
    parser.add_argument("--upgrades", type=int, default=1000)
    parser.add_argument("--skip-slots", action="store_true")
    args = parser.parse_args()
    if args.flooder:
        asyncio.run(_flooder(*args.flooder))
        return
    result: dict[str, Any] = {}
    if not args.skip_limiter:
        pg, etcd = PostgresServer(), EtcdServer()
        pg.start()
        etcd.start()
        rows: list[dict[str, Any]] = []
        try:
            for r in range(args.rounds):
                for enabled in (False, True):
                    cpu = limiter_round(pg, etcd, enabled, args.requests)
                    rows.append({"round": r + 1, "limiter": "on" if enabled else "off", "us_per_request": cpu * 1e6})
        finally:
            etcd.stop()
            pg.stop()
        on = statistics.median(x["us_per_request"] for x in rows if x["limiter"] == "on")
        off = statistics.median(x["us_per_request"] for x in rows if x["limiter"] == "off")
        rows.append({"round": "median", "limiter": "on - off", "us_per_request": on - off})
        print(table(rows, ["round", "limiter", "us_per_request"]))
        print(f"cluster-wide rate limiter: {on - off:.1f} us of server CPU per request "
              f"(median on {on:.1f}, off {off:.1f})")
        result["limiter"] = {"rows": rows, "on_us": on, "off_us": off, "cost_us": on - off}
    if not args.skip_flood:
        f = asyncio.run(flood(args.flood_seconds))
        print(table([f], ["sockets", "chats_sent", "reconnects", "idle_p50_ms", "idle_p99_ms", "flood_p50_ms",
                          "flood_p99_ms", "p99_ratio"]))
        result["flood"] = f
    if not args.skip_slots:
        result["slots"] = slots_bench(args.rounds, args.upgrades)
    print("wrote", write_json("throttle", result))


if __name__ == "__main__":
    main()
