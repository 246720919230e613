"""Cluster wiring: the mesh endpoint, this instance's membership record, discovery, and a graceful leave."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from dataclasses import dataclass

from synctv import __version__
from synctv.config import Config, parse_duration
from synctv.discovery import Discovery, Member, create_discovery
from synctv.mesh import MeshNode
from synctv.rooms.cluster.inspector import Inspector
from synctv.rooms.cluster.mesh_handler import RouterMeshHandler
from synctv.rooms.router import RoomRouter
from synctv.runtime.invalidation import Invalidator
from synctv.services import Services

log = logging.getLogger(__name__)

_WILDCARDS = ("", "0.0.0.0", "::", "[::]")


def advertise_host(cfg: Config) -> str:
    if cfg.cluster.advertise_address:
        return cfg.cluster.advertise_address
    if cfg.server.http.listen not in _WILDCARDS:
        return cfg.server.http.listen
    with contextlib.suppress(OSError):
        return socket.gethostbyname(socket.gethostname())
    return "127.0.0.1"


class LeaseGuard:
    """Self-fencing without over-reacting.

    When this instance cannot renew its lease it may be partitioned (peers will soon give its rooms to someone
    else) or the discovery service may be down for everyone (nobody moves rooms). It keeps owning rooms only
    while it still reaches every known peer over the mesh; otherwise it stops acting as owner before its lease
    can expire on the others. The database epoch remains the final guard either way.
    """

    def __init__(self, router: RoomRouter, mesh: MeshNode) -> None:
        self.router = router
        self.mesh = mesh
        self._task: asyncio.Task[None] | None = None
        self.leaving = False  # the lease is revoked on purpose when leaving: rooms are handed over instead

    def lease_changed(self, valid: bool) -> None:
        if self.leaving:
            return
        if valid:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            self.router.set_can_own(True)
        elif self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._watch())

    def peers_reachable(self) -> bool:
        peers = [m.instance_id for m in self.router.members() if m.instance_id != self.router.instance_id]
        return all(self.mesh.is_connected(p) for p in peers)

    async def _watch(self) -> None:
        while True:
            reachable = self.peers_reachable()
            if not reachable and self.router.ownership.can_own:
                log.warning("lease not renewed and peers unreachable: no longer acting as owner")
            self.router.set_can_own(reachable)
            await asyncio.sleep(0.5)


def _excluded(router: RoomRouter) -> str:
    return "; ".join(f"{peer} ({why})" for peer, why in sorted(router.excluded_peers().items())) or "none"


@dataclass
class ClusterParts:
    mesh: MeshNode
    discovery: Discovery
    router: RoomRouter
    guard: LeaseGuard | None = None

    async def leave(self, drain_timeout: float) -> None:
        """Turn not-ready, leave discovery (peers recompute the ring at once), then hand every owned room to
        its next owner; this instance's viewers follow the new owners until their sockets are closed."""
        if self.guard is not None:
            self.guard.leaving = True
        self.mesh.set_serving(False)
        with contextlib.suppress(Exception):
            await self.discovery.stop()
        started = time.monotonic()
        await self.router.begin_leave(timeout=drain_timeout)
        log.info("rooms handed over", extra={"seconds": round(time.monotonic() - started, 3),
                                             "handoffs": dict(self.router.handoffs)})

    async def stop(self) -> None:
        await self.mesh.stop(grace=1.0)


async def start_cluster(cfg: Config, svc: Services, router: RoomRouter, invalidator: Invalidator,
                        http_port: int) -> ClusterParts:
    cl = cfg.cluster
    host = advertise_host(cfg)
    grpc_port_override = ""
    if host.count(":") == 1:  # "host:port": peers reach the mesh through a different port (proxy, NAT)
        host, grpc_port_override = host.split(":")
    mesh = MeshNode(
        router.instance_id, cl.secret, RouterMeshHandler(router), listen=cl.grpc.listen, port=cl.grpc.port,
        version=__version__, tls_cert_path=str(cfg.resolve_path(cl.grpc.tls_cert_path)) if cl.grpc.tls_cert_path
        else "", tls_key_path=str(cfg.resolve_path(cl.grpc.tls_key_path)) if cl.grpc.tls_key_path else "",
        tls_ca_path=str(cfg.resolve_path(cl.grpc.tls_ca_path)) if cl.grpc.tls_ca_path else "",
        tls_server_name=cl.grpc.tls_server_name, inspector=Inspector(router),
        # A peer silent on the mesh for a lease's time is treated as discovery treats a lease that ran out.
        silence_limit_s=parse_duration(cl.discovery.ttl, "cluster.discovery.ttl"))
    await mesh.start()
    scheme = "https" if cfg.server.http.cert_path else "http"
    me = Member(instance_id=router.instance_id, http_address=f"{scheme}://{host}:{http_port}",
                grpc_address=f"{host}:{grpc_port_override or mesh.bound_port}", version=__version__,
                started_at_ms=time.time_ns() // 1_000_000)
    mesh.set_advertise_address(me.grpc_address)
    router.attach(mesh, me)
    discovery = create_discovery(cl, me)
    discovery.on_change(router.set_members)

    def count_error(healthy: bool) -> None:
        if not healthy:
            svc.discovery_errors += 1

    discovery.on_health_change(count_error)
    guard = None
    if discovery.has_lease:
        guard = LeaseGuard(router, mesh)
        discovery.on_lease_change(guard.lease_changed)
    try:
        await discovery.start()
    except Exception:
        await mesh.stop(grace=0)
        raise
    router.set_members(discovery.members())

    async def discovery_check() -> tuple[bool, str]:
        members = len(discovery.members())
        return discovery.healthy, f"{members} members" if discovery.healthy else "discovery unreachable"

    async def membership_check() -> tuple[bool, str]:
        members = len(router.members())
        if router.left_out:
            return False, (f"left out: cannot authenticate with most of the {len(router.discovered)} discovery "
                           f"members ({_excluded(router)})")
        return True, f"{members} of {max(len(router.discovered), 1)} discovery members authenticated"

    async def peers_check() -> tuple[bool, str]:
        excluded = router.excluded_peers()
        return not excluded, f"excluded: {_excluded(router)}" if excluded else "every discovery peer authenticated"

    svc.health_checks["discovery"] = discovery_check
    svc.health_checks["peers"] = peers_check
    svc.readiness_checks["membership"] = membership_check
    svc.mesh = mesh
    svc.discovery = discovery
    log.info("joined cluster", extra={"grpc": me.grpc_address, "discovery": cl.discovery.type})
    return ClusterParts(mesh=mesh, discovery=discovery, router=router, guard=guard)
