"""`MeshNode`: the gRPC mesh endpoint of one instance (server, peer links, health, reflection, auth)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from synctv._generated import mesh_pb2 as pb
from synctv.mesh.api import MeshHandler, MeshInspector
from synctv.mesh.auth import AuthInterceptor, TokenSigner
from synctv.mesh.client import PeerLink
from synctv.mesh.core import MeshCore
from synctv.mesh.server import MeshServicer

log = logging.getLogger(__name__)

MESH_SERVICE = pb.DESCRIPTOR.services_by_name["Mesh"].full_name

# The largest frame a peer may send: a batch of events or a room snapshot is far smaller.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# How long a stopping instance waits for its goodbye to be written to its peers.
LEAVING_FLUSH_S = 0.5
# Keep idle streams alive through NATs/LBs and notice a dead peer within ~15 s even without traffic.
_CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]
_SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


class MeshNode(MeshCore):
    def __init__(
        self,
        instance_id: str,
        secret: str,
        handler: MeshHandler,
        listen: str = "0.0.0.0",
        port: int = 0,
        *,
        advertise_address: str = "",
        version: str = "",
        tls_cert_path: str = "",
        tls_key_path: str = "",
        tls_ca_path: str = "",
        tls_server_name: str = "",
        inspector: MeshInspector | None = None,
        token_ttl: float = 60.0,
        silence_limit_s: float = 0.0,
    ) -> None:
        super().__init__(instance_id, handler)
        self.silence_limit_s = silence_limit_s
        if not secret:
            raise ValueError("cluster.secret: required for the mesh")
        if bool(tls_cert_path) != bool(tls_key_path):
            raise ValueError("cluster.grpc.tls_cert_path: TLS needs both tls_cert_path and tls_key_path")
        self.secret = secret
        self.listen = listen
        self.port = port
        self.version = version
        self.inspector = inspector
        self.signer = TokenSigner(instance_id, secret, ttl=token_ttl)
        self.bound_port = 0
        self._advertise = advertise_address
        self._tls_cert = Path(tls_cert_path).read_bytes() if tls_cert_path else None
        self._tls_key = Path(tls_key_path).read_bytes() if tls_key_path else None
        self._tls_ca = Path(tls_ca_path).read_bytes() if tls_ca_path else None
        self._tls_server_name = tls_server_name
        self._links: dict[str, PeerLink] = {}
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()
        self.auth = AuthInterceptor(secret, instance_id, is_member=lambda peer: self.member(peer) is not None,
                                    on_reject=self._on_reject)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        server = grpc.aio.server(interceptors=[self.auth], options=_SERVER_OPTIONS)
        server.add_generic_rpc_handlers((MeshServicer(self).handler(),))
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (MESH_SERVICE, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            server,
        )
        target = f"{self.listen}:{self.port}"
        if self._tls_cert and self._tls_key:
            creds = grpc.ssl_server_credentials(
                [(self._tls_key, self._tls_cert)],
                root_certificates=self._tls_ca,
                # With a CA configured, peers must present a certificate it signed (mutual TLS).
                require_client_auth=self._tls_ca is not None,
            )
            self.bound_port = server.add_secure_port(target, creds)
        else:
            self.bound_port = server.add_insecure_port(target)
        if not self.bound_port:
            raise OSError(f"cluster.grpc.port: cannot listen on {target}")
        await server.start()
        self._server = server
        if self.silence_limit_s > 0:
            self._spawn(self.watch_silence())
        await self._set_health(True)
        log.info("mesh %s listening on %s:%d", self.instance_id, self.listen, self.bound_port)

    async def stop(self, grace: float | None = 1.0, *, goodbye: bool = True) -> None:
        await self._set_health(False)
        if goodbye:
            await self.say_leaving(LEAVING_FLUSH_S)
        await self.close_core()
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None

    def set_serving(self, serving: bool) -> None:
        """What grpc.health.v1 reports (load balancers and Consul's gRPC check read it)."""
        self._spawn(self._set_health(serving))

    async def _set_health(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for service in ("", MESH_SERVICE):
            await self._health.set(service, status)

    # -- addressing ----------------------------------------------------------------------------------------

    @property
    def advertise_address(self) -> str:
        if self._advertise:
            return self._advertise
        if self.listen not in ("", "0.0.0.0", "::", "[::]") and self.bound_port:
            return f"{self.listen}:{self.bound_port}"
        return ""

    def set_advertise_address(self, address: str) -> None:
        """The address peers dial back (known only once the port is bound when listening on port 0)."""
        self._advertise = address

    def hello(self, grpc_address: str = "") -> pb.Hello:
        return super().hello(grpc_address or self.advertise_address)

    def link_connected(self, peer: str) -> bool:
        return self.is_connected(peer)

    async def flush_links(self, timeout: float) -> None:
        for _ in range(max(1, int(timeout / 0.01))):
            if not any(link.connected and link.queue for link in self._links.values()):
                return
            await asyncio.sleep(0.01)

    def address_of(self, peer: str) -> str:
        """Where to dial `peer`: only ever the address discovery gave, never one a caller named."""
        member = self.member(peer)
        return member.grpc_address if member is not None else ""

    def make_channel(self, address: str) -> grpc.aio.Channel:
        options = list(_CHANNEL_OPTIONS)
        if self._tls_cert or self._tls_ca:
            if self._tls_server_name:
                options.append(("grpc.ssl_target_name_override", self._tls_server_name))
            creds = grpc.ssl_channel_credentials(
                root_certificates=self._tls_ca, private_key=self._tls_key, certificate_chain=self._tls_cert
            )
            return grpc.aio.secure_channel(address, creds, options=options)
        return grpc.aio.insecure_channel(address, options=options)

    # -- links ---------------------------------------------------------------------------------------------

    def link(self, peer: str) -> PeerLink:
        link = self._links.get(peer)
        if link is None:
            link = self._links[peer] = PeerLink(self, peer)
        return link

    def drop_link(self, peer: str) -> None:
        link = self._links.pop(peer, None)
        if link is not None:
            self._spawn(link.close())

    def connect(self, peer: str) -> None:
        """Open the stream to `peer` now instead of on first use (optional warm-up)."""
        self.link(peer).ensure_started()

    def is_connected(self, peer: str) -> bool:
        link = self._links.get(peer)
        return link is not None and link.connected

    # -- auth accounting -----------------------------------------------------------------------------------

    def _on_reject(self, method: str, reason: str) -> None:
        self.stats.unauthenticated += 1

    def note_rejected(self, peer: str, code: grpc.StatusCode, details: str = "") -> None:
        """`peer` refused our stream. UNAUTHENTICATED (our token does not verify there: another cluster.secret)
        and FAILED_PRECONDITION (another protocol) are authentication failures; PERMISSION_DENIED only means
        the peer has not seen us in discovery yet."""
        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.FAILED_PRECONDITION):
            self.note_auth_failed(peer, f"it refused our stream: {code.name} {details}".strip())
        elif code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            # Nothing answers there (a crashed or stopped peer): the lost stream was logged once already.
            log.debug("mesh: %s unreachable: %s %s", peer, code.name, details)
        else:
            log.info("mesh: %s refused our stream for now: %s %s", peer, code.name, details)
