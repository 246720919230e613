"""The live layer's part of the mesh, as the rooms layer's mesh handler sees it (set by `synctv.live`)."""

from __future__ import annotations

from typing import Protocol

from synctv._generated import mesh_pb2 as pb


class LivePart(Protocol):
    def on_data(self, peer: str, data: pb.LiveData) -> None: ...

    def on_subscribe(self, peer: str, sub: pb.LiveSubscribe) -> None: ...

    async def answer(self, peer: str, query: pb.Query) -> pb.QueryReply: ...

    def peer_down(self, peer: str) -> None: ...
