"""In-process mesh transport with the same API as `MeshNode`, for fast tests of cluster logic.

Frames are serialized and parsed on the way (by the same codec as on the wire) and delivered by one pump task
per (sender, receiver) pair, batched like the gRPC link, so ordering matches the gRPC transport: everything
from A to B arrives in send order. `InProcessNetwork.crash(id)` drops a node without goodbye; its peers get
`handle_peer_down`. A node may be given another protocol version or another cluster secret to test refusals:
`connect(peer)` is the mutual authentication (the same secret and protocol major, checked both ways at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from synctv._generated import mesh_pb2 as pb
from synctv.mesh import wire
from synctv.mesh.api import MeshHandler, MeshInspector
from synctv.mesh.core import MeshCore, build_frame
from synctv.mesh.version import PROTOCOL_MAJOR, PROTOCOL_MINOR

log = logging.getLogger(__name__)


class InProcessNetwork:
    def __init__(self) -> None:
        self.nodes: dict[str, InProcessNode] = {}

    def node(self, instance_id: str, handler: MeshHandler, inspector: MeshInspector | None = None,
             secret: str = "") -> InProcessNode:
        return InProcessNode(self, instance_id, handler, inspector=inspector, secret=secret)

    async def crash(self, instance_id: str) -> None:
        node = self.nodes.get(instance_id)
        if node is not None:
            await node.stop(goodbye=False)


class _Link:
    def __init__(self, src: InProcessNode, peer: str) -> None:
        self.src = src
        self.peer = peer
        self.queue: list[pb.Envelope] = []
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.up = False

    def enqueue(self, envelope: pb.Envelope) -> None:
        self.queue.append(envelope)
        self.wake.set()
        if self.task is None:
            self.task = asyncio.create_task(self._pump())

    def _handshake(self, dst: InProcessNode) -> bool:
        src = self.src
        if dst.member(src.instance_id) is None:
            return False  # as the gRPC mesh: only members may open a stream
        if dst.version_refusal(src.instance_id, src.hello()) or src.version_refusal(dst.instance_id, dst.hello()):
            return False
        self.up = True
        src.stream_up(self.peer)
        dst.stream_up(src.instance_id)
        return True

    async def _pump(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            await asyncio.sleep(0)  # as the gRPC link: what this loop turn still adds leaves in the same frame
            batch, self.queue = self.queue, []
            if not batch:
                continue
            dst = self.src.network.nodes.get(self.peer)
            if dst is None or dst.stopped or (not self.up and not self._handshake(dst)):
                # Like a refused connection: the envelopes are lost and the peer counts as down.
                if self.up:
                    self.up = False
                    self.src.stream_down(self.peer, outbound=True)
                continue
            await dst.dispatch_frame(self.src.instance_id, wire.parse_frame(wire.serialize_frame(build_frame(batch))))

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class InProcessNode(MeshCore):
    def __init__(
        self,
        network: InProcessNetwork,
        instance_id: str,
        handler: MeshHandler,
        *,
        inspector: MeshInspector | None = None,
        protocol: tuple[int, int] = (PROTOCOL_MAJOR, PROTOCOL_MINOR),
        secret: str = "",
    ) -> None:
        super().__init__(instance_id, handler)
        self.secret = secret
        self.network = network
        self.inspector = inspector
        self.protocol = protocol
        self.bound_port = 0
        self.stopped = True
        self._links: dict[str, _Link] = {}

    def hello(self, grpc_address: str = "") -> pb.Hello:
        hello = super().hello(grpc_address)
        hello.protocol_major, hello.protocol_minor = self.protocol
        return hello

    async def start(self) -> None:
        self.stopped = False
        self._closing = False
        self.network.nodes[self.instance_id] = self

    async def stop(self, grace: float | None = None, *, goodbye: bool = True) -> None:
        if goodbye and not self.stopped:
            await self.say_leaving(0.5)
        self.stopped = True
        if self.network.nodes.get(self.instance_id) is self:
            del self.network.nodes[self.instance_id]
        await self.close_core()
        links, self._links = list(self._links.values()), {}
        for link in links:
            await link.close()
        # Peers notice at once, as they would from a reset TCP connection.
        for other in list(self.network.nodes.values()):
            other.peer_gone(self.instance_id)

    def set_serving(self, serving: bool) -> None:
        return None

    def connect(self, peer: str) -> None:
        """Authenticate with `peer` now, both ways (the data link still opens on first use)."""
        dst = self.network.nodes.get(peer)
        if dst is None or dst.stopped or self.stopped:
            return  # not reachable: authentication stays pending
        if dst.secret != self.secret:
            self.note_auth_failed(peer, "it refused our stream: UNAUTHENTICATED invalid or missing cluster token")
            dst.note_auth_failed(self.instance_id, "it refused our stream: UNAUTHENTICATED invalid or missing "
                                                   "cluster token")
            return
        refusal = self.version_refusal(peer, dst.hello())
        if refusal or dst.version_refusal(self.instance_id, self.hello()):
            self.note_auth_failed(peer, refusal or "it refused our stream: FAILED_PRECONDITION")
            dst.note_auth_failed(self.instance_id, refusal or "incompatible mesh protocol")
            return
        for a, b in ((self, peer), (dst, self.instance_id)):
            a.note_authenticated(b, outbound=True)
            a.note_authenticated(b, outbound=False)

    def is_connected(self, peer: str) -> bool:
        link = self._links.get(peer)
        return link is not None and link.up

    def link_connected(self, peer: str) -> bool:
        return self.is_connected(peer)

    async def flush_links(self, timeout: float) -> None:
        for _ in range(max(1, int(timeout / 0.001))):
            if not any(link.queue for link in self._links.values()):
                break
            await asyncio.sleep(0.001)
        await asyncio.sleep(0)  # the last batch's dispatch

    def peer_gone(self, peer: str) -> None:
        link = self._links.get(peer)
        if link is not None and link.up:
            link.up = False
            self.stream_down(peer, outbound=True)
        elif self._peer_alive.get(peer):
            self.stream_down(peer, outbound=False)

    def link(self, peer: str) -> _Link:
        link = self._links.get(peer)
        if link is None:
            link = self._links[peer] = _Link(self, peer)
        return link

    def drop_link(self, peer: str) -> None:
        link = self._links.pop(peer, None)
        if link is not None:
            self._spawn(link.close())
