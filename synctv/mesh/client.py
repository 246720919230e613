"""Outbound half of the gRPC mesh: one long-lived Connect stream per peer, reconnected with backoff.

The link owns an ordered queue. Envelopes leave the queue only after they were written, so a stream that
breaks mid-batch re-sends the unwritten tail on the next stream: delivery is at-least-once and in order
(the rooms layer de-duplicates by op id and event sequence number).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from typing import TYPE_CHECKING, Any

import grpc

from synctv._generated import mesh_pb2 as pb
from synctv.mesh import wire
from synctv.mesh.core import HEARTBEAT_S, build_frame
from synctv.mesh.errors import MeshError, ProtocolMismatch

if TYPE_CHECKING:
    from synctv.mesh.node import MeshNode

log = logging.getLogger(__name__)

CONNECT_PATH = "/synctv.mesh.v1.Mesh/Connect"
CONNECT_TIMEOUT = 3.0
BACKOFF_MIN = 0.05
BACKOFF_MAX = 2.0
# Envelopes queued for an unreachable peer before the oldest are dropped (the peer will resync by snapshot).
MAX_QUEUE = 50_000
MAX_BATCH = 256
# A write the peer does not take within this time means the stream is dead (or the peer is stuck): reconnect.
WRITE_TIMEOUT_S = 10.0


class PeerLink:
    def __init__(self, node: MeshNode, peer: str) -> None:
        self.node = node
        self.peer = peer
        self.queue: deque[pb.Envelope] = deque()
        self.dropped = 0
        self.connected = False
        self._wake = asyncio.Event()
        self._broken = False
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    def enqueue(self, envelope: pb.Envelope) -> None:
        if self._closed:
            raise MeshError(f"link to {self.peer} is closed")
        if len(self.queue) >= MAX_QUEUE:
            self.queue.popleft()
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("mesh: queue to %s full, dropped %d envelopes", self.peer, self.dropped)
        self.queue.append(envelope)
        self._wake.set()
        if self._task is None:
            # Opened lazily: the first envelope for a peer starts its stream.
            self._task = asyncio.create_task(self._run(), name=f"mesh-link-{self.peer}")

    def ensure_started(self) -> None:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name=f"mesh-link-{self.peer}")

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        backoff = BACKOFF_MIN
        while not self._closed:
            address = self.node.address_of(self.peer)
            if address:
                try:
                    if await self._session(address):
                        backoff = BACKOFF_MIN
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.debug("mesh: stream to %s at %s failed: %s", self.peer, address, exc)
            if self._closed:
                return
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _session(self, address: str) -> bool:
        """Run one stream until it breaks; return True if it was established."""
        channel = self.node.make_channel(address)
        call: Any = None
        established = False
        reader: asyncio.Task[None] | None = None
        try:
            connect = channel.stream_stream(CONNECT_PATH, request_serializer=wire.serialize_frame,
                                            response_deserializer=wire.parse_frame)
            call = connect(metadata=self.node.signer.metadata(self.peer))
            # Await the server's initial metadata before writing: a rejected stream then reports its real
            # status (UNAUTHENTICATED) instead of a racy INTERNAL error from a write into a dead call.
            await asyncio.wait_for(call.initial_metadata(), CONNECT_TIMEOUT)
            if call.done():
                code = await call.code()
                details = await call.details()
                self.node.note_rejected(self.peer, code, details)
                raise MeshError(f"stream to {self.peer} refused: {code.name} {details}")
            await asyncio.wait_for(call.write(pb.Frame(envelopes=[pb.Envelope(hello=self.node.hello())])),
                                   WRITE_TIMEOUT_S)
            first = await asyncio.wait_for(call.read(), CONNECT_TIMEOUT)
            if first is grpc.aio.EOF or len(first.envelopes) != 1 or first.envelopes[0].WhichOneof("body") != "hello":
                raise MeshError(f"peer at {address} did not say hello")
            hello = first.envelopes[0].hello
            if hello.instance_id != self.peer:
                self.node.note_auth_failed(self.peer, f"{address} answers as {hello.instance_id!r}")
                raise MeshError(f"{address} is {hello.instance_id!r}, expected {self.peer!r}")
            refusal = self.node.version_refusal(self.peer, hello)
            if refusal:
                self.node.note_auth_failed(self.peer, refusal)
                raise ProtocolMismatch(refusal)
            self.node.note_authenticated(self.peer, outbound=True)
            established = True
            self.connected = True
            self._broken = False
            self.node.stream_up(self.peer)
            reader = asyncio.create_task(self._read(call))
            await self._write_loop(call)
        finally:
            self.connected = False
            if reader is not None:
                reader.cancel()
            if call is not None:
                call.cancel()
            await channel.close(grace=None)
            if established:
                self.node.stream_down(self.peer, outbound=True)
        return established

    async def _read(self, call: Any) -> None:
        # The response direction only carries the peer's Hello; its end means the stream is gone.
        try:
            while True:
                msg = await call.read()
                if msg is grpc.aio.EOF:
                    break
        except Exception:
            pass
        finally:
            self._broken = True
            self._wake.set()

    async def _write_loop(self, call: Any) -> None:
        while not self._closed:
            # asyncio.timeout, not wait_for: no extra task per write on the mesh's hottest path.
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    await self._wake.wait()
            except TimeoutError:  # nothing to send: a heartbeat, so the peer can tell quiet from cut
                async with asyncio.timeout(WRITE_TIMEOUT_S):
                    await call.write(pb.Frame())
                continue
            self._wake.clear()
            # One loop turn for whatever the same turn's work still adds (a command's reply right after the
            # events it caused): they leave together, in one frame.
            await asyncio.sleep(0)
            while self.queue:
                if self._broken:
                    raise MeshError(f"stream to {self.peer} closed by peer")
                batch = [self.queue[i] for i in range(min(len(self.queue), MAX_BATCH))]
                async with asyncio.timeout(WRITE_TIMEOUT_S):
                    await call.write(build_frame(batch))
                for _ in batch:
                    self.queue.popleft()
            if self._broken:
                raise MeshError(f"stream to {self.peer} closed by peer")
