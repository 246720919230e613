"""Extra latency of a cross-instance STATUS compared with a same-instance one, measured side by side.

A 2-instance cluster (real processes, etcd, PostgreSQL). The sender and the "local" receivers connect to the
room's owner; the "remote" receivers connect to the other instance, so their copy crosses the mesh. All
clients live in this one process, so send and receive times come from the same clock.

server_cpu_ms_per_cmd: utime+stime (/proc/<pid>/stat) of both server processes, from the first STATUS sent
until every copy has arrived (at most 2 s after the last send), divided by the number of STATUS messages sent.
Each command is fanned out to every receiver on both sides, so it includes that fan-out.

--code DIR runs the servers from another checkout (e.g. a git worktree of an older commit): they start with
PYTHONPATH=DIR and DIR as working directory, so DIR's `synctv` package wins over this tree's. Before the
servers start, the same interpreter with the same environment and directory reports which `synctv` package it
imports (and the checkout's commit), and the run stops if that package is not inside DIR.

--compare OLD_DIR runs --rounds N rounds (default 3) of each code, alternating the current tree (or --code)
and OLD_DIR: new, old, new, old, ... Every run gets fresh server processes, a fresh database and its own etcd
prefix; PostgreSQL and etcd are shared by all runs. Both instances of one cluster always run the same code, so
only the clients' wire protocol has to match between the two checkouts. The table has a row per run, then the
medians per code and the ratios new/old (cross p50, cross p99, CPU per command).

    .venv/bin/python -m bench.cross_instance [--messages 600] [--receivers 20] [--rate 100] [--code DIR]
    .venv/bin/python -m bench.cross_instance --compare OLD_DIR [--rounds 3] [--code DIR] [--messages ...]

Results go to bench/results/cross_instance.json (cross_instance-compare.json for --compare).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import summary_ms, table, write_json
from bench.procs import ROOT, proc_cpu
from synctv._generated import message_pb2 as pb
from synctv.mesh.ring import Ring
from tests.support.api_client import Api
from tests.support.cluster_harness import ClusterProcesses
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer

T = pb.MessageType

ROUND_COLUMNS = ["round", "code", "cross_p50_ms", "cross_p99_ms", "same_p50_ms", "same_p99_ms", "extra_p50_ms",
                 "extra_p99_ms", "lost_same/cross", "server_cpu_ms_per_cmd"]


def server_pids(procs: ClusterProcesses) -> list[int]:
    return [inst.proc.pid for inst in procs.instances if inst.proc is not None]


async def measure(procs: ClusterProcesses, messages: int, receivers: int, rate: float) -> dict[str, Any]:
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
        expected = messages * receivers
        pids = server_pids(procs)
        interval = 1.0 / rate
        cpu0, wall0 = sum(proc_cpu(p) for p in pids), time.perf_counter()
        for i in range(messages):
            position = 1000.0 + i  # unique, identifies the message
            sent_at[position] = time.perf_counter()
            await sender.send(pb.Message(type=T.STATUS, timestamp=int(time.time() * 1000),
                                         playback_status=pb.Status(is_playing=False, current_time=position,
                                                                   playback_rate=1.0)))
            await asyncio.sleep(interval)
        # The phase ends with the last copy, so idle time after it does not dilute the CPU per command.
        deadline = time.perf_counter() + 2.0
        while (min(len(v) for v in lat.values()) < expected  # noqa: ASYNC110
               and time.perf_counter() < deadline):
            await asyncio.sleep(0.01)
        cpu1, wall1 = sum(proc_cpu(p) for p in pids), time.perf_counter()
        for t in tasks:
            t.cancel()
        same, cross = summary_ms(lat["same-instance"]), summary_ms(lat["cross-instance"])
        return {
            "same_instance": same, "cross_instance": cross,
            "extra_p50_ms": cross["p50_ms"] - same["p50_ms"], "extra_p99_ms": cross["p99_ms"] - same["p99_ms"],
            "lost_same": expected - len(lat["same-instance"]), "lost_cross": expected - len(lat["cross-instance"]),
            "messages": messages, "receivers_per_side": receivers, "rate_per_s": rate,
            "server_cpu_s": cpu1 - cpu0, "message_phase_s": wall1 - wall0,
            "server_cpu_ms_per_cmd": (cpu1 - cpu0) * 1000 / max(1, messages),
        }


def server_env(code: Path, etcd_prefix: str) -> dict[str, str]:
    return {"SYNCTV_LOG_LEVEL": "warning", "PYTHONPATH": str(code),
            "SYNCTV_CLUSTER_DISCOVERY_ETCD_PREFIX": etcd_prefix}


def git_revision(code: Path) -> str:
    try:
        rev = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return rev + (" with uncommitted changes" if dirty else "")


def describe_code(code: Path) -> dict[str, str]:
    """Which `synctv` the servers will import: same interpreter, environment and working directory as theirs."""
    env = {**os.environ, **server_env(code, "/unused/")}
    found = subprocess.run([sys.executable, "-c", "import synctv; print(synctv.__file__)"], env=env, cwd=code,
                           capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f"{code}: cannot import synctv: {found.stderr.strip()[-500:]}")
    package = Path(found.stdout.strip()).resolve()
    if not package.is_relative_to(code):
        raise SystemExit(f"{code}: the servers would import {package}, not a package inside {code}")
    return {"dir": str(code), "synctv": str(package), "git": git_revision(code)}


def run_cluster(pg: PostgresServer, etcd: EtcdServer, code: Path, messages: int, receivers: int,
                rate: float) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    procs = ClusterProcesses(2, pg.create_database("bench_" + tag), etcd.endpoint,
                             extra_env=server_env(code, f"/synctv-bench/{tag}/"))
    try:
        # `python -m` puts the working directory first on sys.path, ahead of PYTHONPATH.
        with contextlib.chdir(code):
            procs.start()
        asyncio.run(procs.wait_ready())
        return asyncio.run(measure(procs, messages, receivers, rate))
    finally:
        procs.stop()
        shutil.rmtree(procs.root, ignore_errors=True)


def round_row(number: int | str, code: str, r: dict[str, Any]) -> dict[str, Any]:
    return {"round": number, "code": code,
            "cross_p50_ms": r["cross_instance"]["p50_ms"], "cross_p99_ms": r["cross_instance"]["p99_ms"],
            "same_p50_ms": r["same_instance"]["p50_ms"], "same_p99_ms": r["same_instance"]["p99_ms"],
            "extra_p50_ms": r["extra_p50_ms"], "extra_p99_ms": r["extra_p99_ms"],
            "lost_same/cross": f"{r['lost_same']}/{r['lost_cross']}",
            "server_cpu_ms_per_cmd": r["server_cpu_ms_per_cmd"]}


MEDIAN_FIELDS = ["cross_p50_ms", "cross_p99_ms", "same_p50_ms", "same_p99_ms", "extra_p50_ms", "extra_p99_ms",
                 "server_cpu_ms_per_cmd"]
RATIO_FIELDS = ["cross_p50_ms", "cross_p99_ms", "server_cpu_ms_per_cmd"]


def medians(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    mine = [r for r in rows if r["code"] == code]
    out: dict[str, Any] = {f: statistics.median(r[f] for r in mine) for f in MEDIAN_FIELDS}
    lost = [tuple(int(x) for x in r["lost_same/cross"].split("/")) for r in mine]
    out["lost_same/cross"] = f"{sum(s for s, _ in lost)}/{sum(c for _, c in lost)} (sum)"
    return out


def compare(pg: PostgresServer, etcd: EtcdServer, codes: dict[str, Path], rounds: int, messages: int,
            receivers: int, rate: float) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for n in range(1, rounds + 1):
        for label, code in codes.items():
            print(f"round {n}/{rounds}: {label} ({code}) ...", file=sys.stderr, flush=True)
            result = run_cluster(pg, etcd, code, messages, receivers, rate)
            runs.append({"round": n, "code": label, **result})
            rows.append(round_row(n, label, result))
    med = {label: medians(rows, label) for label in codes}
    ratios = {f: med["new"][f] / med["old"][f] if med["old"][f] else float("nan") for f in RATIO_FIELDS}
    return {"rows": rows, "runs": runs, "medians": med, "ratios_new_over_old": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--receivers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--code", type=Path, default=ROOT, metavar="DIR",
                        help="checkout whose synctv the servers run (default: this tree)")
    parser.add_argument("--compare", type=Path, default=None, metavar="OLD_DIR",
                        help="alternate runs of --code (new) and OLD_DIR (old)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each code with --compare (default 3)")
    args = parser.parse_args()
    codes = {"new": args.code.resolve()}
    if args.compare is not None:
        codes["old"] = args.compare.resolve()
    described = {label: describe_code(code) for label, code in codes.items()}
    for label, d in described.items():
        print(f"{label}: servers import {d['synctv']} ({d['git']})")
    pg = PostgresServer()
    pg.start()
    etcd = EtcdServer()
    etcd.start()
    try:
        if args.compare is None:
            result = run_cluster(pg, etcd, codes["new"], args.messages, args.receivers, args.rate)
        else:
            out = compare(pg, etcd, codes, args.rounds, args.messages, args.receivers, args.rate)
    finally:
        etcd.stop()
        pg.stop()
    if args.compare is None:
        result["code"] = described["new"]
        rows = [dict(path="same-instance", **result["same_instance"]),
                dict(path="cross-instance", **result["cross_instance"])]
        print(table(rows, ["path", "n", "p50_ms", "p95_ms", "p99_ms", "mean_ms"]))
        print()
        print(table([round_row(1, "new", result)], ROUND_COLUMNS))
        print(f"cross-instance adds {result['extra_p50_ms']:.3f} ms at p50 and {result['extra_p99_ms']:.3f} ms at"
              f" p99; lost: same {result['lost_same']}, cross {result['lost_cross']}; server CPU"
              f" {result['server_cpu_ms_per_cmd']:.3f} ms per command")
        print("wrote", write_json("cross_instance", result))
        return
    rows = list(out["rows"])
    rows += [{"round": "median", "code": label, **m} for label, m in out["medians"].items()]
    rows.append({"round": "ratio", "code": "new/old", **out["ratios_new_over_old"]})
    print(table(rows, ROUND_COLUMNS))
    out.update(codes=described, rounds_per_code=args.rounds,
               settings={"messages": args.messages, "receivers_per_side": args.receivers, "rate_per_s": args.rate})
    print("wrote", write_json("cross_instance-compare", out))


if __name__ == "__main__":
    main()
