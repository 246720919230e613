"""Mesh test helpers: a recording handler, polling, the shared cluster secret."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from synctv.mesh import MeshEvent, MeshNode, NotOwner

CLUSTER_SECRET = "test-cluster-secret-0123456789abcdef"


class RecordingHandler:
    """A MeshHandler that records everything it receives and answers commands it is told to own."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.owned: set[str] | None = None  # None = owns every room
        self.redirect_to = ""
        self.commands: list[tuple[str, str, str, bytes]] = []
        self.events: list[tuple[str, str, MeshEvent]] = []
        self.presence: list[tuple[str, str, bytes]] = []
        self.subscribes: list[tuple[str, str, bool]] = []
        self.controls: list[tuple[str, str, bytes]] = []
        self.peer_downs: list[str] = []
        self.changed = asyncio.Event()

    def _note(self) -> None:
        self.changed.set()

    async def handle_command(self, peer: str, room_id: str, op_id: str, payload: bytes) -> bytes:
        self.commands.append((peer, room_id, op_id, payload))
        self._note()
        if self.owned is not None and room_id not in self.owned:
            raise NotOwner(self.redirect_to)
        if payload == b"boom":
            raise RuntimeError("handler exploded")
        return b"ok:" + self.instance_id.encode() + b":" + payload

    async def handle_events(self, peer: str, room_id: str, events: Sequence[MeshEvent]) -> None:
        self.events.extend((peer, room_id, e) for e in events)
        self._note()

    async def handle_presence(self, peer: str, room_id: str, payload: bytes) -> None:
        self.presence.append((peer, room_id, payload))
        self._note()

    async def handle_subscribe(self, peer: str, room_id: str, on: bool) -> None:
        self.subscribes.append((peer, room_id, on))
        self._note()

    async def handle_snapshot(self, peer: str, room_id: str) -> bytes:
        if room_id == "missing":
            raise KeyError("no such room")
        return f"snapshot:{self.instance_id}:{room_id}".encode()

    async def handle_control(self, peer: str, kind: str, payload: bytes) -> None:
        self.controls.append((peer, kind, payload))
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
