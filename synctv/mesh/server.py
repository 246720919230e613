"""Inbound half of the gRPC mesh: the `Mesh` service (Connect stream and inspection RPCs)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import grpc
import jwt

from synctv._generated import mesh_pb2 as pb
from synctv._generated import mesh_pb2_grpc as pb_grpc
from synctv.discovery.base import Member
from synctv.mesh.auth import METADATA_KEY, verify_token

if TYPE_CHECKING:
    from synctv.mesh.node import MeshNode

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 5.0


def _member_info(m: Member) -> pb.MemberInfo:
    return pb.MemberInfo(
        instance_id=m.instance_id,
        http_address=m.http_address,
        grpc_address=m.grpc_address,
        version=m.version,
        started_at_ms=m.started_at_ms,
    )


class MeshServicer(pb_grpc.MeshServicer):  # type: ignore[misc]
    def __init__(self, node: MeshNode) -> None:
        self.node = node
        # peer -> the task serving its current inbound stream; a reconnect supersedes the older stream.
        self._inbound: dict[str, asyncio.Task[Any]] = {}
        self._superseded: set[asyncio.Task[Any]] = set()

    def _caller(self, context: Any) -> str | None:
        for key, value in context.invocation_metadata() or ():
            if key == METADATA_KEY and isinstance(value, str) and value.startswith("Bearer "):
                try:
                    return verify_token(value[len("Bearer ") :], self.node.secret)
                except jwt.InvalidTokenError:
                    return None
        return None

    async def Connect(self, request_iterator: Any, context: Any) -> None:
        peer = self._caller(context)
        if peer is None:  # the interceptor already rejects these; this is defence in depth
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or missing cluster token")
            return
        # Initial metadata first, so the client learns the stream was accepted before it writes.
        await context.send_initial_metadata((("x-synctv-instance", self.node.instance_id),))
        try:
            first = await asyncio.wait_for(context.read(), HELLO_TIMEOUT)
        except TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no hello")
            return
        if first is grpc.aio.EOF or first.WhichOneof("body") != "hello":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "first message must be hello")
            return
        if first.hello.instance_id != peer:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "hello does not match the token issuer")
            return
        self.node.learn_address(peer, first.hello.grpc_address)
        await context.write(pb.Envelope(hello=self.node.hello()))

        me = asyncio.current_task()
        assert me is not None
        old = self._inbound.get(peer)
        if old is not None and not old.done():
            # The peer reconnected, so its previous stream is dead from its side: retire it quietly.
            self._superseded.add(old)
            old.cancel()
        self._inbound[peer] = me
        self.node._stream_up(peer)
        try:
            while True:
                env = await context.read()
                if env is grpc.aio.EOF:
                    break
                await self.node._dispatch(peer, env)
        finally:
            if self._inbound.get(peer) is me:
                del self._inbound[peer]
            if me in self._superseded:
                self._superseded.discard(me)
                self.node.stats.streams_down[peer] += 1
            else:
                self.node._stream_down(peer, outbound=False)

    async def Describe(self, request: pb.Empty, context: Any) -> pb.InstanceInfo:
        insp = self.node.inspector
        if insp is not None:
            me = insp.self_member()
            members = list(insp.members())
        else:
            me = Member(instance_id=self.node.instance_id, started_at_ms=self.node.started_at_ms)
            members = [me, *self.node._members.values()]
        return pb.InstanceInfo(
            instance_id=me.instance_id,
            http_address=me.http_address,
            grpc_address=me.grpc_address or self.node.advertise_address,
            version=me.version or self.node.version,
            started_at_ms=me.started_at_ms or self.node.started_at_ms,
            members=[_member_info(m) for m in sorted(members, key=lambda m: m.instance_id)],
        )

    async def Owner(self, request: pb.OwnerRequest, context: Any) -> pb.OwnerReply:
        if self.node.inspector is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "no inspector")
        assert self.node.inspector is not None
        return pb.OwnerReply(instance_id=self.node.inspector.owner(request.room_id))

    async def OwnedRooms(self, request: pb.Empty, context: Any) -> pb.RoomList:
        if self.node.inspector is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "no inspector")
        assert self.node.inspector is not None
        return pb.RoomList(room_ids=sorted(self.node.inspector.owned_rooms()))
