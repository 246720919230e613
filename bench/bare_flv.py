"""The limit for HTTP-FLV: a bare aiohttp server that writes one FLV file's tags, paced by their timestamps
(as a live publisher would feed them), to every connected response. No RTMP, no auth, no queues.

    .venv/bin/python -m bench.bare_flv --port 8099 --file media.flv
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from aiohttp import web

from synctv.live import flv


async def main(port: int, data: bytes) -> None:
    tags = flv.TagReader().feed(data)
    heads = [flv.encode_tag(t) for t in tags if t.is_sequence_header or t.kind == flv.DATA]
    media = [t for t in tags if not t.is_sequence_header and t.kind != flv.DATA]
    viewers: set[web.StreamResponse] = set()
    gones: dict[web.StreamResponse, asyncio.Event] = {}

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "video/x-flv"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(flv.FILE_HEADER + b"".join(heads))
        viewers.add(resp)
        gone = asyncio.Event()
        gones[resp] = gone
        try:
            await gone.wait()
        finally:
            viewers.discard(resp)
        return resp

    async def pump() -> None:
        loop_len = media[-1].timestamp + 40
        start, n = time.monotonic(), 0
        while True:
            for tag in media:
                ts = tag.timestamp + n * loop_len
                delay = start + ts / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                data = flv.encode_tag(tag.with_timestamp(ts))
                for resp in list(viewers):
                    try:
                        await resp.write(data)
                    except (ConnectionError, RuntimeError):
                        viewers.discard(resp)
                        gones.pop(resp, asyncio.Event()).set()
            n += 1

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/flv", stream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await pump()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True)
    args = parser.parse_args()
    asyncio.run(main(args.port, Path(args.file).read_bytes()))
