"""A server span per HTTP request, continuing the caller's trace when it sends W3C trace headers."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from synctv.api.middleware.metrics import route_template
from synctv.observability import tracing


@web.middleware
async def tracing_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not tracing.enabled():
        return await handler(request)
    route = route_template(request)
    if route == "/api/room/ws":
        return await handler(request)  # a WebSocket session is not one operation: each message gets its own trace
    ctx = tracing.extract(request.headers)
    with tracing.span(f"HTTP {request.method} {route}", {"http.method": request.method, "http.route": route},
                      context=ctx) as span:
        response = await handler(request)
        if span is not None:
            span.set_attribute("http.status_code", response.status)
        return response
