"""Cluster wiring: the mesh endpoint, this instance's membership record, discovery, and a graceful leave."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from dataclasses import dataclass

from synctv import __version__
from synctv.api.context import Services
from synctv.config import Config
from synctv.discovery import Discovery, Member, create_discovery
from synctv.mesh import MeshNode
from synctv.rooms.cluster import ClusterRouter, Inspector
from synctv.runtime.invalidation import Invalidator

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


@dataclass
class ClusterParts:
    mesh: MeshNode
    discovery: Discovery
    router: ClusterRouter

    async def leave(self) -> None:
        """Turn not-ready and leave discovery first, so peers recompute the ring at once."""
        self.mesh.set_serving(False)
        with contextlib.suppress(Exception):
            await self.discovery.stop()

    async def stop(self) -> None:
        await self.mesh.stop(grace=1.0)


async def start_cluster(cfg: Config, svc: Services, router: ClusterRouter, invalidator: Invalidator,
                        http_port: int) -> ClusterParts:
    cl = cfg.cluster
    host = advertise_host(cfg)
    mesh = MeshNode(
        router.instance_id, cl.secret, router, listen=cl.grpc.listen, port=cl.grpc.port,
        version=__version__, tls_cert_path=str(cfg.resolve_path(cl.grpc.tls_cert_path)) if cl.grpc.tls_cert_path
        else "", tls_key_path=str(cfg.resolve_path(cl.grpc.tls_key_path)) if cl.grpc.tls_key_path else "",
        tls_ca_path=str(cfg.resolve_path(cl.grpc.tls_ca_path)) if cl.grpc.tls_ca_path else "",
        inspector=Inspector(router))
    await mesh.start()
    scheme = "https" if cfg.server.http.cert_path else "http"
    me = Member(instance_id=router.instance_id, http_address=f"{scheme}://{host}:{http_port}",
                grpc_address=f"{host}:{mesh.bound_port}", version=__version__,
                started_at_ms=time.time_ns() // 1_000_000)
    mesh.set_advertise_address(me.grpc_address)
    router.attach(mesh, me)
    discovery = create_discovery(cl, me)
    discovery.on_change(router.set_members)
    on_health = getattr(discovery, "on_health_change", None)
    if on_health is not None:
        def count_error(healthy: bool) -> None:
            if not healthy:
                svc.extras["discovery_errors"] = int(svc.extras.get("discovery_errors", 0)) + 1

        on_health(count_error)
    on_lease = getattr(discovery, "on_lease_change", None)
    if on_lease is not None:
        on_lease(router.set_can_own)
    try:
        await discovery.start()
    except Exception:
        await mesh.stop(grace=0)
        raise
    router.set_members(discovery.members())

    async def discovery_check() -> tuple[bool, str]:
        members = len(discovery.members())
        return discovery.healthy, f"{members} members" if discovery.healthy else "discovery unreachable"

    svc.health_checks["discovery"] = discovery_check
    svc.extras["mesh"] = mesh
    svc.extras["discovery"] = discovery
    log.info("joined cluster", extra={"grpc": me.grpc_address, "discovery": cl.discovery.type})
    return ClusterParts(mesh=mesh, discovery=discovery, router=router)
