"""Per-client-address rate limit, cluster-wide (off by default, as upstream).

The budget of each address is kept by the instance the ring names for it (`rooms/cluster/throttle.py`), so
spreading requests over several instances buys nothing. The client address is the right-most hop of
`X-Forwarded-For` that is not a trusted proxy, and forwarded headers count only when the connection itself
comes from a trusted proxy.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from synctv.api.responses import error
from synctv.config import RateLimitConfig, parse_duration
from synctv.rooms.cluster.throttle import ClusterThrottle

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(cfg: RateLimitConfig) -> tuple[Network, ...]:
    return _parsed_networks(tuple(cfg.trusted_proxies))


@functools.lru_cache(maxsize=8)
def _parsed_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    # Parsed once per list, not per request (every WebSocket upgrade asks).
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in entries if n.strip())


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_ip(request: web.Request, cfg: RateLimitConfig, networks: Sequence[Network] = ()) -> str:
    remote = request.remote or "unknown"
    # With forwarded headers trusted but no proxy listed, the immediate peer is the one trusted proxy.
    proxies = networks or ()
    peer_trusted = _in(remote, proxies) if proxies else cfg.trust_forward_header
    if not peer_trusted:
        return remote
    if cfg.trusted_client_ip_header:
        value = request.headers.get(cfg.trusted_client_ip_header, "").strip()
        if value:
            return value
    if cfg.trust_forward_header:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not _in(hop, proxies):
                return hop  # the first hop no trusted proxy vouches for: everything left of it is client-made
        if hops:
            return hops[0]
        real = request.headers.get("X-Real-IP", "").strip()
        if real:
            return real
    return remote


def rate_limit_middleware(cfg: RateLimitConfig, throttle: ClusterThrottle) -> Middleware:
    period = parse_duration(cfg.period, "rate_limit.period")
    networks = trusted_networks(cfg)
    limit_header = {"X-RateLimit-Limit": str(cfg.limit)}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        wait = await throttle.allow("http:" + client_ip(request, cfg, networks), cfg.limit, period)
        if wait > 0:
            resp = error(429, "too many requests")
            resp.headers.update(limit_header)
            resp.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return resp
        response = await handler(request)
        if not response.prepared:
            response.headers.update(limit_header)
        return response

    return middleware
