"""Prometheus metrics. Hot paths only bump plain counters they already keep; gauges and most counters are read
from the runtime's objects at scrape time. Labels are route templates, peers and kinds (bounded), never raw
paths or room ids.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event

if TYPE_CHECKING:
    from synctv.services import Services

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# Every metric this module exports (dashboards and alerts may only use these).
METRIC_NAMES = frozenset({
    "synctv_http_requests_total", "synctv_http_request_duration_seconds", "synctv_db_query_duration_seconds",
    "synctv_mesh_command_duration_seconds", "synctv_room_active_total", "synctv_room_viewers_total",
    "synctv_room_messages_sent_total", "synctv_room_messages_received_total", "synctv_websocket_connections_active",
    "synctv_websocket_messages_sent_total", "synctv_websocket_messages_received_total",
    "synctv_websocket_slow_clients_dropped_total", "synctv_db_connections_active", "synctv_db_connections_idle",
    "synctv_instance_uptime_seconds", "synctv_instance_memory_bytes", "synctv_instance_tasks",
    "synctv_instance_ready", "synctv_ring_members", "synctv_rooms_owned", "synctv_handoffs_total",
    "synctv_fence_rejections_total", "synctv_discovery_errors_total", "synctv_discovery_healthy",
    "synctv_mesh_messages_sent_total", "synctv_mesh_messages_received_total", "synctv_mesh_stream_up",
    "synctv_mesh_stream_ups_total", "synctv_mesh_stream_downs_total", "synctv_mesh_unauthenticated_total",
    "synctv_mesh_protocol_mismatches_total", "synctv_vendor_backend_state", "synctv_vendor_endpoint_state",
    "synctv_live_channels", "synctv_live_publishers", "synctv_live_viewers", "synctv_live_publishes_total",
    "synctv_live_publishes_refused_total", "synctv_live_bytes_in_total", "synctv_live_bytes_out_total",
    "synctv_live_hls_requests_total", "synctv_live_relay_streams", "synctv_live_pulls",
    "synctv_component_healthy", "synctv_mesh_auth_failures_total",
    "synctv_cluster_excluded_peers", "synctv_cluster_left_out", "synctv_db_fast_writer_fallbacks_total",
})
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter("synctv_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                     registry=r)
        self.http_duration = Histogram("synctv_http_request_duration_seconds", "HTTP request duration",
                                       ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r)
        self.db_query = Histogram("synctv_db_query_duration_seconds", "Database statement duration", ["operation"],
                                  buckets=_LATENCY_BUCKETS, registry=r)
        self.command_rtt = Histogram("synctv_mesh_command_duration_seconds",
                                     "Round trip of a command sent to a room's owner on another instance", ["peer"],
                                     buckets=_LATENCY_BUCKETS, registry=r)
        self.started = time.monotonic()

    def bind(self, svc: Services) -> None:
        """Attach the scrape-time collector and the database timing hooks to a running instance."""
        self.registry.register(_RuntimeCollector(svc, self.started))
        engine = svc.store.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
            conn.info.setdefault("synctv_t0", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
            stack = conn.info.get("synctv_t0")
            if stack:
                op = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "OTHER"
                if op not in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                    op = "OTHER"
                self.db_query.labels(op).observe(time.perf_counter() - stack.pop())

        svc.store.rooms.write_observer = lambda op, seconds: self.db_query.labels(op).observe(seconds)
        mesh = svc.mesh
        if mesh is not None:
            mesh.stats.rtt_hooks.append(lambda peer, seconds: self.command_rtt.labels(peer).observe(seconds))


class _RuntimeCollector(Collector):
    def __init__(self, svc: Services, started: float) -> None:
        self.svc = svc
        self.started = started

    def collect(self) -> Iterator[Any]:
        svc = self.svc
        router, hub = svc.router, svc.hub
        owned = [a for r in router.owned_rooms() if (a := router.local_actor(r)) is not None]
        yield _gauge("synctv_room_active_total", "Rooms whose actor runs on this instance", len(owned))
        yield _gauge("synctv_room_viewers_total", "Distinct viewers of the rooms owned here (cluster-wide)",
                     sum(a.viewer_count() for a in owned))
        yield _counter("synctv_room_messages_sent_total", "Events published by rooms owned here",
                       router.events_published)
        yield _counter("synctv_room_messages_received_total", "Commands applied by rooms owned here",
                       router.commands_applied)
        yield _gauge("synctv_websocket_connections_active", "Open WebSocket connections", hub.connection_count())
        yield _counter("synctv_websocket_messages_sent_total", "Frames queued to WebSockets", hub.frames_sent)
        yield _counter("synctv_websocket_messages_received_total", "Frames received from WebSockets",
                       hub.frames_received)
        yield _counter("synctv_websocket_slow_clients_dropped_total", "Clients closed for being too slow",
                       hub.slow_dropped)
        pool = svc.store.engine.pool
        checked_out = getattr(pool, "checkedout", lambda: 0)()
        checked_in = getattr(pool, "checkedin", lambda: 0)()
        yield _gauge("synctv_db_connections_active", "Database connections in use", checked_out)
        yield _gauge("synctv_db_connections_idle", "Idle pooled database connections", checked_in)
        yield _gauge("synctv_instance_uptime_seconds", "Seconds since start", time.monotonic() - self.started)
        yield _gauge("synctv_instance_memory_bytes", "Resident memory", resident_bytes())
        try:
            tasks = len(asyncio.all_tasks())
        except RuntimeError:
            tasks = 0
        yield _gauge("synctv_instance_tasks", "asyncio tasks", tasks)
        ready = not svc.draining and all(c["ok"] for c in svc.health.values() if c.get("gates_ready"))
        yield _gauge("synctv_instance_ready", "1 when /ready says ready (started, not draining, a member)",
                     1 if ready else 0)
        healthy = GaugeMetricFamily("synctv_component_healthy",
                                    "1 while a component of /health is ok (database, discovery, membership, ...)",
                                    labels=["component"])
        for name, component in sorted(svc.health.items()):
            healthy.add_metric([name], 1 if component["ok"] else 0)
        yield healthy
        from synctv.store.live_state import FALLBACKS

        yield _counter("synctv_db_fast_writer_fallbacks_total",
                       "Times the database's fast live-state writer could not start (the generic one is used)",
                       sum(FALLBACKS.values()))
        yield from _cluster(svc)
        yield from _vendor_backends(svc)
        yield from _live(svc)


def _vendor_backends(svc: Services) -> Iterator[Any]:
    """Connection state as gRPC numbers it (0 Idle, 1 Connecting, 2 Ready, 3 TransientFailure, 4 Shutdown)."""
    backend = GaugeMetricFamily("synctv_vendor_backend_state", "A vendor backend's connection state",
                                labels=["endpoint"])
    endpoint = GaugeMetricFamily("synctv_vendor_endpoint_state", "Connection state of a vendor backend's endpoint",
                                 labels=["backend", "address"])
    live = svc.vendors.backends.live if svc.vendors is not None else {}
    for name, b in live.items():
        backend.add_metric([name], b.pool.state())
        for e in b.pool.endpoints.values():
            endpoint.add_metric([name, e.address], e.state())
    yield backend
    yield endpoint


def _live(svc: Services) -> Iterator[Any]:
    live = svc.live
    channels = list(live) if live is not None else []
    yield _gauge("synctv_live_channels", "Live channels open here (hosted or relayed)", len(channels))
    yield _gauge("synctv_live_publishers", "RTMP publishers connected here", sum(1 for c in channels if c.live))
    yield _gauge("synctv_live_pulls", "Pulled live sources running here (the rooms' owners choose where)",
                 live.pulls_running() if live is not None else 0)
    viewers = GaugeMetricFamily("synctv_live_viewers", "Live viewers here by output", labels=["output"])
    viewers.add_metric(["flv"], live.flv_viewers if live is not None else 0)
    rtmp = sum(len(c.viewers) for c in channels) - (live.flv_viewers if live is not None else 0)
    viewers.add_metric(["rtmp"], max(rtmp, 0))
    yield viewers
    counters = live.counters if live is not None else None
    yield _counter("synctv_live_publishes_total", "Publish sessions accepted", counters.publishes if counters else 0)
    yield _counter("synctv_live_publishes_refused_total", "Publish attempts refused (key, room, movie, codec)",
                   counters.refused if counters else 0)
    yield _counter("synctv_live_bytes_in_total", "RTMP bytes received", counters.bytes_in if counters else 0)
    out = CounterMetricFamily("synctv_live_bytes_out_total", "Live bytes sent to viewers by output",
                              labels=["output"])
    out.add_metric(["flv"], counters.bytes_out_flv if counters else 0)
    out.add_metric(["hls"], counters.bytes_out_hls if counters else 0)
    yield out
    yield _counter("synctv_live_hls_requests_total", "HLS playlist requests", counters.hls_requests if counters else 0)
    relays = GaugeMetricFamily("synctv_live_relay_streams", "Channels relayed over the mesh by direction",
                               labels=["direction"])
    cluster = live.cluster if live is not None else None
    relays.add_metric(["in"], cluster.relay_streams_in if cluster else 0)
    relays.add_metric(["out"], cluster.relay_streams_out if cluster else 0)
    yield relays


def _cluster(svc: Services) -> Iterator[Any]:
    router = svc.router
    members = getattr(router, "members", None)
    yield _gauge("synctv_ring_members", "Members in this instance's view of the ring",
                 len(members()) if members is not None else 1)
    yield _gauge("synctv_rooms_owned", "Rooms this instance owns", len(router.owned_rooms()))
    handoffs = CounterMetricFamily("synctv_handoffs_total", "Room ownership moves by result", labels=["result"])
    for result, n in router.handoffs.items():
        handoffs.add_metric([result], n)
    yield handoffs
    yield _counter("synctv_fence_rejections_total", "Live-state writes refused by the ownership epoch",
                   router.fence_rejections)
    discovery = svc.discovery
    yield _counter("synctv_discovery_errors_total", "Times the discovery backend became unreachable",
                   svc.discovery_errors)
    yield _gauge("synctv_discovery_healthy", "1 while the discovery backend is reachable",
                 1 if discovery is None or discovery.healthy else 0)
    mesh = svc.mesh
    if mesh is None:
        return
    stats = mesh.stats
    sent = CounterMetricFamily("synctv_mesh_messages_sent_total", "Mesh envelopes sent", labels=["peer", "kind"])
    for (peer, kind), n in stats.sent.items():
        sent.add_metric([peer, kind], n)
    yield sent
    received = CounterMetricFamily("synctv_mesh_messages_received_total", "Mesh envelopes received",
                                   labels=["peer", "kind"])
    for (peer, kind), n in stats.received.items():
        received.add_metric([peer, kind], n)
    yield received
    up = GaugeMetricFamily("synctv_mesh_stream_up", "1 while the stream to a peer is connected", labels=["peer"])
    ups = CounterMetricFamily("synctv_mesh_stream_ups_total", "Streams established per peer", labels=["peer"])
    downs = CounterMetricFamily("synctv_mesh_stream_downs_total", "Streams lost per peer", labels=["peer"])
    for peer in mesh.peers:
        up.add_metric([peer], 1 if mesh.is_connected(peer) else 0)
        ups.add_metric([peer], stats.streams_up.get(peer, 0))
        downs.add_metric([peer], stats.streams_down.get(peer, 0))
    yield up
    yield ups
    yield downs
    yield _counter("synctv_mesh_unauthenticated_total", "Mesh calls refused for a missing or bad token",
                   stats.unauthenticated)
    yield _counter("synctv_mesh_protocol_mismatches_total",
                   "Mesh streams refused because the peer speaks another major protocol version",
                   stats.protocol_mismatches)
    failures = CounterMetricFamily("synctv_mesh_auth_failures_total",
                                   "Times a discovery peer failed mutual mesh authentication (secret, protocol)",
                                   labels=["peer"])
    for peer, n in stats.auth_failures.items():
        failures.add_metric([peer], n)
    yield failures
    excluded = GaugeMetricFamily("synctv_cluster_excluded_peers",
                                 "1 for each discovery peer left out of this instance's ring", labels=["peer"])
    for peer in sorted(router.excluded_peers()):
        excluded.add_metric([peer], 1)
    yield excluded
    yield _gauge("synctv_cluster_left_out", "1 while this instance is the side left out of the membership",
                 1 if router.left_out else 0)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)
