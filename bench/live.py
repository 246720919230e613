"""Live streaming cost, side by side with a bare aiohttp loop writing the same FLV bytes, in one run.

    .venv/bin/python -m bench.live [--quick] [--viewers 100] [--seconds 20]
    .venv/bin/python -m bench.live --mix [--viewers 100] [--seconds 15]   (bench/live_mix.py: the exact mix)

One publisher: a pre-encoded 1.5 Mbit/s H.264 + AAC file, `ffmpeg -re -stream_loop -1 -c copy` to the
server's RTMP port (the encoder does not eat the cores). Viewers are lean readers in this process:
FLV viewers read the chunked stream and count bytes; HLS viewers poll the playlist every second and fetch
every new segment. Scenarios, each on fresh server processes:
  bare-flv   `bench.bare_flv`: the file's tags paced by their timestamps, written to N responses
  flv        `synctv serve`, N FLV viewers
  hls        `synctv serve`, N HLS viewers
  flv+hls    `synctv serve`, N FLV and N HLS viewers
  publish only  `synctv serve` with the publisher and no viewer (ingest, segmenting, the instance's own upkeep)
With `--cluster`, two more runs on 3 instances (PostgreSQL, etcd): FLV viewers on the publisher's instance,
then on another instance (relayed from the host over the mesh): the difference is the relay's cost.
Server CPU is the server processes' utime+stime over the measuring window; "CPU ms per viewer-Mbit" is that
divided by what the viewers received. FLV latency is arrival time minus (publisher start + tag timestamp):
an upper bound (it includes ffmpeg's start-up). HLS latency is when a segment was first listed minus the
media time its end stands for. The muxer table times the in-repo TS segmenter and PyAV's mpegts muxer on
the same tags.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.clients import create_room
from bench.common import table, write_json
from bench.procs import (
    ClusterBackends,
    _spawn,
    _stop_proc,
    _wait_http,
    free_port,
    proc_cpu,
    proc_rss,
    start_cluster,
    start_single,
)
from synctv.live import flv
from synctv.live.hls import Segmenter

URI = re.compile(r"^/api/\S+$", re.M)


def make_file(path: Path, seconds: int) -> None:
    import subprocess

    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
                    "-c:v", "libx264", "-preset", "veryfast", "-b:v", "1400k", "-maxrate", "1500k",
                    "-bufsize", "3000k", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
                    "-f", "flv", str(path)], check=True)


class FlvViewer:
    def __init__(self) -> None:
        self.bytes = 0
        self.latencies: list[float] = []

    async def run(self, session: aiohttp.ClientSession, url: str, stop: asyncio.Event,
                  probe_start: float | None = None) -> None:
        reader = flv.TagReader() if probe_start is not None else None
        async with session.get(url) as resp:
            while not stop.is_set():
                chunk = await resp.content.readany()
                if not chunk:
                    break
                self.bytes += len(chunk)
                if reader is not None and probe_start is not None:
                    now = time.time()
                    for tag in reader.feed(chunk):
                        if tag.kind == flv.VIDEO and not tag.is_sequence_header:
                            self.latencies.append(now - probe_start - tag.timestamp / 1000)


class HlsViewer:
    def __init__(self) -> None:
        self.bytes = 0
        self.seen: set[str] = set()
        self.first_listed: dict[int, float] = {}
        self.durations: dict[int, float] = {}

    async def run(self, session: aiohttp.ClientSession, base: str, url: str, stop: asyncio.Event,
                  interval: float = 1.0) -> None:
        while not stop.is_set():
            async with session.get(url) as resp:
                text = await resp.text() if resp.status == 200 else ""
            now = time.time()
            seq = int(m.group(1)) if (m := re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)) else 0
            for i, dur in enumerate(re.findall(r"#EXTINF:([\d.]+),", text)):
                self.first_listed.setdefault(seq + i, now)
                self.durations[seq + i] = float(dur)
            for uri in URI.findall(text):
                if uri not in self.seen:
                    self.seen.add(uri)
                    async with session.get(base + uri) as seg:
                        self.bytes += len(await seg.read())
            await asyncio.sleep(interval)


async def measure(cpu_of: Any, window: float, viewers_bytes: Any) -> tuple[float, int]:
    cpu0, bytes0 = cpu_of(), viewers_bytes()
    await asyncio.sleep(window)
    return cpu_of() - cpu0, viewers_bytes() - bytes0


async def scenario_bare(media: Path, n: int, window: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="synctv-bare-flv-"))
    port = free_port()
    log = root / "server.log"
    proc = _spawn([sys.executable, "-m", "bench.bare_flv", "--port", str(port), "--file", str(media)], log)
    try:
        await _wait_http(f"http://127.0.0.1:{port}/health", proc, log)
        start = time.time()
        stop = asyncio.Event()
        viewers = [FlvViewer() for _ in range(n)]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            tasks = [asyncio.create_task(v.run(session, f"http://127.0.0.1:{port}/flv", stop,
                                               start if i == 0 else None)) for i, v in enumerate(viewers)]
            await asyncio.sleep(3)
            cpu, got = await measure(lambda: proc_cpu(proc.pid), window, lambda: sum(v.bytes for v in viewers))
            rss = proc_rss(proc.pid)
            stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        lat = viewers[0].latencies
        del lat  # the bare server paces from its own start: its latency is not comparable
        return {"scenario": "bare-flv", "viewers": n, **_rates(cpu, got, window), "rss_mib": rss / 2 ** 20}
    finally:
        _stop_proc(proc)
        shutil.rmtree(root, ignore_errors=True)


def _p50(values: list[float]) -> float:
    if not values:
        return float("nan")
    # A new viewer starts with the cached GOP (up to 2 s old): latency is the steady state, the last half.
    tail = values[len(values) // 2:]
    return statistics.median(tail)


def _rates(cpu: float, got: int, window: float) -> dict[str, Any]:
    mbit = got * 8 / 1e6
    return {"cpu_s": cpu, "cpu_pct": 100 * cpu / window, "viewer_mbit_s": mbit / window,
            "cpu_ms_per_viewer_mbit": 1000 * cpu / mbit if mbit else float("nan")}


async def scenario_synctv(media: Path, n_flv: int, n_hls: int, window: float, *,
                          backends: ClusterBackends | None = None, viewer_instance: int = 0) -> dict[str, Any]:
    dep = await start_single(2) if backends is None else await start_cluster(backends, 2)
    try:
        base, token = dep.bases[0], dep.tokens[0]
        vbase = dep.bases[viewer_instance]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            rid = await create_room(session, base, token, "live-bench")
            headers = {"Authorization": token, "X-Room-Id": rid}
            async with session.post(base + "/api/admin/settings", headers={"Authorization": dep.admin_token},
                                    json={"ts_disguised_as_png": False}) as resp:
                await resp.read()
            async with session.post(base + "/api/room/movie/push", headers=headers,
                                    json={"name": "cam", "live": True, "rtmpSource": True}) as resp:
                mid = (await resp.json())["data"]["id"]
            async with session.post(base + "/api/room/movie/live/publishKey", headers=headers,
                                    json={"id": mid}) as resp:
                key = (await resp.json())["data"]["token"]
            port = base.rsplit(":", 1)[1]
            start = time.time()
            pub = await asyncio.create_subprocess_exec(
                "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(media),
                "-c", "copy", "-f", "flv", f"rtmp://127.0.0.1:{port}/{rid}/{key}")
            q = f"token={token}&roomId={rid}"
            stop = asyncio.Event()
            probe = HlsViewer()
            probe_task = asyncio.create_task(probe.run(session, base, f"{base}/api/room/movie/live/hls/list/{mid}"
                                                                      f".m3u8?{q}", stop, 0.1))
            await asyncio.sleep(5)
            flvs = [FlvViewer() for _ in range(n_flv)]
            hlss = [HlsViewer() for _ in range(n_hls)]
            tasks = [asyncio.create_task(v.run(session, f"{vbase}/api/room/movie/live/flv/{mid}.flv?{q}", stop,
                                               start if i == 0 else None)) for i, v in enumerate(flvs)]
            tasks += [asyncio.create_task(v.run(session, vbase,
                                                f"{vbase}/api/room/movie/live/hls/list/{mid}.m3u8?{q}", stop))
                      for v in hlss]
            await asyncio.sleep(4)
            cpu, got = await measure(dep.cpu, window, lambda: sum(v.bytes for v in flvs + hlss))
            rss = dep.rss()
            stop.set()
            for t in [*tasks, probe_task]:
                t.cancel()
            await asyncio.gather(*tasks, probe_task, return_exceptions=True)
            pub.kill()
            await pub.wait()
        hls_lat = []
        ends, total = {}, 0.0
        for seq in sorted(probe.durations):
            total += probe.durations[seq]
            ends[seq] = total
        for seq, seen in probe.first_listed.items():
            if seq in ends and seq >= 2:
                hls_lat.append(seen - start - ends[seq])
        name = "flv+hls" if n_flv and n_hls else "flv" if n_flv else "hls" if n_hls else "publish only"
        if backends is not None:
            name = f"cluster {name}, viewers on " + ("the host" if viewer_instance == 0 else "another instance")
        return {"scenario": name, "viewers": n_flv + n_hls, **_rates(cpu, got, window), "rss_mib": rss / 2 ** 20,
                "flv_latency_s": _p50(flvs[0].latencies) if flvs else float("nan"),
                "hls_latency_s": statistics.median(hls_lat) if hls_lat else float("nan")}
    finally:
        dep.stop()


def muxers(media: Path) -> list[dict[str, Any]]:
    tags = flv.TagReader().feed(media.read_bytes())
    stream_s = (tags[-1].timestamp - tags[0].timestamp) / 1000
    rows = []
    t0 = time.process_time()
    seg = Segmenter()
    for tag in tags:
        if tag.kind != flv.DATA:
            seg.feed(tag)
    rows.append({"muxer": "in-repo (synctv.live.ts)", "cpu_ms_per_stream_s": 1000 * (time.process_time() - t0)
                 / stream_s})
    try:
        import av
    except ImportError:
        rows.append({"muxer": "PyAV", "cpu_ms_per_stream_s": "not installed (pip install av)"})
        return rows
    with av.open(str(media)) as inp:
        packets = [p for p in inp.demux() if p.dts is not None]
        out_buf = io.BytesIO()
        with av.open(out_buf, "w", format="mpegts") as out:
            streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
            t0 = time.process_time()
            for p in packets:
                p.stream = streams[p.stream_index]
                out.mux(p)
            elapsed = time.process_time() - t0
    rows.append({"muxer": f"PyAV {av.__version__} (libavformat mpegts)", "cpu_ms_per_stream_s": 1000 * elapsed
                 / stream_s})
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cluster", action="store_true", help="also: 3 instances, FLV viewers on the "
                        "publisher's instance and on another one (relayed over the mesh)")
    parser.add_argument("--mix", action="store_true", help="only the exact mix: N FLV + N HLS viewers over 3 "
                        "instances, relayed and on the host, next to the bare loop (bench/live_mix.py)")
    args = parser.parse_args()
    n = 20 if args.quick else args.viewers
    window = 8.0 if args.quick else args.seconds
    root = Path(tempfile.mkdtemp(prefix="synctv-live-bench-"))
    media = root / "src.flv"
    make_file(media, 30)
    if args.mix:
        from bench import live_mix

        try:
            mix_rows, notes = await live_mix.run_mix(media, n, window)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(table(mix_rows, live_mix.COLUMNS))
        print("\n".join(notes))
        write_json("live_mix", {"scenarios": mix_rows, "notes": notes})
        return
    try:
        mux = muxers(media)
        rows = [await scenario_bare(media, n, window), await scenario_synctv(media, 0, 0, window),
                await scenario_synctv(media, n, 0, window),
                await scenario_synctv(media, 0, n, window), await scenario_synctv(media, n, n, window)]
        if args.cluster:
            backends = ClusterBackends()
            backends.start()
            try:
                for where in (0, 1):
                    rows.append(await scenario_synctv(media, n, 0, window, backends=backends, viewer_instance=where))
            finally:
                backends.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    bare = rows[0]["cpu_ms_per_viewer_mbit"]
    for r in rows:
        r["vs_bare"] = r["cpu_ms_per_viewer_mbit"] / bare if bare == bare and bare else float("nan")
    print(table(mux, ["muxer", "cpu_ms_per_stream_s"]))
    print()
    print(table(rows, ["scenario", "viewers", "viewer_mbit_s", "cpu_pct", "cpu_ms_per_viewer_mbit", "vs_bare",
                       "rss_mib", "flv_latency_s", "hls_latency_s"]))
    write_json("live", {"muxers": mux, "scenarios": rows})


if __name__ == "__main__":
    asyncio.run(main())
