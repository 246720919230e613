"""In-process mesh transport with the same API as `MeshNode`, for fast tests of cluster logic.

Envelopes are serialized and parsed on the way (as on the wire) and delivered by one pump task per
(sender, receiver) pair, so ordering matches the gRPC transport: everything from A to B arrives in send order.
`InProcessNetwork.crash(id)` drops a node without goodbye; its peers get `handle_peer_down`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from synctv._generated import mesh_pb2 as pb
from synctv.mesh.api import MeshHandler, MeshInspector
from synctv.mesh.core import MeshCore

log = logging.getLogger(__name__)


class InProcessNetwork:
    def __init__(self) -> None:
        self.nodes: dict[str, InProcessNode] = {}

    def node(self, instance_id: str, handler: MeshHandler, inspector: MeshInspector | None = None) -> InProcessNode:
        return InProcessNode(self, instance_id, handler, inspector=inspector)

    async def crash(self, instance_id: str) -> None:
        node = self.nodes.get(instance_id)
        if node is not None:
            await node.stop()


class _Link:
    def __init__(self, src: InProcessNode, peer: str) -> None:
        self.src = src
        self.peer = peer
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.up = False

    def enqueue(self, envelope: pb.Envelope) -> None:
        self.queue.put_nowait(envelope.SerializeToString())
        if self.task is None:
            self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            data = await self.queue.get()
            dst = self.src.network.nodes.get(self.peer)
            if dst is None or dst.stopped:
                # Like a refused connection: the envelope is lost and the peer counts as down.
                if self.up:
                    self.up = False
                    self.src._stream_down(self.peer, outbound=True)
                continue
            if not self.up:
                self.up = True
                self.src._stream_up(self.peer)
                dst._stream_up(self.src.instance_id)
            env = pb.Envelope()
            env.ParseFromString(data)
            await dst._dispatch(self.src.instance_id, env)

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
    ) -> None:
        super().__init__(instance_id, handler)
        self.network = network
        self.inspector = inspector
        self.bound_port = 0
        self.stopped = True
        self._links: dict[str, _Link] = {}

    async def start(self) -> None:
        self.stopped = False
        self._closing = False
        self.network.nodes[self.instance_id] = self

    async def stop(self, grace: float | None = None) -> None:
        self.stopped = True
        if self.network.nodes.get(self.instance_id) is self:
            del self.network.nodes[self.instance_id]
        await self._close_core()
        links, self._links = list(self._links.values()), {}
        for link in links:
            await link.close()
        # Peers notice at once, as they would from a reset TCP connection.
        for other in list(self.network.nodes.values()):
            other._peer_gone(self.instance_id)

    def set_serving(self, serving: bool) -> None:
        return None

    def _peer_gone(self, peer: str) -> None:
        link = self._links.get(peer)
        if link is not None and link.up:
            link.up = False
            self._stream_down(peer, outbound=True)
        elif self._peer_alive.get(peer):
            self._stream_down(peer, outbound=False)

    def _link(self, peer: str) -> Any:
        link = self._links.get(peer)
        if link is None:
            link = self._links[peer] = _Link(self, peer)
        return link

    def _drop_link(self, peer: str) -> None:
        link = self._links.pop(peer, None)
        if link is not None:
            self._spawn(link.close())
