"""The rooms layer's side of the mesh: each message from a peer handed to the router part it is for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from synctv._generated import mesh_pb2 as pb
from synctv.core import commands as c
from synctv.core.errors import ErrorCode
from synctv.observability import tracing
from synctv.rooms import wire

if TYPE_CHECKING:
    from synctv.rooms.router import RoomRouter


class RouterMeshHandler:
    def __init__(self, router: RoomRouter) -> None:
        self.router = router

    async def handle_command(self, peer: str, command: pb.Command) -> pb.Reply:
        router = self.router
        out = pb.Reply()
        if router.owner(command.room_id) == router.instance_id:
            await router.joined()  # the ring gives us the room but we are still authenticating: wait a moment
        reply = router.refusal(command.room_id)
        if reply is not None:
            if reply.code is ErrorCode.NOT_OWNER:
                owner = router.owner(command.room_id)
                out.redirect_to = owner if owner != router.instance_id else ""
        else:
            try:
                cmd = wire.command_from_pb(command.body)
            except wire.WireError as exc:
                reply = c.Reply.fail(ErrorCode.INVALID, str(exc))
            else:
                with tracing.span("mesh.command", {"synctv.instance": router.instance_id,
                                                   "synctv.room": command.room_id, "synctv.peer": peer},
                                  context=tracing.extract(dict(command.trace))):
                    reply = await router.submit_local(command.room_id, cmd, command.op_id)
        wire.reply_to_pb(reply, out)
        return out

    async def handle_query(self, peer: str, query: pb.Query) -> pb.QueryReply:
        return await self.router.queries.answer(peer, query)

    async def handle_events(self, peer: str, batch: pb.EventBatch) -> None:
        self.router.receive_events(peer, batch)

    async def handle_subscribe(self, peer: str, room_id: str, on: bool) -> None:
        self.router.subscribers.change(room_id, peer, on)

    async def handle_control(self, peer: str, control: pb.Control) -> None:
        await self.router.queries.apply_control(peer, control)

    async def handle_live_data(self, peer: str, data: pb.LiveData) -> None:
        if self.router.live is not None:
            self.router.live.on_data(peer, data)

    async def handle_live_subscribe(self, peer: str, sub: pb.LiveSubscribe) -> None:
        if self.router.live is not None:
            self.router.live.on_subscribe(peer, sub)

    async def handle_peer_down(self, peer: str) -> None:
        self.router.peer_down(peer)
        if self.router.live is not None:
            self.router.live.peer_down(peer)
