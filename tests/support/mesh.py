"""Mesh test helpers: a recording handler, typed message builders, polling, the shared cluster secret."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from synctv._generated import mesh_pb2 as pb
from synctv.discovery import Member
from synctv.mesh import MeshNode

CLUSTER_SECRET = "test-cluster-secret-0123456789abcdef"
# Another cluster secret: what an instance started with a fresh random secret has.
WRONG_SECRET = "another-cluster-secret-fedcba9876543210"


def member_of(node: Any) -> Member:
    """A node's discovery record (a gRPC node's loopback address; an in-process node has none)."""
    port = getattr(node, "bound_port", 0)
    return Member(instance_id=node.instance_id, grpc_address=f"127.0.0.1:{port}" if port else "")


def command(room_id: str, op_id: str, payload: bytes) -> pb.Command:
    """A room command whose client frame is `payload` (the recording handler echoes it)."""
    cmd = pb.Command(room_id=room_id, op_id=op_id)
    cmd.body.client_frame.frame = payload
    return cmd


def event_batch(room_id: str, *seqs: int, payload: bytes = b"") -> pb.EventBatch:
    batch = pb.EventBatch(room_id=room_id)
    for seq in seqs:
        batch.events.add(seq=seq, server_ts_ms=1000 + seq).delivery.frame = payload or str(seq).encode()
    return batch


def echoed(reply: pb.Reply) -> bytes:
    assert reply.code == pb.OK, reply
    return bytes(reply.frames[0])


class RecordingHandler:
    """A MeshHandler that records everything it receives and answers commands it is told to own."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.owned: set[str] | None = None  # None = owns every room
        self.redirect_to = ""
        self.commands: list[tuple[str, pb.Command]] = []
        self.events: list[tuple[str, str, pb.Event]] = []
        self.subscribes: list[tuple[str, str, bool]] = []
        self.controls: list[tuple[str, pb.Control]] = []
        self.live: list[tuple[str, pb.LiveData | pb.LiveSubscribe]] = []
        self.queries: list[tuple[str, pb.Query]] = []
        self.peer_downs: list[str] = []
        self.changed = asyncio.Event()

    def _note(self) -> None:
        self.changed.set()

    async def handle_command(self, peer: str, command: pb.Command) -> pb.Reply:
        self.commands.append((peer, command))
        self._note()
        if self.owned is not None and command.room_id not in self.owned:
            return pb.Reply(code=pb.NOT_OWNER, error="not owner", redirect_to=self.redirect_to)
        frame = command.body.client_frame.frame
        if frame == b"boom":
            raise RuntimeError("handler exploded")
        return pb.Reply(frames=[b"ok:" + self.instance_id.encode() + b":" + frame])

    async def handle_query(self, peer: str, query: pb.Query) -> pb.QueryReply:
        self.queries.append((peer, query))
        self._note()
        if query.WhichOneof("body") == "pull":
            if query.pull.room_id == "missing":
                return pb.QueryReply(code=pb.NOT_FOUND, error="no such room")
            return pb.QueryReply(snapshot=pb.RoomSnapshot(room_id=query.pull.room_id, seq=7,
                                                          subscribers=[self.instance_id]))
        return pb.QueryReply(ack=pb.Ack())

    async def handle_events(self, peer: str, batch: pb.EventBatch) -> None:
        self.events.extend((peer, batch.room_id, e) for e in batch.events)
        self._note()

    async def handle_subscribe(self, peer: str, room_id: str, on: bool) -> None:
        self.subscribes.append((peer, room_id, on))
        self._note()

    async def handle_control(self, peer: str, control: pb.Control) -> None:
        self.controls.append((peer, control))
        self._note()

    async def handle_live_data(self, peer: str, data: pb.LiveData) -> None:
        self.live.append((peer, data))
        self._note()

    async def handle_live_subscribe(self, peer: str, sub: pb.LiveSubscribe) -> None:
        self.live.append((peer, sub))
        self._note()

    async def handle_peer_down(self, peer: str) -> None:
        self.peer_downs.append(peer)
        self._note()


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll `predicate` until true; fail the test with a clear message after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


MeshFactory = Callable[..., Awaitable[tuple[MeshNode, RecordingHandler]]]
