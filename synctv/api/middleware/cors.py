"""CORS as upstream: any origin, any header, any method, no credentials."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

_ALLOW = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
    "Access-Control-Max-Age": "43200",
}


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204, headers=_ALLOW)
    response = await handler(request)
    if not response.prepared:
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response
