"""One client process of the `hold` scenario: some of the rooms, with all of their viewers.

Ten thousand viewers are more than one asyncio client process can receive for while keeping its own send
schedule, so `hold` splits them over several of these. Each room lives in exactly one worker (its senders and
its receivers), so every latency is measured on one process's clock.

Talks to the harness over stdin/stdout, one JSON line each way per step:
  in: the job (bases, rooms, (client index, room, token) per viewer, rates)   out: {"connected": n, "failures": [...]}
  in: {"go": true}                                                              out: the result (latencies, loss)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bench.clients import Client, Stats, close_all, loss_report, new_session, pace, wait_drained


async def _readline() -> dict[str, Any]:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if not line:
        raise SystemExit(0)  # the harness went away
    out: dict[str, Any] = json.loads(line)
    return out


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def run() -> None:
    job = await _readline()
    bases: list[str] = job["bases"]
    rooms: list[str] = job["rooms"]
    stats = Stats()
    clients = [Client(int(idx), room, stats) for idx, room, _ in job["viewers"]]
    tokens = [str(tok) for _, _, tok in job["viewers"]]
    failures: list[str] = []
    async with new_session() as session:
        sem = asyncio.Semaphore(int(job["concurrency"]))

        async def connect(i: int, c: Client) -> None:
            async with sem:
                try:
                    await c.connect(session, bases[c.idx % len(bases)], tokens[i])
                except Exception as exc:
                    failures.append(f"client {c.idx}: connect failed: {type(exc).__name__} {exc}")
                    return
                deadline = time.perf_counter() + 30
                while c.first_vc is None and time.perf_counter() < deadline and c.task and not c.task.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.01)

        await asyncio.gather(*(connect(i, c) for i, c in enumerate(clients)))
        _say({"connected": sum(1 for c in clients if c.ws is not None), "failures": failures[:20],
              "failed": len(failures)})
        await _readline()  # go
        open_now = sum(1 for c in clients if c.ws is not None and not c.ws.closed)
        by_room: dict[str, list[Client]] = {}
        for c in clients:
            by_room.setdefault(c.room, []).append(c)
        room_msgs: dict[str, list[tuple[int, str, int]]] = {r: [] for r in rooms}
        count = int(len(rooms) * float(job["chat_seconds"]))

        async def send(i: int) -> None:
            room = rooms[i % len(rooms)]
            members = by_room.get(room) or []
            if not members:
                return
            sender = members[(i // len(rooms)) % len(members)]  # a different viewer each time
            mid = stats.new_id()
            stats.sender_of[mid] = sender.idx
            room_msgs[room].append((mid, "chat", sender.idx))
            stats.sent_at[mid] = time.perf_counter()
            try:
                await sender.send_chat(mid)
            except Exception as exc:
                stats.errors.append(f"client {sender.idx}: send failed: {type(exc).__name__} {exc}")

        lag = await pace(float(len(rooms)), count, send)  # each room chats at 1 message/s
        expected = sum(len(by_room.get(room, [])) * len(msgs) for room, msgs in room_msgs.items())
        await wait_drained(clients, stats, expected, timeout=15.0)
        loss = loss_report(clients, stats, room_msgs, status_to_sender=False)
        _say({"open_after_tick": open_now, "latencies": stats.latencies, "messages_sent": count,
              "sender_max_lag_s": lag, "errors": stats.errors[:20] + stats.closed[:20],
              "error_count": len(stats.errors) + len(stats.closed), **loss})
        await close_all(clients)


if __name__ == "__main__":
    asyncio.run(run())
