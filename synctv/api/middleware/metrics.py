"""HTTP request counts and durations by route template (bounded label values)."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from synctv.observability.metrics import Metrics


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def metrics_middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            route = route_template(request)
            if route != "/api/room/ws":  # a WebSocket's "duration" is its whole session
                metrics.http_duration.labels(request.method, route).observe(time.perf_counter() - start)
            metrics.http_requests.labels(request.method, route, str(status)).inc()

    return middleware
