"""The single-page web client under `/web/`: a directory from `--web-path`, or the built-in client."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from synctv.api.responses import not_found

BUILTIN_WEB = Path(__file__).resolve().parent.parent / "web"


def add_static_routes(app: web.Application, web_path: str | None) -> None:
    root = Path(web_path).expanduser().resolve() if web_path else BUILTIN_WEB
    index = root / "index.html"

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/web/")

    async def serve(request: web.Request) -> web.StreamResponse:
        rel = request.match_info.get("path", "")
        target = (root / rel).resolve()
        # Never serve outside the root; unknown paths fall back to index.html (client-side routing).
        if rel and target.is_relative_to(root) and target.is_file():
            return web.FileResponse(target)
        if index.is_file():
            return web.FileResponse(index, headers={"Cache-Control": "no-cache"})
        raise not_found("web client not found")

    app.router.add_get("/", redirect)
    app.router.add_route("GET", "/web", redirect)
    app.router.add_route("GET", "/web/{path:.*}", serve)
