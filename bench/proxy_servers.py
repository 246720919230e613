"""The media proxy benchmark's helper processes.

    python -m bench.proxy_servers origin --port P --root DIR     a static file origin (Range, sendfile)
    python -m bench.proxy_servers bare --port P --origin URL     the baseline: a bare aiohttp streaming
                                                                 pass-through (Range forwarded, each chunk
                                                                 written as it arrives, no auth, no checks,
                                                                 no database)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import aiohttp
from aiohttp import web

COPIED = ("Accept-Ranges", "Content-Length", "Content-Range", "Content-Type")


def origin_app(root: Path) -> web.Application:
    app = web.Application()
    app.router.add_static("/files", root)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/health", health)
    return app


def bare_app(origin: str) -> web.Application:
    app = web.Application()
    session_key: web.AppKey[aiohttp.ClientSession] = web.AppKey("session", aiohttp.ClientSession)

    async def start(app: web.Application) -> None:
        app[session_key] = aiohttp.ClientSession(auto_decompress=False,
                                                 timeout=aiohttp.ClientTimeout(total=None, sock_read=30))

    async def stop(app: web.Application) -> None:
        await app[session_key].close()

    async def passthrough(request: web.Request) -> web.StreamResponse:
        headers = {"Range": request.headers["Range"]} if "Range" in request.headers else {}
        async with request.app[session_key].get(f"{origin}/files/{request.match_info['path']}",
                                                headers=headers) as up:
            resp = web.StreamResponse(status=up.status)
            for name in COPIED:
                if name in up.headers:
                    resp.headers[name] = up.headers[name]
            await resp.prepare(request)
            async for chunk in up.content.iter_any():
                await resp.write(chunk)
            await resp.write_eof()
            return resp

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_get("/p/{path:.+}", passthrough)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("origin", "bare"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", default="")
    parser.add_argument("--origin", default="")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    app = origin_app(Path(args.root)) if args.role == "origin" else bare_app(args.origin)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
