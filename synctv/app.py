"""Composition: configuration in, wired objects out, one lifecycle (start -> ready -> drain -> stop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
import sys
import time
import uuid

from aiohttp import web

from synctv import __version__, dependency_errors, logs
from synctv.api.app import create_app
from synctv.auth.tokens import TokenCodec
from synctv.config import Config, parse_duration
from synctv.first_root import ensure_first_root, ensure_guest
from synctv.live.listener import RtmpListener, SharedSite
from synctv.live.service import rtmp_handler, start_live_cluster
from synctv.observability import tracing
from synctv.observability.metrics import Metrics
from synctv.rooms.hub import LocalHub
from synctv.rooms.router import RoomRouter
from synctv.runtime import gc_tuning
from synctv.runtime.cluster import ClusterParts, start_cluster
from synctv.runtime.invalidation import Invalidator
from synctv.runtime.readiness import ReadinessLoop
from synctv.services import Services
from synctv.store import Store

log = logging.getLogger("synctv")

CLOSE_SERVICE_RESTART = 1012  # tells clients to reconnect (the load balancer sends them elsewhere)


class Runtime:
    """One instance: store, rooms runtime (single node or cluster member), HTTP server."""

    def __init__(self, cfg: Config, *, web_path: str | None = None) -> None:
        self.cfg = cfg
        self.web_path = web_path or cfg.server.web_path or None
        self.instance_id = cfg.cluster.instance_id or uuid.uuid4().hex[:12]
        self.store: Store | None = None
        self.services: Services | None = None
        self.runner: web.AppRunner | None = None
        self.cluster: ClusterParts | None = None
        self.metrics: Metrics | None = None
        self.readiness: ReadinessLoop | None = None
        self.port = 0
        self.rtmp_port = 0  # where RTMP listens (the HTTP port when shared); 0 when RTMP is off
        self.rtmp_listener: RtmpListener | None = None

    async def _start_sites(self, ssl_ctx: ssl.SSLContext | None) -> web.TCPSite:
        """The HTTP site, sharing its port with RTMP when `server.rtmp.port` is 0 (plain HTTP only)."""
        cfg, svc = self.cfg, self.services
        assert self.runner is not None and svc is not None
        http = cfg.server.http
        rtmp = cfg.server.rtmp
        handler = rtmp_handler(svc) if rtmp.enable else None
        if handler is not None and rtmp.port == 0 and ssl_ctx is None:
            # A connection that never sends a first byte is cut off like one that never completes its head.
            first_byte = parse_duration(http.header_timeout, "server.http.header_timeout")
            site: web.TCPSite = SharedSite(self.runner, http.listen, http.port, handler, reuse_address=True,
                                           first_byte_timeout=first_byte)
        else:
            site = web.TCPSite(self.runner, http.listen, http.port, ssl_context=ssl_ctx, reuse_address=True)
        await site.start()
        if handler is not None and rtmp.port:
            self.rtmp_listener = RtmpListener(rtmp.listen, rtmp.port, handler)
            await self.rtmp_listener.start()
            self.rtmp_port = self.rtmp_listener.port
        elif handler is not None and ssl_ctx is None:
            self.rtmp_port = site.port
        elif handler is not None:
            log.warning("rtmp is off: the HTTP port uses TLS, so RTMP needs its own port (server.rtmp.port)")
        return site

    async def start(self) -> None:
        cfg = self.cfg
        if cfg.tracing.enabled and not tracing.enabled():
            tracing.setup(self.instance_id, endpoint=cfg.tracing.otlp_endpoint, sample_ratio=cfg.tracing.sample_ratio)
        self.store = await Store.open(cfg)
        tracing.instrument_engine(self.store.engine)
        await ensure_guest(self.store)
        hub = LocalHub()
        idle = parse_duration(cfg.rooms.idle_unload, "rooms.idle_unload")
        # A single node is the cluster of one: the same router, a ring of one and no mesh.
        router = RoomRouter(self.store, hub, self.instance_id, idle_unload_s=idle,
                            command_timeout_s=parse_duration(cfg.cluster.command_timeout, "cluster.command_timeout"))
        router.slots.lease_s = parse_duration(cfg.rooms.connection_lease, "rooms.connection_lease")
        self.services = svc = Services(
            cfg=cfg, store=self.store, router=router, hub=hub,
            tokens=TokenCodec(cfg.jwt.secret, parse_duration(cfg.jwt.expire, "jwt.expire")),
            instance_id=self.instance_id, version=__version__, started_at_ms=time.time_ns() // 1_000_000)
        invalidator = Invalidator(svc)
        svc.broadcast_invalidation = invalidator.broadcast
        await router.start()
        self.metrics = Metrics()
        app = create_app(svc, web_path=self.web_path, metrics=self.metrics)
        # Generous header limits: long tokens or query strings get an enveloped 4xx from the app, not a
        # plain-text parser error.
        # aiohttp closes a connection that is waiting for a request head when its keep-alive time is up, which
        # makes that time the header read timeout too (a slowloris client never completes its head).
        self.runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=5.0,
                                    max_line_size=65536, max_field_size=65536,
                                    keepalive_timeout=parse_duration(cfg.server.http.header_timeout,
                                                                     "server.http.header_timeout"))
        await self.runner.setup()
        ssl_ctx = None
        if cfg.server.http.cert_path:
            ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_ctx.load_cert_chain(cfg.resolve_path(cfg.server.http.cert_path),
                                    cfg.resolve_path(cfg.server.http.key_path))
        site = await self._start_sites(ssl_ctx)
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else cfg.server.http.port
        if cfg.cluster.enabled:
            self.cluster = await start_cluster(cfg, svc, router, invalidator, self.port)
            if cfg.server.rtmp.enable:
                start_live_cluster(svc)
        # Only now that the ports are bound: a start that fails there creates no root and loses no password.
        await ensure_first_root(self.store, cfg, self.instance_id)
        # Re-evaluated every second; the mesh's gRPC health service follows it (NOT_SERVING while not ready).
        self.readiness = ReadinessLoop(svc, on_change=self.cluster.mesh.set_serving if self.cluster else None)
        self.readiness.start()
        self.metrics.bind(svc)
        log.info("serving", extra={"listen": cfg.server.http.listen, "port": self.port,
                                   "database": self.store.dialect, "clustered": cfg.cluster.enabled})

    async def stop(self) -> None:
        """Graceful stop: turn not-ready, leave discovery, close WebSockets with a reconnect code, flush, close."""
        if self.services is not None:
            self.services.draining = True
            if self.readiness is not None:
                await self.readiness.stop()
            if self.cluster is not None:
                await self.cluster.leave(parse_duration(self.cfg.server.drain_timeout, "server.drain_timeout"))
            self.services.hub.close_all(CLOSE_SERVICE_RESTART, "server restarting")
            if self.services.live is not None:  # publishers reconnect, landing on another instance
                self.services.live.close_all("server restarting")
            if self.rtmp_listener is not None:
                await self.rtmp_listener.stop()
            if self.services.live is not None and self.services.live.cluster is not None:
                await self.services.live.cluster.stop()
            await asyncio.sleep(0.05)
            await self.services.router.stop()
            if self.cluster is not None:
                await self.cluster.stop()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.store is not None:
            await self.store.close()


def install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _serve(cfg: Config, web_path: str | None) -> None:
    runtime = Runtime(cfg, web_path=web_path)
    logs.setup(cfg.log.level, cfg.log.log_format, runtime.instance_id,
               str(cfg.resolve_path(cfg.log.file_path)) if cfg.log.file_path else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    gc_tuning.tune_after_startup()
    print(f"SyncTV {__version__} listening on http://{cfg.server.http.listen}:{runtime.port}/web/", flush=True)
    await stop.wait()
    log.info("shutting down")
    await runtime.stop()
    log.info("stopped")


def serve(cfg: Config, web_path: str | None = None) -> None:
    install_uvloop()
    try:
        asyncio.run(_serve(cfg, web_path))
    except Exception as exc:  # a dependency or a port: one line naming it, no traceback
        print(f"synctv: cannot start: {dependency_errors.describe(cfg, exc)}", file=sys.stderr)
        raise SystemExit(1) from None
