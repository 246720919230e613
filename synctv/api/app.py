"""The aiohttp application: middleware, every route module, the OpenAPI document and the web client."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from synctv.api import (
    openapi,
    routes_admin,
    routes_admin_vendors,
    routes_cluster,
    routes_debug,
    routes_email,
    routes_health,
    routes_live,
    routes_members,
    routes_movies,
    routes_oauth2,
    routes_proxy,
    routes_public,
    routes_room,
    routes_user,
    routes_vendors,
    ws,
)
from synctv.api.context import SERVICES
from synctv.api.middleware.access_log import access_log_middleware
from synctv.api.middleware.cors import cors_middleware
from synctv.api.middleware.errors import error_middleware
from synctv.api.middleware.input_guard import input_guard_middleware
from synctv.api.middleware.metrics import metrics_middleware
from synctv.api.middleware.ratelimit import rate_limit_middleware
from synctv.api.middleware.security_headers import security_headers_middleware
from synctv.api.middleware.tracing import tracing_middleware
from synctv.api.responses import error, raw
from synctv.api.routing import RouteDoc, Routes
from synctv.api.static import add_static_routes
from synctv.api.ws_allowance import CHAT_ALLOWANCES, ChatAllowances
from synctv.api.ws_penalty import PENALTIES, FloodPenalties
from synctv.observability.metrics import Metrics
from synctv.services import Services

ROUTE_MODULES: list[Routes] = [
    routes_health.routes, routes_public.routes, routes_user.routes, routes_oauth2.routes, routes_email.routes,
    routes_room.routes, routes_members.routes, routes_movies.routes, routes_proxy.routes, routes_live.routes,
    ws.routes, routes_admin.routes, routes_cluster.routes, routes_debug.routes, routes_vendors.routes,
    routes_admin_vendors.routes,
]


def all_route_docs() -> list[RouteDoc]:
    return [doc for module in ROUTE_MODULES for doc in module.docs]


def _bearer_matches(request: web.Request, expected: bytes) -> bool:
    auth = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, given = auth.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


def create_app(svc: Services, *, web_path: str | None = None, metrics: Metrics | None = None) -> web.Application:
    middlewares: list[Middleware] = [
        security_headers_middleware(svc.cfg.server.web_content_security_policy,
                                    svc.cfg.server.http.hsts_max_age), tracing_middleware,
        access_log_middleware, cors_middleware, error_middleware, input_guard_middleware]
    if metrics is not None:
        middlewares.insert(0, metrics_middleware(metrics))
    if svc.cfg.rate_limit.enable:
        middlewares.append(rate_limit_middleware(svc.cfg.rate_limit, svc.router.throttle))
    app = web.Application(middlewares=middlewares, client_max_size=1 << 20)
    app[SERVICES] = svc
    app[PENALTIES] = FloodPenalties()
    app[CHAT_ALLOWANCES] = ChatAllowances()
    async def close_media(_app: web.Application) -> None:
        if svc.vendors is not None:
            await svc.vendors.close()
            svc.vendors = None
        if svc.media is not None:
            await svc.media.close()
            svc.media = None

    app.on_cleanup.append(close_media)
    for module in ROUTE_MODULES:
        app.router.add_routes(module.table)
    spec = openapi.build(all_route_docs())

    async def openapi_json(request: web.Request) -> web.Response:
        return raw(spec)

    app.router.add_get("/api/openapi.json", openapi_json)
    if metrics is not None and svc.cfg.server.metrics_path:
        registry = metrics.registry

        expected = svc.cfg.server.metrics_token.encode()

        async def metrics_endpoint(request: web.Request) -> web.Response:
            if expected and not _bearer_matches(request, expected):
                resp = error(401, "metrics need the configured bearer token (server.metrics_token)")
                resp.headers[hdrs.WWW_AUTHENTICATE] = 'Bearer realm="metrics"'
                return resp
            resp = web.Response(body=generate_latest(registry))
            resp.content_type = CONTENT_TYPE_LATEST.split(";")[0]
            return resp

        app.router.add_get(svc.cfg.server.metrics_path, metrics_endpoint)
    add_static_routes(app, web_path)
    app.cleanup_ctx.append(_follow_settings)
    return app


async def _follow_settings(app: web.Application) -> AsyncIterator[None]:
    """Site settings changed by another writer of the database (the CLI, another instance) apply within ~1 s."""
    task = asyncio.create_task(app[SERVICES].store.settings.watch(), name="settings-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
