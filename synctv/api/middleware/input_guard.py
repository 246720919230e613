"""Refuse a request whose decoded path or query carries characters no route accepts (NUL), before any handler
hands them to the file system or the database."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from synctv.api.requests import check_text


@web.middleware
async def input_guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    check_text(request.path, "request")
    for key, value in request.query.items():
        check_text(key, "request")
        check_text(value, "request")
    return await handler(request)
