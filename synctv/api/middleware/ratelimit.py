"""Per-client-IP fixed-window rate limit (off by default, as upstream)."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from synctv.api.responses import error
from synctv.config import RateLimitConfig, parse_duration


def client_ip(request: web.Request, cfg: RateLimitConfig) -> str:
    if cfg.trusted_client_ip_header:
        value = request.headers.get(cfg.trusted_client_ip_header, "").strip()
        if value:
            return value
    if cfg.trust_forward_header:
        fwd = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if fwd:
            return fwd
        real = request.headers.get("X-Real-IP", "").strip()
        if real:
            return real
    return request.remote or "unknown"


def rate_limit_middleware(cfg: RateLimitConfig) -> Middleware:
    period = parse_duration(cfg.period, "rate_limit.period")
    windows: dict[str, tuple[int, int]] = {}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        window = int(time.monotonic() // period)
        ip = client_ip(request, cfg)
        start, count = windows.get(ip, (window, 0))
        if start != window:
            start, count = window, 0
            if len(windows) > 100_000:
                windows.clear()
        count += 1
        windows[ip] = (start, count)
        remaining = max(cfg.limit - count, 0)
        reset = int((window + 1) * period - time.monotonic())
        headers = {"X-RateLimit-Limit": str(cfg.limit), "X-RateLimit-Remaining": str(remaining),
                   "X-RateLimit-Reset": str(reset)}
        if count > cfg.limit:
            resp = error(429, "too many requests")
            resp.headers.update(headers)
            return resp
        response = await handler(request)
        if not response.prepared:
            response.headers.update(headers)
        return response

    return middleware
