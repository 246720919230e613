"""Load harness: real `synctv serve` processes driven by many asyncio WebSocket clients in this process.

Deployments (each scenario gets fresh server processes so memory and CPU deltas are its own):
  single   one `synctv serve --data-dir D --port P` with the default config (SQLite)
  cluster  three instances sharing PostgreSQL, found through etcd; clients spread round-robin over them
  bare     `bench.bare_broadcast`, a bare aiohttp fan-out server (the limit), for the fan-out scenarios only

Scenarios:
  join      N users open a WebSocket to one room at the same moment
  flood     one room, V viewers, R messages/s (half CHAT from rotating viewers, half STATUS from the creator)
  create    HTTP POST /api/room/create at R rooms/s (an admin token: admins have no room limit)
  multiroom K rooms of M users, ~10 messages/s per room (half CHAT, half STATUS)
  hold      C concurrent viewers on one instance (rooms of 100), resident memory

Users are inserted into the database before the servers start, all with one precomputed bcrypt hash, and
their tokens are signed with the server's JWT secret: 5,000 signups at bcrypt cost 10 would take minutes and
measure bcrypt, not the WebSocket path. Everything after that is the real protocol: HTTP for room creation,
WebSocket upgrade with the token as subprotocol, protobuf binary frames.

Measurement: a unique id rides in every message (CHAT: chat_content "m<id>"; STATUS: current_time=<id>,
paused, so the server stores it unchanged). Send and receive times come from this process's clock.
Every receiver is checked against what it should have received (CHAT: every connection of the room including
the sender's; STATUS: all but the sending connection): missing ids are "lost", per-sender order inversions
"reordered". Server CPU comes from /proc/<pid>/stat (utime+stime), resident memory from /proc/<pid>/status.

    .venv/bin/python -m bench.load [--quick] [--deployments single,cluster,bare] [--scenarios join,flood,...]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from bench.clients import Meter
from bench.common import table, write_json
from bench.procs import ClusterBackends, raise_fd_limit, start_bare, start_cluster, start_single
from bench.scenarios import FULL, PLAN, QUICK, SCENARIOS, Sizes, users_needed

# Targets the results are reported against.
TARGET_P95_MS = 100.0
TARGET_P99_MS = 500.0
TARGET_EFFICIENCY = 0.7
TARGET_HOLD_BYTES = 1 << 30
# A join storm against the bare server (JWT check, subprotocol echo, one frame) in the same run.
TARGET_JOIN_P95_RATIO_SINGLE, TARGET_JOIN_CPU_RATIO_SINGLE = 2.0, 3.0
TARGET_JOIN_P95_RATIO_CLUSTER, TARGET_JOIN_CPU_RATIO_CLUSTER = 3.0, 4.0


# ------------------------------------------------------------------------------------------ the runner

async def run_one(kind: str, scenario: str, sz: Sizes, backends: ClusterBackends | None) -> dict[str, Any]:
    users = users_needed(scenario, sz) + 10
    if kind == "single":
        dep = await start_single(users)
    elif kind == "cluster":
        assert backends is not None
        dep = await start_cluster(backends, users)
    else:
        dep = await start_bare(users)
    try:
        await asyncio.sleep(1.0)  # let start-up work settle before the baseline marks
        meter = Meter(dep, backends if kind == "cluster" else None)
        return await asyncio.wait_for(SCENARIOS[scenario](dep, meter, sz), timeout=240)
    finally:
        await asyncio.to_thread(dep.stop)


def verdicts(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, r in results.items():
        if "latency" not in r or key.startswith("bare/") or key.endswith("/hold"):
            continue
        lat = r["latency"]
        out[key] = {
            "p95<100ms": lat["p95_ms"] < TARGET_P95_MS,
            "p99<500ms": lat["p99_ms"] < TARGET_P99_MS,
            "0 lost": r.get("lost", 0) == 0 and r.get("errors", 0) == 0,
        }
    for scen in ("flood", "multiroom"):
        ours, bare = results.get(f"single/{scen}"), results.get(f"bare/{scen}")
        if ours and bare and bare.get("deliveries_per_cpu_s"):
            eff = ours["deliveries_per_cpu_s"] / bare["deliveries_per_cpu_s"]
            out[f"fan-out efficiency/{scen}"] = {"value": eff, f">={TARGET_EFFICIENCY}": eff >= TARGET_EFFICIENCY}
    bare_join = results.get("bare/join")
    for kind, p95_max, cpu_max in (("single", TARGET_JOIN_P95_RATIO_SINGLE, TARGET_JOIN_CPU_RATIO_SINGLE),
                                   ("cluster", TARGET_JOIN_P95_RATIO_CLUSTER, TARGET_JOIN_CPU_RATIO_CLUSTER)):
        ours = results.get(f"{kind}/join")
        if not (ours and bare_join and "latency" in ours and "latency" in bare_join):
            continue
        p95_ratio = ours["latency"]["p95_ms"] / bare_join["latency"]["p95_ms"]
        cpu_ratio = ours["server_cpu_per_join_ms"] / bare_join["server_cpu_per_join_ms"]
        out[f"join ratio/{kind}"] = {"p95": p95_ratio, "cpu": cpu_ratio, f"p95<={p95_max:g}x": p95_ratio <= p95_max,
                                     f"cpu<={cpu_max:g}x": cpu_ratio <= cpu_max}
    hold = results.get("single/hold")
    if hold and "connections" in hold:
        out["single/hold"] = {"<1GiB": hold["server_rss_mib"] * 2**20 < TARGET_HOLD_BYTES,
                              "all open": hold["open_after_tick"] == hold["connections"],
                       "p99<500ms": hold["latency"]["p99_ms"] < TARGET_P99_MS,
                              "0 lost": hold.get("lost", 0) == 0 and hold.get("errors", 0) == 0}
        out["hold"] = {"viewers": hold["connections"], "open": hold["open_after_tick"],
                       "p99_ms": hold["latency"]["p99_ms"],
                       "rss_mib": hold["server_rss_mib"], "met": all(out["single/hold"].values())}
    return out


def rows_for(results: dict[str, dict[str, Any]], verdict: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, r in results.items():
        lat = r.get("latency", {})
        v = verdict.get(key, {})
        cpu = (r.get("server_cpu_per_delivery_us") or r.get("server_cpu_per_join_ms") or
               r.get("server_cpu_per_room_ms") or r.get("server_cpu_per_connect_ms"))
        unit = ("us/deliv" if "server_cpu_per_delivery_us" in r else "ms/join" if "server_cpu_per_join_ms" in r
                else "ms/room" if "server_cpu_per_room_ms" in r else "ms/conn")
        met = "" if not v else ("met" if all(v.values()) else
                               "MISSED " + ",".join(k for k, ok in v.items() if not ok))
        rows.append({
            "scenario": key, "conns": r.get("connections", r.get("requests", "")),
            "n": lat.get("n", ""), "p50_ms": lat.get("p50_ms", float("nan")),
            "p95_ms": lat.get("p95_ms", float("nan")), "p99_ms": lat.get("p99_ms", float("nan")),
            "lost": r.get("lost", ""), "errors": r.get("errors", ""),
            "cpu": f"{cpu:.1f} {unit}" if isinstance(cpu, float) else "",
            "rss/conn_KiB": r.get("rss_per_connection_kib", float("nan")),
            "rss_MiB": r.get("server_rss_mib", float("nan")),
            "harness_cpu": r.get("harness_cpu_util", float("nan")),
            "targets": met,
        })
    return rows


def run(quick: bool, deployments: list[str], scenarios: list[str] | None = None,
        log: Any = print) -> dict[str, Any]:
    sz = QUICK if quick else FULL
    fd_limit = raise_fd_limit()
    results: dict[str, dict[str, Any]] = {}
    backends: ClusterBackends | None = None
    started = time.monotonic()
    try:
        for kind in deployments:
            plan = [s for s in PLAN[kind] if scenarios is None or s in scenarios]
            if kind == "cluster" and plan:
                backends = ClusterBackends()
                backends.start()
            for scen in plan:
                key = f"{kind}/{scen}"
                log(f"[{time.monotonic() - started:6.1f}s] {key} ...")
                try:
                    results[key] = _run_async(run_one(kind, scen, sz, backends))
                except Exception as exc:
                    results[key] = {"failed": f"{type(exc).__name__}: {exc}"[:2000]}
                r = results[key]
                lat = r.get("latency", {})
                log(f"    p50 {lat.get('p50_ms', float('nan')):.2f} ms  p95 {lat.get('p95_ms', float('nan')):.2f} ms"
                    f"  p99 {lat.get('p99_ms', float('nan')):.2f} ms  lost {r.get('lost', '?')}"
                    f"  errors {r.get('errors', '?')}" + (f"  FAILED {r['failed']}" if "failed" in r else ""))
            if backends is not None:
                backends.stop()
                backends = None
    finally:
        if backends is not None:
            backends.stop()
    verdict = verdicts(results)
    return {"quick": quick, "sizes": sz.__dict__, "fd_limit": fd_limit, "elapsed_s": time.monotonic() - started,
            "results": results, "verdicts": verdict, "rows": rows_for(results, verdict)}


def _run_async(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


COLUMNS = ["scenario", "conns", "n", "p50_ms", "p95_ms", "p99_ms", "lost", "errors", "cpu", "rss/conn_KiB",
           "rss_MiB", "harness_cpu", "targets"]


def report(out: dict[str, Any]) -> str:
    lines = [table(out["rows"], COLUMNS), ""]
    for key, v in out["verdicts"].items():
        if key.startswith(("fan-out", "join ratio")) or key == "hold":
            lines.append(f"{key}: " + ", ".join(f"{k}={val:.3f}" if isinstance(val, float) else f"{k}={val}"
                                                 for k, val in v.items()))
    for key, r in out["results"].items():
        if key.endswith("/join") and "connections" in r:
            final = r["all_see_final_count_s"]
            lines.append(f"{key}: {r['connections']} sockets open after {r['all_connected_s']:.2f} s; "
                         + (f"all saw viewer count {r['connections']} after {final:.2f} s" if final is not None else
                            f"{r['never_saw_final_count']} never saw viewer count {r['connections']}")
                         + f" (last counts seen: {r['last_viewer_count_seen']})")
        if "failed" in r:
            lines.append(f"{key}: FAILED {r['failed'][:500]}")
        for s in r.get("error_samples", [])[:3]:
            lines.append(f"{key}: error: {s}")
        if r.get("server_log_problems"):
            lines.append(f"{key}: {r['server_log_problems']} warning/error lines in server logs, e.g.:")
            lines += [f"    {s}" for s in r.get("server_log_samples", [])[:4]]
        if r.get("server_exited"):
            lines.append(f"{key}: {r['server_exited']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller numbers, about 3 minutes")
    parser.add_argument("--deployments", default="single,cluster,bare")
    parser.add_argument("--scenarios", default=None, help="comma list of " + ",".join(SCENARIOS))
    args = parser.parse_args()
    scen = args.scenarios.split(",") if args.scenarios else None
    out = run(args.quick, args.deployments.split(","), scen)
    print(report(out))
    print("wrote", write_json("load-quick" if args.quick else "load", out))


if __name__ == "__main__":
    random.seed(1)
    main()
