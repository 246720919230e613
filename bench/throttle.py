"""What the cluster-wide rate limiter costs, and what one flooding user costs everybody else.

1. limiter: a 2-instance cluster (PostgreSQL, etcd) with `rate_limit` on (a budget too large to refuse
   anything) and off, alternately, each round on fresh processes. Requests come from 64 client addresses
   (`X-Forwarded-For`, trusted) spread over both instances, so some addresses are kept by the instance that
   receives them and some by the other. Prints server CPU per request on and off, and the difference.
2. flood: one instance; other users' REST latency (p50/p99 of `GET /api/room/movie/movies`) at idle, then
   while one user opens as many WebSockets as it may and sends chat as fast as it can. Prints the ratio.

    .venv/bin/python -m bench.throttle [--requests 4000] [--rounds 3] [--skip-limiter] [--skip-flood]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

import aiohttp

from bench.common import percentile, table, write_json
from bench.procs import proc_cpu, start_single
from synctv._generated import message_pb2 as pb
from tests.support.api_client import Api
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
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


async def flood(seconds: float) -> dict[str, Any]:
    dep = await start_single(2)  # its own process: the flooder must not share the server's event loop
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(dep.bases[0], session)
            victim, flooder = dep.tokens
            room = await api.create_room(victim, "quiet room")
            idle = await _latencies(api, victim, room, seconds, 20)
            froom = await api.create_room(flooder, "loud room")
            sockets = []
            for _ in range(64):  # as many as the limits let it open
                try:
                    sockets.append(await api.ws(froom, flooder))
                except aiohttp.WSServerHandshakeError:
                    break
            stop = asyncio.Event()
            sent = reconnects = 0

            async def spam(ws: Any) -> None:
                nonlocal sent, reconnects
                while not stop.is_set():
                    try:
                        await ws.send(pb.Message(type=pb.MessageType.CHAT, chat_content="spam" * 50))
                    except (ConnectionError, RuntimeError):
                        # Closed for flooding: come straight back, as an attacker would.
                        reconnects += 1
                        try:
                            ws = await api.ws(froom, flooder)
                        except aiohttp.WSServerHandshakeError:
                            await asyncio.sleep(0.01)
                        continue
                    sent += 1
                    if sent % 50 == 0:
                        await asyncio.sleep(0)

            tasks = [asyncio.create_task(spam(ws)) for ws in sockets]
            loaded = await _latencies(api, victim, room, seconds, 20)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for ws in sockets:
                await ws.close()
        cpu_s = dep.cpu()
    finally:
        dep.stop()
    p99_idle, p99_loaded = percentile(idle, 99), percentile(loaded, 99)
    return {"sockets": len(sockets), "chats_sent": sent, "reconnects": reconnects, "server_cpu_s": cpu_s,
            "idle_p50_ms": percentile(idle, 50) * 1000,
            "idle_p99_ms": p99_idle * 1000, "flood_p50_ms": percentile(loaded, 50) * 1000,
            "flood_p99_ms": p99_loaded * 1000, "p99_ratio": p99_loaded / p99_idle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--skip-limiter", action="store_true")
    parser.add_argument("--skip-flood", action="store_true")
    args = parser.parse_args()
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
    print("wrote", write_json("throttle", result))


if __name__ == "__main__":
    main()
