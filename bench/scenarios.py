"""Load scenarios and their sizes (full and --quick).

  join      N users open a WebSocket to one room at the same moment
  flood     one room, V viewers, R messages/s (half CHAT from rotating viewers, half STATUS from the creator)
  create    HTTP POST /api/room/create at R rooms/s (an admin token: admins have no room limit)
  multiroom K rooms of M users, ~10 messages/s per room (half CHAT, half STATUS)
  hold      C concurrent viewers on one instance (rooms of 100), resident memory

`PLAN` says which scenarios run on which deployment: `hold` on one instance only, the bare server the fan-out
scenarios only.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from asyncio.subprocess import PIPE
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.clients import (
    Client,
    Meter,
    Stats,
    close_all,
    connect_all,
    loss_report,
    make_rooms,
    new_session,
    pace,
    wait_drained,
)
from bench.common import summary_ms
from bench.procs import Deployment


@dataclass(frozen=True)
class Sizes:
    join_users: int = 1000
    flood_viewers: int = 200
    flood_rate: float = 100.0
    flood_seconds: float = 20.0
    create_rate: float = 100.0
    create_seconds: float = 10.0
    multi_rooms: int = 10
    multi_users: int = 100
    multi_rate_per_room: float = 10.0
    multi_seconds: float = 20.0
    hold_viewers: int = 10000
    hold_chat_seconds: float = 10.0
    hold_workers: int = 4


FULL = Sizes()
QUICK = Sizes(join_users=300, flood_viewers=100, flood_seconds=6.0, create_rate=50.0, create_seconds=4.0,
              multi_rooms=5, multi_users=50, multi_seconds=6.0, hold_viewers=1000,
              hold_chat_seconds=4.0, hold_workers=2)


def _finish(result: dict[str, Any], dep: Deployment, stats: Stats | None, connect_failures: list[str]) -> None:
    errors = list(connect_failures)
    if stats is not None:
        errors += stats.errors + stats.closed
    result["errors"] = len(errors)
    result["error_samples"] = errors[:8]
    n, lines = dep.problems()
    result["server_log_problems"] = n
    result["server_log_samples"] = lines
    result["server_exited"] = dep.alive()


async def scenario_join(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    n = sz.join_users
    stats = Stats()
    async with new_session() as session:
        (room,) = await make_rooms(dep, session, 1)
        clients = [Client(i, room, stats) for i in range(n)]
        for c in clients:
            c.final_count = n
        rss0 = dep.rss()
        m0 = meter.mark()
        started_utc = time.strftime("%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        t0 = time.perf_counter()
        failures = await connect_all(dep, session, clients, list(range(n)), concurrency=n, wait_vc=False)
        connected = time.perf_counter()
        bare = dep.kind == "bare"  # the bare server sends one count per join, never a final broadcast
        deadline = t0 + 30 + 10  # connect, then at least a couple of 5 s viewer-count ticks
        while time.perf_counter() < deadline:
            if all((c.first_vc if bare else c.vc_final_at) is not None or (c.task is not None and c.task.done())
                   or c.ws is None for c in clients):
                break
            await asyncio.sleep(0.05)
        m1 = meter.mark()
        rss1 = dep.rss()
        first = [c.first_vc - t0 for c in clients if c.first_vc is not None]
        finals = [c.vc_final_at - t0 for c in clients if c.vc_final_at is not None]
        result: dict[str, Any] = {
            "connections": n, "latency": summary_ms(first), "what_latency_is": "join start -> first VIEWER_COUNT",
            "storm_started_utc": started_utc,
            "all_connected_s": connected - t0,
            "all_see_final_count_s": max(finals) if len(finals) == n else None,
            "never_saw_final_count": n - len(finals),
            "never_got_viewer_count": n - len(first),
            "last_viewer_count_seen": dict(sorted(Counter(c.vc for c in clients).most_common(5))),
            "lost": n - len(first) if bare else n - len(finals),
            "server_cpu_per_join_ms": Meter.delta(m0, m1)["server_cpu_s"] / max(1, len(first)) * 1000,
            "rss_per_connection_kib": (rss1 - rss0) / max(1, len(first)) / 1024,
            "server_rss_mib": rss1 / 2**20,
            **Meter.delta(m0, m1),
        }
        await close_all(clients)
    _finish(result, dep, stats, failures)
    return result


async def _broadcast_run(dep: Deployment, meter: Meter, rooms_n: int, per_room: int, rate_total: float,
                         seconds: float) -> dict[str, Any]:
    """Shared by flood (1 room) and multiroom: connect, then send alternating CHAT/STATUS at rate_total."""
    stats = Stats()
    bare = dep.kind == "bare"
    async with new_session() as session:
        rooms = await make_rooms(dep, session, rooms_n)
        clients: list[Client] = []
        users: list[int] = []
        # In room r, the first client is the creator (user r, sends STATUS); the others are users after the
        # creators. Clients are interleaved across rooms so each room is spread over the instances.
        creators: list[Client] = []
        members: dict[str, list[Client]] = {r: [] for r in rooms}
        next_user = rooms_n
        for k in range(per_room):
            for r, room in enumerate(rooms):
                c = Client(len(clients), room, stats)
                clients.append(c)
                if k == 0:
                    users.append(r)
                    creators.append(c)
                else:
                    users.append(next_user)
                    next_user += 1
                members[room].append(c)
        rss0 = dep.rss()
        t_connect = time.perf_counter()
        failures = await connect_all(dep, session, clients, users, concurrency=100)
        connect_s = time.perf_counter() - t_connect
        await asyncio.sleep(1.0)
        rss1 = dep.rss()
        room_msgs: dict[str, list[tuple[int, str, int]]] = {r: [] for r in rooms}
        chat_turn = dict.fromkeys(rooms, 0)
        count = int(rate_total * seconds)

        async def send(i: int) -> None:
            r = i % rooms_n
            room = rooms[r]
            mid = stats.new_id()
            if (i // rooms_n) % 2 == 0:
                sender = creators[r]
                kind = "status"
            else:
                group = members[room]
                sender = group[chat_turn[room] % len(group)]
                chat_turn[room] += 1
                kind = "chat"
            stats.sender_of[mid] = sender.idx
            room_msgs[room].append((mid, kind, sender.idx))
            stats.sent_at[mid] = time.perf_counter()
            try:
                if kind == "status":
                    await sender.send_status(mid)
                else:
                    await sender.send_chat(mid)
            except Exception as exc:
                stats.errors.append(f"client {sender.idx}: send failed: {type(exc).__name__} {exc}")

        m0 = meter.mark()
        lag = await pace(rate_total, count, send)
        expected = sum(
            sum(1 for c in members[room] if not (kind == "status" and s == c.idx and not bare))
            for room in rooms for _mid, kind, s in room_msgs[room])
        await wait_drained(clients, stats, expected, timeout=10.0)
        m1 = meter.mark()
        loss = loss_report(clients, stats, room_msgs, status_to_sender=bare)
        d = Meter.delta(m0, m1)
        result: dict[str, Any] = {
            "connections": len(clients), "rooms": rooms_n, "messages_sent": count, "rate_per_s": rate_total,
            "latency": summary_ms(stats.latencies), "what_latency_is": "send -> receive, every delivery",
            **loss,
            "server_cpu_per_delivery_us": d["server_cpu_s"] / max(1, stats.delivered) * 1e6,
            "deliveries_per_cpu_s": stats.delivered / d["server_cpu_s"] if d["server_cpu_s"] > 0 else float("nan"),
            "rss_per_connection_kib": (rss1 - rss0) / max(1, len(clients)) / 1024,
            "server_rss_mib": dep.rss() / 2**20,
            "connect_s": connect_s, "sender_max_lag_ms": lag * 1000,
            **d,
        }
        await close_all(clients)
    _finish(result, dep, stats, failures)
    return result


async def scenario_flood(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    return await _broadcast_run(dep, meter, 1, sz.flood_viewers, sz.flood_rate, sz.flood_seconds)


async def scenario_multiroom(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    return await _broadcast_run(dep, meter, sz.multi_rooms, sz.multi_users, sz.multi_rate_per_room * sz.multi_rooms,
                                sz.multi_seconds)


async def scenario_create(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    count = int(sz.create_rate * sz.create_seconds)
    lat: list[float] = []
    failures: list[str] = []
    bases = dep.bases
    tag = uuid.uuid4().hex[:6]
    async with new_session() as session:
        async def one(i: int) -> None:
            t0 = time.perf_counter()
            try:
                async with session.post(bases[i % len(bases)] + "/api/room/create",
                                        headers={"Authorization": dep.admin_token},
                                        json={"roomName": f"c{tag}-{i}", "password": "",
                                              "settings": {"hidden": False}}) as resp:
                    body = await resp.read()
                    if resp.status != 201:
                        failures.append(f"create {i}: HTTP {resp.status} {body[:200]!r}")
                        return
            except Exception as exc:
                failures.append(f"create {i}: {type(exc).__name__} {exc}")
                return
            lat.append(time.perf_counter() - t0)

        tasks: list[asyncio.Task[None]] = []

        async def launch(i: int) -> None:
            tasks.append(asyncio.create_task(one(i)))

        m0 = meter.mark()
        lag = await pace(sz.create_rate, count, launch)
        await asyncio.gather(*tasks)
        m1 = meter.mark()
    d = Meter.delta(m0, m1)
    result: dict[str, Any] = {
        "requests": count, "rate_per_s": sz.create_rate, "created": len(lat),
        "achieved_per_s": len(lat) / d["wall_s"] if d["wall_s"] > 0 else float("nan"),
        "latency": summary_ms(lat), "what_latency_is": "POST /api/room/create round trip",
        "lost": count - len(lat),
        "server_cpu_per_room_ms": d["server_cpu_s"] / max(1, len(lat)) * 1000,
        "sender_max_lag_ms": lag * 1000, **d,
    }
    _finish(result, dep, None, failures)
    return result


async def _worker(job: dict[str, Any]) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.hold_worker", stdin=PIPE, stdout=PIPE,
                                                limit=1 << 26)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write((json.dumps(job) + "\n").encode())
    await proc.stdin.drain()
    return proc, json.loads(await proc.stdout.readline())


async def scenario_hold(dep: Deployment, meter: Meter, sz: Sizes) -> dict[str, Any]:
    """Viewers are spread over `hold_workers` client processes, each with whole rooms (their senders and their
    receivers), so that one client process's receive load never becomes the latency being measured."""
    n = sz.hold_viewers
    per_room = 100
    rooms_n = max(1, (n + per_room - 1) // per_room)
    async with new_session() as session:
        rooms = await make_rooms(dep, session, rooms_n)
    await asyncio.sleep(0.5)
    rss0 = dep.rss()
    m0 = meter.mark()
    workers = max(1, min(sz.hold_workers, rooms_n))
    jobs = []
    for w in range(workers):
        mine = list(range(w, rooms_n, workers))  # client k sits in room k % rooms_n; user k is its user
        viewers = [(k, rooms[k % rooms_n], dep.tokens[k]) for k in range(n) if k % rooms_n in mine]
        jobs.append({"bases": dep.bases, "rooms": [rooms[r] for r in mine], "viewers": viewers,
                     "concurrency": max(1, 200 // workers), "chat_seconds": sz.hold_chat_seconds})
    started = await asyncio.gather(*(_worker(job) for job in jobs))
    m1 = meter.mark()
    await asyncio.sleep(6.0)  # a viewer-count tick with everyone connected
    rss1 = dep.rss()
    for proc, _ in started:  # everyone alive and served: every room chats at 1 message/s
        assert proc.stdin is not None
        proc.stdin.write(b'{"go": true}\n')
        await proc.stdin.drain()
    results = []
    for proc, _ in started:
        assert proc.stdout is not None and proc.stdin is not None
        results.append(json.loads(await proc.stdout.readline()))
        proc.stdin.close()
    for proc, _ in started:
        await proc.wait()
    latencies = [x for r in results for x in r["latencies"]]
    open_now = sum(r["open_after_tick"] for r in results)
    d = Meter.delta(m0, m1)
    result: dict[str, Any] = {
        "connections": n, "open_after_tick": open_now, "rooms": rooms_n, "client_processes": workers,
        "server_rss_mib": rss1 / 2**20, "server_rss_before_mib": rss0 / 2**20,
        "rss_per_connection_kib": (rss1 - rss0) / max(1, open_now) / 1024,
        "connect_s": d["wall_s"], "server_cpu_per_connect_ms": d["server_cpu_s"] / max(1, n) * 1000,
        "latency": summary_ms(latencies),
        "what_latency_is": "send -> receive of every delivery, each room chatting at 1 message/s",
        "messages_sent": sum(r["messages_sent"] for r in results),
        "sender_max_lag_ms": max(r["sender_max_lag_s"] for r in results) * 1000,
        **{k: sum(r[k] for r in results) for k in ("expected", "delivered", "lost", "duplicates", "reordered",
                                                   "unexpected")},
    }
    errors = [e for _, hello in started for e in hello["failures"]] + [e for r in results for e in r["errors"]]
    result["errors"] = sum(hello["failed"] for _, hello in started) + sum(r["error_count"] for r in results)
    result["error_samples"] = errors[:8]
    count, lines = dep.problems()
    result["server_log_problems"] = count
    result["server_log_samples"] = lines
    result["server_exited"] = dep.alive()
    return result


SCENARIOS = {"join": scenario_join, "flood": scenario_flood, "create": scenario_create,
             "multiroom": scenario_multiroom, "hold": scenario_hold}


def users_needed(scenario: str, s: Sizes) -> int:
    return {"join": s.join_users, "flood": s.flood_viewers, "create": 1, "multiroom": s.multi_rooms * s.multi_users,
            "hold": s.hold_viewers}[scenario]


# Which scenarios run on which deployment.
PLAN = {"single": ["join", "flood", "create", "multiroom", "hold"],
        "cluster": ["join", "flood", "create", "multiroom"],
        "bare": ["join", "flood", "multiroom"]}
