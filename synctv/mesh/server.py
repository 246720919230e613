"""Inbound half of the gRPC mesh: the `Mesh` service (Connect stream and inspection RPCs)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import grpc

from synctv._generated import mesh_pb2 as pb
from synctv.discovery.base import Member
from synctv.mesh import wire
from synctv.mesh.auth import CONNECT_METHOD

if TYPE_CHECKING:
    from synctv.mesh.node import MeshNode

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 5.0
SERVICE = "synctv.mesh.v1.Mesh"


def _member_info(m: Member, excluded: str = "") -> pb.MemberInfo:
    return pb.MemberInfo(
        instance_id=m.instance_id,
        http_address=m.http_address,
        grpc_address=m.grpc_address,
        version=m.version,
        started_at_ms=m.started_at_ms,
        excluded=excluded,
    )


class MeshServicer:
    def __init__(self, node: MeshNode) -> None:
        self.node = node
        # Inbound streams per peer. A reconnecting peer's new stream does not end the old one: a second stream
        # under the same id is not proof that the first is dead (or that the second is the real peer), so each
        # lives until it ends by itself (the peer closes it, or keepalive finds it dead). The peer counts as
        # down only when its last inbound stream ends.
        self._inbound: dict[str, int] = {}

    def handler(self) -> grpc.GenericRpcHandler:
        """The service, with the stream's frames (de)serialized by the mesh's one codec."""
        return grpc.method_handlers_generic_handler(SERVICE, {
            "Connect": grpc.stream_stream_rpc_method_handler(
                self.Connect, request_deserializer=wire.parse_frame, response_serializer=wire.serialize_frame),
            "Describe": grpc.unary_unary_rpc_method_handler(
                self.Describe, request_deserializer=pb.Empty.FromString,
                response_serializer=pb.InstanceInfo.SerializeToString),
            "Owner": grpc.unary_unary_rpc_method_handler(
                self.Owner, request_deserializer=pb.OwnerRequest.FromString,
                response_serializer=pb.OwnerReply.SerializeToString),
            "OwnedRooms": grpc.unary_unary_rpc_method_handler(
                self.OwnedRooms, request_deserializer=pb.Empty.FromString,
                response_serializer=pb.RoomList.SerializeToString),
        })

    async def Connect(self, request_iterator: Any, context: Any) -> None:
        caller = self.node.auth.caller(context.invocation_metadata())
        # The interceptor already refuses these; checked again here, where the stream is bound to the caller.
        if isinstance(caller, str):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or missing cluster token")
            return
        if self.node.auth.check(CONNECT_METHOD, context.invocation_metadata()):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not a member of this cluster")
            return
        peer = caller.instance_id
        # Initial metadata first, so the client learns the stream was accepted before it writes.
        await context.send_initial_metadata((("x-synctv-instance", self.node.instance_id),))
        try:
            first = await asyncio.wait_for(context.read(), HELLO_TIMEOUT)
        except TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no hello")
            return
        if first is grpc.aio.EOF or len(first.envelopes) != 1 or first.envelopes[0].WhichOneof("body") != "hello":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "first message must be hello")
            return
        hello = first.envelopes[0].hello
        if hello.instance_id != peer:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "hello does not match the token issuer")
            return
        refusal = self.node.version_refusal(peer, hello)
        if refusal:
            self.node.note_auth_failed(peer, refusal)
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, refusal)
            return
        await context.write(pb.Frame(envelopes=[pb.Envelope(hello=self.node.hello())]))
        self.node.heard(peer)
        self.node.note_authenticated(peer, outbound=False)
        self._inbound[peer] = self._inbound.get(peer, 0) + 1
        self.node.stream_up(peer)
        try:
            while True:
                frame = await context.read()
                if frame is grpc.aio.EOF:
                    break
                await self.node.dispatch_frame(peer, frame)
        finally:
            self._inbound[peer] -= 1
            if self._inbound[peer] > 0:
                self.node.stream_superseded(peer)
            else:
                del self._inbound[peer]
                self.node.stream_down(peer, outbound=False)

    async def Describe(self, request: pb.Empty, context: Any) -> pb.InstanceInfo:
        insp = self.node.inspector
        excluded: dict[str, str] = {}
        if insp is not None:
            me = insp.self_member()
            members = list(insp.members())
            excluded = insp.excluded()
        else:
            me = Member(instance_id=self.node.instance_id, started_at_ms=self.node.started_at_ms)
            members = [me, *self.node.members()]
        return pb.InstanceInfo(
            instance_id=me.instance_id,
            http_address=me.http_address,
            grpc_address=me.grpc_address or self.node.advertise_address,
            version=me.version or self.node.version,
            started_at_ms=me.started_at_ms or self.node.started_at_ms,
            members=[_member_info(m, excluded.get(m.instance_id, ""))
                     for m in sorted(members, key=lambda m: m.instance_id)],
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
