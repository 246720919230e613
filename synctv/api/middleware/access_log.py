"""One access log line per HTTP request: method, route template, status, latency (ms), and the room and user
where known. The query string and headers are never logged (they carry tokens); health probes and metric
scrapes log at debug level only. The request's log context is bound here, so every line a handler writes
carries the same room, user and trace ids.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from synctv import logs
from synctv.api.auth import USER_KEY
from synctv.api.middleware.metrics import route_template
from synctv.core.validation import is_id

log = logging.getLogger("synctv.access")

_QUIET = frozenset({"/live", "/ready", "/health", "/metrics"})


def _room_id(request: web.Request) -> str | None:
    room_id = (request.headers.get("X-Room-Id") or request.query.get("roomId") or
               request.match_info.get("roomId") or "")
    return room_id if is_id(room_id) else None  # only well-formed ids: the log never echoes raw input


def _user_id(request: web.Request) -> str | None:
    user = request.get(USER_KEY)
    return user.id if user is not None else None


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    start = time.perf_counter()
    status = 500
    with logs.bind(room_id=_room_id(request), user_id=lambda: _user_id(request)):
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away
            raise
        finally:
            route = route_template(request)
            level = logging.DEBUG if route in _QUIET else logging.INFO
            if log.isEnabledFor(level):
                log.log(level, "%s %s %d", request.method, route, status,
                        extra={"method": request.method, "route": route, "status": status,
                               "latency_ms": round((time.perf_counter() - start) * 1000, 2),
                               "remote": request.remote or ""})
