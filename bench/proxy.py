"""Media proxy throughput and cost, side by side with a bare aiohttp streaming pass-through in the same run.

    .venv/bin/python -m bench.proxy [--quick]

Scenarios (the origin is a static aiohttp file server on loopback, in its own process):
- `download`: one large ranged download (`Range: bytes=0-`) of a random file;
- `hls100`: 100 viewers (distinct users) fetch the same ffmpeg-made HLS rendition (4 Mb/s, 6 s segments of
  about 3 MiB, the segment length Apple recommends) at once: the playlist through
  the proxy (rewritten), then every segment in order, as a player does;
- `slow100`: 100 slow readers pull the large file at once (64 KiB every 20 ms, for a few seconds) and the
  server's resident memory is sampled: it must grow by less than 64 MiB (nothing is buffered whole).
`synctv` runs cache off and cache on (`proxy_cache_enable`); `bare` is `bench.proxy_servers bare`. Server CPU is
the server process's utime+stime; "MiB per CPU-s" divided by bare's is the efficiency ratio (target ≥ 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.clients import create_room
from bench.common import table, write_json
from bench.procs import _spawn, _stop_proc, _wait_http, free_port, proc_cpu, proc_rss, start_single

MIB = 1 << 20
CHUNK = 256 * 1024


def make_media(root: Path, big_mib: int, hls_seconds: int) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "big.bin", "wb") as f:
        for _ in range(big_mib):
            f.write(os.urandom(MIB))
    hls = root / "hls"
    hls.mkdir(exist_ok=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=640x360:rate=25:duration={hls_seconds}", "-c:v", "libx264", "-preset",
                    "ultrafast", "-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M", "-g", "50", "-f", "hls",
                    "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_filename",
                    str(hls / "seg%03d.ts"), str(hls / "index.m3u8")], check=True, timeout=600)
    return [line for line in (hls / "index.m3u8").read_text().splitlines() if line and not line.startswith("#")]


async def _drain(session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None) -> int:
    async with session.get(url, headers=headers or {}) as resp:
        if resp.status not in (200, 206):
            raise RuntimeError(f"GET {url}: {resp.status} {(await resp.read())[:200]!r}")
        total = 0
        async for chunk in resp.content.iter_chunked(CHUNK):
            total += len(chunk)
        return total


async def measured(pid: int, work: Any) -> dict[str, float]:
    cpu0, t0 = proc_cpu(pid), time.monotonic()
    nbytes = await work()
    seconds, cpu = time.monotonic() - t0, proc_cpu(pid) - cpu0
    mib = nbytes / MIB
    return {"MiB": mib, "seconds": seconds, "MiB/s": mib / seconds, "server_cpu_s": cpu,
            "cpu_s_per_GiB": cpu / (mib / 1024) if mib else float("nan"),
            "MiB_per_cpu_s": mib / cpu if cpu else float("nan")}


def _playlist_uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


async def hls_viewer(session: aiohttp.ClientSession, playlist_url: str | None, segment_urls: list[str],
                     base: str) -> int:
    total = 0
    urls = segment_urls
    if playlist_url is not None:
        async with session.get(playlist_url) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"playlist: {resp.status} {text[:200]}")
            total += len(text)
            urls = [base + u for u in _playlist_uris(text)]
    for url in urls:
        total += await _drain(session, url)
    return total


async def slow_readers(session: aiohttp.ClientSession, urls: list[str], pid: int,
                       seconds: float) -> dict[str, float]:
    await asyncio.sleep(1.0)
    baseline = proc_rss(pid)
    peak = baseline
    stop = time.monotonic() + seconds
    pulled = 0

    async def reader(url: str) -> None:
        nonlocal pulled
        async with session.get(url) as resp:
            while time.monotonic() < stop:
                chunk = await resp.content.read(64 * 1024)
                if not chunk:
                    return
                pulled += len(chunk)
                await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(reader(u)) for u in urls]
    while not all(t.done() for t in tasks):
        peak = max(peak, proc_rss(pid))
        await asyncio.sleep(0.2)
    for t in tasks:
        t.result()
    return {"readers": len(urls), "rss_before_MiB": baseline / MIB, "rss_peak_MiB": peak / MIB,
            "rss_growth_MiB": (peak - baseline) / MIB, "MiB_pulled": pulled / MIB}


async def run(quick: bool, log: Any, rounds: int = 1) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="synctv-proxy-bench-"))
    viewers = 100
    big_mib, hls_seconds, slow_s = (128, 30, 5.0) if quick else (512, 60, 10.0)
    procs: list[subprocess.Popen[bytes]] = []
    out: dict[str, Any] = {"download": [], "hls100": [], "slow100": {}}
    try:
        log(f"making media: {big_mib} MiB random file, {hls_seconds} s HLS (ffmpeg)")
        segments = make_media(root / "media", big_mib, hls_seconds)
        origin_port, bare_port = free_port(), free_port()
        procs.append(_spawn([sys.executable, "-m", "bench.proxy_servers", "origin", "--port", str(origin_port),
                             "--root", str(root / "media")], root / "origin.log"))
        origin = f"http://127.0.0.1:{origin_port}"
        await _wait_http(origin + "/health", procs[-1], root / "origin.log")
        procs.append(_spawn([sys.executable, "-m", "bench.proxy_servers", "bare", "--port", str(bare_port),
                             "--origin", origin], root / "bare.log"))
        bare = procs[-1]
        bare_base = f"http://127.0.0.1:{bare_port}"
        await _wait_http(bare_base + "/health", bare, root / "bare.log")
        dep = await start_single(viewers)
        try:
            base, pid = dep.bases[0], dep.servers[0].pid
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as s:
                async def settings(**values: Any) -> None:
                    async with s.post(base + "/api/admin/settings", json=values,
                                      headers={"Authorization": dep.admin_token}) as resp:
                        assert resp.status == 204, await resp.text()

                await settings(allow_proxy_to_local=True)
                owner = dep.tokens[0]
                rid = await create_room(s, base, owner, "proxy-bench")
                ids = {}
                for name, path in (("big", "files/big.bin"), ("hls", "files/hls/index.m3u8")):
                    async with s.post(base + "/api/room/movie/push", headers={"Authorization": owner,
                                                                               "X-Room-Id": rid},
                                      json={"name": name, "url": f"{origin}/{path}", "proxy": True}) as resp:
                        body = await resp.json()
                        assert resp.status == 200, body
                        ids[name] = body["data"]["id"]

                def proxied(movie: str, user: int) -> str:
                    return f"{base}/api/room/movie/proxy/{ids[movie]}?token={dep.tokens[user]}&roomId={rid}"

                rng = {"Range": "bytes=0-"}
                for variant, cache in (("bare", None), ("synctv", False), ("synctv+cache", True)):
                    if cache is not None:
                        await settings(proxy_cache_enable=cache)
                    url = f"{bare_base}/p/big.bin" if cache is None else proxied("big", 0)
                    who = bare.pid if cache is None else pid
                    if cache:  # the first pass fills the cache; the measured one is served from it
                        await _drain(s, url, rng)
                    row = await measured(who, lambda url=url: _drain(s, url, rng))
                    out["download"].append({"variant": variant + (" (warm)" if cache else ""), **row})
                    log(f"download {variant}: {row['MiB/s']:.0f} MiB/s, {row['cpu_s_per_GiB']:.2f} CPU-s/GiB")
                # Rounds alternate the variants, so that a machine busy for a while slows all of them alike;
                # each round's ratio is against that round's bare run, and the table ends with the medians.
                for rnd in range(1, rounds + 1):
                    for variant, cache in (("bare", None), ("synctv", False), ("synctv+cache", True)):
                        if cache is not None:
                            await settings(proxy_cache_enable=cache)
                        if cache is None:
                            seg_urls = [f"{bare_base}/p/hls/{seg}" for seg in segments]

                            async def work(seg_urls: list[str] = seg_urls) -> int:
                                return sum(await asyncio.gather(*(hls_viewer(s, None, seg_urls, bare_base)
                                                                  for _ in range(viewers))))
                            who = bare.pid
                        else:
                            async def work() -> int:
                                return sum(await asyncio.gather(*(hls_viewer(s, proxied("hls", i), [], base)
                                                                  for i in range(viewers))))
                            who = pid
                        row = await measured(who, work)
                        out["hls100"].append({"round": rnd, "variant": variant + (" (cold)" if cache else ""), **row})
                        log(f"hls100 {variant} (round {rnd}): {row['MiB/s']:.0f} MiB/s, "
                            f"{row['cpu_s_per_GiB']:.2f} CPU-s/GiB")
                await settings(proxy_cache_enable=False)
                out["slow100"] = await slow_readers(s, [proxied("big", i) for i in range(viewers)], pid, slow_s)
                log(f"slow100: RSS +{out['slow100']['rss_growth_MiB']:.1f} MiB")
        finally:
            dep.stop()
    finally:
        for proc in procs:
            _stop_proc(proc)
        shutil.rmtree(root, ignore_errors=True)
    for rows in [out["download"]] + [[r for r in out["hls100"] if r["round"] == n] for n in range(1, rounds + 1)]:
        bare_eff = rows[0]["MiB_per_cpu_s"]
        for row in rows:
            row["vs_bare"] = row["MiB_per_cpu_s"] / bare_eff if bare_eff else float("nan")
    if rounds > 1:
        for variant in dict.fromkeys(r["variant"] for r in out["hls100"]):
            mine = [r for r in out["hls100"] if r["variant"] == variant]
            out["hls100"].append({"round": "median", "variant": variant,
                                  **{k: statistics.median(r[k] for r in mine) for k in mine[0]
                                     if k not in ("round", "variant")}})
    return out


def report(out: dict[str, Any]) -> str:
    cols = ["variant", "MiB", "seconds", "MiB/s", "server_cpu_s", "cpu_s_per_GiB", "MiB_per_cpu_s", "vs_bare"]
    slow = out["slow100"]
    return "\n".join([
        "one large ranged download", table(out["download"], cols), "",
        "100 concurrent viewers of one HLS stream", table(out["hls100"], ["round", *cols]), "",
        f"100 slow readers: RSS {slow['rss_before_MiB']:.1f} -> {slow['rss_peak_MiB']:.1f} MiB "
        f"(+{slow['rss_growth_MiB']:.1f} MiB; target < 64), {slow['MiB_pulled']:.0f} MiB pulled"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="HLS rounds, alternating the variants (medians)")
    args = parser.parse_args()
    out = asyncio.run(run(args.quick, lambda line: print(line, file=sys.stderr, flush=True), args.rounds))
    print(report(out))
    print("wrote", write_json("proxy-quick" if args.quick else "proxy", out))


if __name__ == "__main__":
    main()
