"""Extra latency of a cross-instance STATUS compared with a same-instance one, measured side by side.

A 2-instance cluster (real processes, etcd, PostgreSQL). The sender and the "local" receivers connect to the
room's owner; the "remote" receivers connect to the other instance, so their copy crosses the mesh. All
clients live in this one process, so send and receive times come from the same clock.

    .venv/bin/python -m bench.cross_instance [--messages 600] [--receivers 20] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import aiohttp

from bench.common import summary_ms, table, write_json
from synctv._generated import message_pb2 as pb
from synctv.mesh.ring import Ring
from tests.support.api_client import Api
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer

T = pb.MessageType


async def measure(procs: ClusterProcesses, messages: int, receivers: int, rate: float) -> dict[str, object]:
    async with aiohttp.ClientSession() as session:
        apis = {inst.instance_id: Api(inst.base, session) for inst in procs.instances}
        first = next(iter(apis.values()))
        creator = await first.signup("bench-creator")
        room = await first.create_room(creator, "bench-" + uuid.uuid4().hex[:6])
        owner = Ring(apis).owner(room)
        other = next(i for i in apis if i != owner)
        sender = await apis[owner].ws(room, creator)
        tokens = [await first.signup(f"r{i}-{uuid.uuid4().hex[:6]}") for i in range(2 * receivers)]
        local = [await apis[owner].ws(room, t) for t in tokens[:receivers]]
        remote = [await apis[other].ws(room, t) for t in tokens[receivers:]]
        sent_at: dict[float, float] = {}
        lat: dict[str, list[float]] = {"same-instance": [], "cross-instance": []}

        async def reader(ws: object, kind: str) -> None:
            while True:
                msg = await ws.recv(timeout=30)  # type: ignore[attr-defined]
                if msg.type == T.STATUS:
                    t0 = sent_at.get(msg.playback_status.current_time)
                    if t0 is not None:
                        lat[kind].append(time.perf_counter() - t0)

        tasks = [asyncio.create_task(reader(w, "same-instance")) for w in local]
        tasks += [asyncio.create_task(reader(w, "cross-instance")) for w in remote]
        await asyncio.sleep(1.0)
        interval = 1.0 / rate
        for i in range(messages):
            position = 1000.0 + i  # unique, identifies the message
            sent_at[position] = time.perf_counter()
            await sender.send(pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                                         playback_status=pb.Status(is_playing=False, current_time=position,
                                                                   playback_rate=1.0)))
            await asyncio.sleep(interval)
        await asyncio.sleep(2.0)
        for t in tasks:
            t.cancel()
        same, cross = summary_ms(lat["same-instance"]), summary_ms(lat["cross-instance"])
        expected = messages * receivers
        return {
            "same_instance": same, "cross_instance": cross,
            "extra_p50_ms": cross["p50_ms"] - same["p50_ms"], "extra_p99_ms": cross["p99_ms"] - same["p99_ms"],
            "lost_same": expected - len(lat["same-instance"]), "lost_cross": expected - len(lat["cross-instance"]),
            "messages": messages, "receivers_per_side": receivers, "rate_per_s": rate,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--receivers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    pg = PostgresServer()
    pg.start()
    etcd = EtcdServer()
    etcd.start()
    procs = ClusterProcesses(2, pg.create_database("bench_" + uuid.uuid4().hex[:8]), etcd.endpoint,
                             extra_env={"SYNCTV_LOG_LEVEL": "warning"})
    try:
        procs.start()
        asyncio.run(procs.wait_ready())
        result = asyncio.run(measure(procs, args.messages, args.receivers, args.rate))
    finally:
        procs.stop()
        etcd.stop()
        pg.stop()
    rows = [dict(path="same-instance", **result["same_instance"]),  # type: ignore[arg-type]
            dict(path="cross-instance", **result["cross_instance"])]  # type: ignore[arg-type]
    print(table(rows, ["path", "n", "p50_ms", "p95_ms", "p99_ms", "mean_ms"]))
    print(f"cross-instance adds {result['extra_p50_ms']:.3f} ms at p50 and {result['extra_p99_ms']:.3f} ms at p99;"
          f" lost: same {result['lost_same']}, cross {result['lost_cross']}")
    print("wrote", write_json("cross_instance", result))


if __name__ == "__main__":
    main()
