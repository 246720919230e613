"""The upstream response envelope: `{"data": ..., "time": µs}` or `{"error": "...", "time": µs}`."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from aiohttp import web

from synctv.core.errors import ErrorCode, RoomError


def now_us() -> int:
    return time.time_ns() // 1000


class ApiError(Exception):
    """Raised by handlers; rendered by the error middleware as an error envelope."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def request_timeout(message: str) -> ApiError:
    return ApiError(408, message)


def unauthorized(message: str = "authentication failed") -> ApiError:
    return ApiError(401, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def too_many_requests(message: str, retry_after_s: float) -> ApiError:
    return ApiError(429, message, {"Retry-After": str(max(1, math.ceil(retry_after_s)))})


_ROOM_ERROR_STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.DENIED: 403, ErrorCode.CLOSED: 404}


def room_error_status(code: ErrorCode) -> int:
    """The HTTP status for a room's refusal: a transient one (moving, busy, unreachable) is 503, retry later."""
    if code.transient:
        return 503
    return _ROOM_ERROR_STATUS.get(code, 400)


def room_error(err: RoomError) -> ApiError:
    return ApiError(room_error_status(err.code), err.message)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response({"data": data, "time": now_us()}, status=status, dumps=_dumps)


def raw(data: Any, status: int = 200) -> web.Response:
    """Un-enveloped JSON (upstream does this for a few OAuth2/provider endpoints)."""
    return web.json_response(data, status=status, dumps=_dumps)


def no_content() -> web.Response:
    return web.Response(status=204)


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "time": now_us()}, status=status, dumps=_dumps)
