"""A real HTTP origin on loopback for the media proxy tests, serving ffmpeg-made media.

Routes (all serve the same media tree, with RFC-correct Range/HEAD/416 from aiohttp's FileResponse):
  /files/<path>              plain
  /gated/<path>              403 unless the request carries the gate header (GATE_HEADER: a Referer)
  /redirect/<n>/<path>       n 302 hops, then /files/<path>
  /redirect-gated/<path>     one 302 into /gated/<path> (the movie's headers must follow the redirect)
  /slow/<path>               headers and one chunk, then stalls until the client goes away
  /redirect-to?url=<url>     one 302 to any URL (for redirect-into-private cases)
Every request is recorded (method, path, headers), and the slow route records when its client disconnects.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

GATE_HEADER = ("Referer", "https://members.example/watch")
KEY_BYTES = bytes(range(16))


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class MediaFiles:
    root: Path
    mp4: str = "clip.mp4"
    aes_playlist: str = "hls/aes/index.m3u8"
    fmp4_playlist: str = "hls/fmp4/index.m3u8"
    master: str = "hls/master.m3u8"
    big: str = "big.bin"

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()


def make_media(root: Path, seconds: int = 4) -> MediaFiles:
    """An H.264/AAC MP4, an AES-128 MPEG-TS HLS rendition, a clear fMP4 rendition and a master playlist."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None, "ffmpeg is required (apt-get install ffmpeg)"
    root.mkdir(parents=True, exist_ok=True)
    quiet = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    mp4 = root / "clip.mp4"
    subprocess.run([*quiet, "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264",
                    "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac", "-b:a", "64k",
                    "-movflags", "+faststart", str(mp4)], check=True, capture_output=True, timeout=120)
    aes = root / "hls" / "aes"
    fmp4 = root / "hls" / "fmp4"
    aes.mkdir(parents=True, exist_ok=True)
    fmp4.mkdir(parents=True, exist_ok=True)
    (aes / "key.bin").write_bytes(KEY_BYTES)
    keyinfo = root / "keyinfo"
    keyinfo.write_text(f"key.bin\n{aes / 'key.bin'}\n")
    subprocess.run([*quiet, "-i", str(mp4), "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
                    "-hls_key_info_file", str(keyinfo), "-hls_segment_filename", str(aes / "seg%03d.ts"),
                    str(aes / "index.m3u8")], check=True, capture_output=True, timeout=120)
    subprocess.run([*quiet, "-i", str(mp4), "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
                    "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
                    "-hls_segment_filename", str(fmp4 / "seg%03d.m4s"), str(fmp4 / "index.m3u8")],
                   check=True, capture_output=True, timeout=120)
    (root / "hls" / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=160x90,CODECS="avc1.64000c,mp4a.40.2"\n'
        "aes/index.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=160x90,CODECS="avc1.64000c,mp4a.40.2"\n'
        "fmp4/index.m3u8\n")
    # What a hostile origin might serve to get script running on the proxy's origin.
    (root / "page.html").write_text("<!doctype html><script>document.title = localStorage.userToken</script>")
    # A larger file with a known pattern: every byte position is checkable.
    (root / "big.bin").write_bytes(bytes(i % 251 for i in range(3 * 1024 * 1024 + 12345)))
    return MediaFiles(root)


@dataclass
class MediaOrigin:
    files: MediaFiles
    host: str = "127.0.0.1"
    gate: tuple[str, str] = GATE_HEADER
    seen: list[Seen] = field(default_factory=list)
    slow_started: asyncio.Event = field(default_factory=asyncio.Event)
    slow_gone: asyncio.Event = field(default_factory=asyncio.Event)
    runner: web.AppRunner | None = None
    port: int = 0

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}/{path.lstrip('/')}"

    def requests_to(self, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(prefix)]

    def _file(self, rel: str) -> Path:
        path = (self.files.root / rel).resolve()
        if self.files.root.resolve() not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        return path

    async def start(self) -> MediaOrigin:
        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            self.seen.append(Seen(request.method, request.path, dict(request.headers)))
            result: web.StreamResponse = await handler(request)
            return result

        async def files(request: web.Request) -> web.StreamResponse:
            return web.FileResponse(self._file(request.match_info["path"]))

        async def gated(request: web.Request) -> web.StreamResponse:
            if request.headers.get(self.gate[0]) != self.gate[1]:
                raise web.HTTPForbidden(text="members only")
            return web.FileResponse(self._file(request.match_info["path"]))

        async def redirect(request: web.Request) -> web.StreamResponse:
            hops = int(request.match_info["n"])
            path = request.match_info["path"]
            target = f"/redirect/{hops - 1}/{path}" if hops > 1 else f"/files/{path}"
            raise web.HTTPFound(target)

        async def redirect_gated(request: web.Request) -> web.StreamResponse:
            raise web.HTTPFound(f"/gated/{request.match_info['path']}")

        async def redirect_to(request: web.Request) -> web.StreamResponse:
            raise web.HTTPFound(request.query["url"])

        async def slow(request: web.Request) -> web.StreamResponse:
            data = self._file(request.match_info["path"]).read_bytes()
            resp = web.StreamResponse(headers={"Content-Type": "video/mp4", "Content-Length": str(len(data))})
            await resp.prepare(request)
            await resp.write(data[:1024])
            self.slow_started.set()
            try:
                await asyncio.sleep(120)
            except asyncio.CancelledError:
                self.slow_gone.set()
                raise
            return resp

        app = web.Application(middlewares=[record])
        app.router.add_get("/files/{path:.+}", files)
        app.router.add_get("/gated/{path:.+}", gated)
        app.router.add_get("/redirect/{n:\\d+}/{path:.+}", redirect)
        app.router.add_get("/redirect-gated/{path:.+}", redirect_gated)
        app.router.add_get("/redirect-to", redirect_to)
        app.router.add_get("/slow/{path:.+}", slow)
        # handler_cancellation: the slow route learns at once that its client (the proxy) went away
        self.runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
