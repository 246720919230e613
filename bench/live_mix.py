"""The live mix of issue #12, in one run: one 1.5 Mbit/s publisher (a pre-encoded file, `-re -c copy`), 100 FLV
and 100 HLS viewers spread over 3 instances, side by side with the bare aiohttp FLV loop on as many sockets.

    .venv/bin/python -m bench.live --mix [--viewers 100] [--seconds 15]

Viewers are lean raw-socket readers (no HTTP client library): an FLV viewer sends one request and counts the
bytes it gets; an HLS viewer keeps one HTTP/1.1 connection, fetches the playlist every second and every segment
it has not seen. Four probes (an FLV and an HLS reader on the publisher's instance and on another one) time
the media against the publisher's timeline, whose start is taken from the host probe's earliest arrival
(arrival minus tag timestamp at its smallest: ffmpeg's start-up and initial read burst taken out, so the
figures leave out the best case's own delivery time, a millisecond or so on loopback). FLV latency: arrival
minus (timeline start + tag timestamp), median of the steady state; `flv_latency_upper_s` counts from when
ffmpeg was launched instead (an upper bound). HLS latency: when a segment was first listed minus the timeline
time its media ends at (a player adds its buffer of segments on top).

Runs:
  bare-flv       `bench.bare_flv`, the file's tags paced by their timestamps, to N+N sockets (the limit)
  mix, spread    3 instances, publisher on n1; viewers round-robin over n1, n2, n3 (edges n2, n3 relay from n1)
  mix, on host   the same cluster, a new movie and publisher on n1; every viewer on n1 (no relay): the
                 difference is the relay's cost (the first run's channel has no publisher left: nothing of it
                 flows; RSS includes what the first run left)
Server CPU is utime+stime of the server processes over the measuring window, per instance and in total.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench.clients import create_room
from bench.procs import (
    ClusterBackends,
    _spawn,
    _stop_proc,
    _wait_http,
    free_port,
    proc_cpu,
    proc_rss,
    raise_fd_limit,
    start_cluster,
)

URI = re.compile(rb"^(/api/\S+)$", re.M)
SEQ = re.compile(rb"#EXT-X-MEDIA-SEQUENCE:(\d+)")
EXTINF = re.compile(rb"#EXTINF:([\d.]+),")
LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")


class _Counting(asyncio.Protocol):
    """The leanest FLV viewer: bytes counted as they arrive, nothing parsed."""

    def __init__(self) -> None:
        self.bytes = 0
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.bytes += len(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class RawFlv:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.request = f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode()
        self.proto: _Counting | None = None

    @property
    def bytes(self) -> int:
        return self.proto.bytes if self.proto else 0

    async def run(self, stop: asyncio.Event) -> None:
        transport, proto = await asyncio.get_running_loop().create_connection(_Counting, self.host, self.port)
        self.proto = proto
        transport.write(self.request)
        try:
            await asyncio.wait({proto.closed, asyncio.ensure_future(stop.wait())},
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            transport.close()


class RawHls:
    """One keep-alive connection: the playlist every `interval` seconds, each new segment once."""

    def __init__(self, url: str, interval: float = 1.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.list_path = f"{parts.path}?{parts.query}"
        self.interval = interval
        self.bytes = 0
        self.seen: set[bytes] = set()
        self.first_listed: dict[int, float] = {}
        self.durations: dict[int, float] = {}

    async def _get(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> bytes:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        m = LENGTH.search(head)
        body = await reader.readexactly(int(m.group(1))) if m else b""
        self.bytes += len(head) + len(body)
        return body if head.startswith(b"HTTP/1.1 200") else b""

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.sleep(random.random() * self.interval)  # spread the polls
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 22)
        try:
            while not stop.is_set():
                text = await self._get(reader, writer, self.list_path)
                now = time.time()
                seq = int(m.group(1)) if (m := SEQ.search(text)) else 0
                for i, dur in enumerate(EXTINF.findall(text)):
                    self.first_listed.setdefault(seq + i, now)
                    self.durations[seq + i] = float(dur)
                for uri in URI.findall(text):
                    if uri not in self.seen:
                        self.seen.add(uri)
                        await self._get(reader, writer, uri.decode())
                await asyncio.sleep(self.interval)
        finally:
            writer.close()


class FlvProbe:
    """Parses the FLV stream (de-chunked by aiohttp) to time each video tag's arrival."""

    def __init__(self, url: str, start: float) -> None:
        self.url, self.start = url, start
        self.latencies: list[float] = []  # arrival - (publisher start + timestamp), in arrival order

    async def run(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        from synctv.live import flv

        reader = flv.TagReader()
        async with session.get(self.url) as resp:
            while not stop.is_set():
                chunk = await resp.content.readany()
                if not chunk:
                    break
                now = time.time()
                for tag in reader.feed(chunk):
                    if tag.kind == flv.VIDEO and not tag.is_sequence_header:
                        self.latencies.append(now - self.start - tag.timestamp / 1000)


def _steady(values: list[float]) -> float:
    # a new viewer starts with the cached GOP (up to 2 s old): the steady state is the second half
    return statistics.median(values[len(values) // 2:]) if values else float("nan")


def _origin(probes: dict[int, FlvProbe]) -> float:
    """When the publisher's timeline started, as the earliest arrival on the host shows it (arrival minus
    timestamp at its smallest): ffmpeg's start-up and its initial read burst taken out."""
    host = probes.get(0)
    return min(host.latencies) if host is not None and host.latencies else 0.0


def _hls_latency(probe: RawHls, start: float) -> float:
    ends, total, lat = {}, 0.0, []
    for seq in sorted(probe.durations):
        total += probe.durations[seq]
        ends[seq] = total
    for seq, seen in probe.first_listed.items():
        if seq in ends and seq >= 2:
            lat.append(seen - start - ends[seq])
    return statistics.median(lat) if lat else float("nan")


def _rates(cpu: float, got: int, window: float) -> dict[str, Any]:
    mbit = got * 8 / 1e6
    return {"cpu_s": cpu, "cpu_pct": 100 * cpu / window, "viewer_mbit_s": mbit / window,
            "cpu_ms_per_viewer_mbit": 1000 * cpu / mbit if mbit else float("nan")}


async def bare(media: Path, sockets: int, window: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="synctv-bare-flv-"))
    port = free_port()
    log = root / "server.log"
    proc = _spawn([sys.executable, "-m", "bench.bare_flv", "--port", str(port), "--file", str(media)], log)
    try:
        await _wait_http(f"http://127.0.0.1:{port}/health", proc, log)
        stop = asyncio.Event()
        viewers = [RawFlv(f"http://127.0.0.1:{port}/flv?x=1") for _ in range(sockets)]
        tasks = [asyncio.create_task(v.run(stop)) for v in viewers]
        await asyncio.sleep(3)
        cpu0, got0 = proc_cpu(proc.pid), sum(v.bytes for v in viewers)
        await asyncio.sleep(window)
        cpu, got = proc_cpu(proc.pid) - cpu0, sum(v.bytes for v in viewers) - got0
        rss = proc_rss(proc.pid)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {"run": "bare-flv (aiohttp loop)", "instance": "all", "flv": sockets, "hls": 0,
                **_rates(cpu, got, window), "rss_mib": rss / 2 ** 20}
    finally:
        _stop_proc(proc)
        shutil.rmtree(root, ignore_errors=True)


async def _live_movie(session: aiohttp.ClientSession, host: str, token: str, rid: str, name: str) -> tuple[str, str]:
    headers = {"Authorization": token, "X-Room-Id": rid}
    async with session.post(host + "/api/room/movie/push", headers=headers,
                            json={"name": name, "live": True, "rtmpSource": True}) as resp:
        mid = str((await resp.json())["data"]["id"])
    async with session.post(host + "/api/room/movie/live/publishKey", headers=headers, json={"id": mid}) as resp:
        key = str((await resp.json())["data"]["token"])
    return mid, key


async def mix(dep: Any, session: aiohttp.ClientSession, rid: str, media: Path, n_flv: int, n_hls: int,
              window: float, *, spread: bool) -> list[dict[str, Any]]:
    """One run on the cluster: a new movie and publisher (a previous run's channel has no publisher any more,
    so nothing of it flows), viewers spread over the instances or all on the publisher's."""
    bases, token = dep.bases, dep.tokens[0]
    host = bases[0]
    mid, key = await _live_movie(session, host, token, rid, "spread" if spread else "host")
    q = f"token={token}&roomId={rid}"

    def flv_url(base: str) -> str:
        return f"{base}/api/room/movie/live/flv/{mid}.flv?{q}"

    def hls_url(base: str) -> str:
        return f"{base}/api/room/movie/live/hls/list/{mid}.m3u8?{q}"

    start = time.time()
    pub = await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(media),
        "-c", "copy", "-f", "flv", f"rtmp://127.0.0.1:{host.rsplit(':', 1)[1]}/{rid}/{key}")
    try:
        stop = asyncio.Event()
        where = [0, 1] if spread else [0]
        flv_probes = {i: FlvProbe(flv_url(bases[i]), start) for i in where}
        hls_probes = {i: RawHls(hls_url(bases[i]), 0.1) for i in where}
        tasks = [asyncio.create_task(p.run(session, stop)) for p in flv_probes.values()]
        tasks += [asyncio.create_task(p.run(stop)) for p in hls_probes.values()]
        await asyncio.sleep(5)
        spots = len(bases) if spread else 1
        flvs = [(i % spots, RawFlv(flv_url(bases[i % spots]))) for i in range(n_flv)]
        hlss = [(i % spots, RawHls(hls_url(bases[i % spots]))) for i in range(n_hls)]
        tasks += [asyncio.create_task(v.run(stop)) for _, v in flvs]
        tasks += [asyncio.create_task(v.run(stop)) for _, v in hlss]
        await asyncio.sleep(4)

        def got(inst: int) -> int:
            return sum(v.bytes for i, v in [*flvs, *hlss] if i == inst)

        cpu0 = [proc_cpu(s.pid) for s in dep.servers]
        got0 = [got(i) for i in range(len(bases))]
        await asyncio.sleep(window)
        cpu = [proc_cpu(s.pid) - c for s, c in zip(dep.servers, cpu0, strict=True)]
        gots = [got(i) - g for i, g in enumerate(got0)]
        rss = [proc_rss(s.pid) for s in dep.servers]
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        pub.kill()
        await pub.wait()
    run = "mix, spread over 3" if spread else "mix, all on the host"
    rows = []
    origin = _origin(flv_probes)
    nan = float("nan")
    for i, s in enumerate(dep.servers):
        role = "host" if i == 0 else "edge"
        probe = flv_probes.get(i)
        rows.append({"run": run, "instance": f"{s.name} ({role})",
                     "flv": sum(1 for j, _ in flvs if j == i), "hls": sum(1 for j, _ in hlss if j == i),
                     **_rates(cpu[i], gots[i], window), "rss_mib": rss[i] / 2 ** 20,
                     "flv_latency_s": _steady(probe.latencies) - origin if probe else nan,
                     "flv_latency_upper_s": _steady(probe.latencies) if probe else nan,
                     "hls_latency_s": _hls_latency(hls_probes[i], start + origin) if i in hls_probes else nan})
    rows.append({"run": run, "instance": "all", "flv": n_flv, "hls": n_hls,
                 **_rates(sum(cpu), sum(gots), window), "rss_mib": sum(rss) / 2 ** 20})
    return rows


async def run_mix(media: Path, n: int, window: float) -> tuple[list[dict[str, Any]], list[str]]:
    raise_fd_limit()
    rows = [await bare(media, 2 * n, window)]
    backends = ClusterBackends()
    backends.start()
    try:
        dep = await start_cluster(backends, 2)
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                async with session.post(dep.bases[0] + "/api/admin/settings",
                                        headers={"Authorization": dep.admin_token},
                                        json={"ts_disguised_as_png": False}) as resp:
                    await resp.read()
                rid = await create_room(session, dep.bases[0], dep.tokens[0], "live-mix")
                rows += await mix(dep, session, rid, media, n, n, window, spread=True)
                rows += await mix(dep, session, rid, media, n, n, window, spread=False)
        finally:
            dep.stop()
    finally:
        backends.stop()
    bare_cost = rows[0]["cpu_ms_per_viewer_mbit"]
    for r in rows:
        r["vs_bare"] = r["cpu_ms_per_viewer_mbit"] / bare_cost if bare_cost == bare_cost and bare_cost else float("nan")
    totals = {r["run"]: r for r in rows if r["instance"] == "all"}
    spread, host = totals["mix, spread over 3"], totals["mix, all on the host"]
    notes = [f"relay overhead: spread over 3 instances costs {spread['cpu_s']:.2f} CPU-s vs "
             f"{host['cpu_s']:.2f} CPU-s with every viewer on the host "
             f"({spread['cpu_ms_per_viewer_mbit']:.2f} vs {host['cpu_ms_per_viewer_mbit']:.2f} "
             f"ms per viewer-Mbit, x{spread['cpu_ms_per_viewer_mbit'] / host['cpu_ms_per_viewer_mbit']:.2f})"]
    return rows, notes


COLUMNS = ["run", "instance", "flv", "hls", "viewer_mbit_s", "cpu_pct", "cpu_ms_per_viewer_mbit", "vs_bare",
           "rss_mib", "flv_latency_s", "flv_latency_upper_s", "hls_latency_s"]
