"""The contract between the mesh and the rooms layer: handler and inspector protocols, counters."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from synctv._generated import mesh_pb2 as pb
from synctv.discovery.base import Member


class MeshHandler(Protocol):
    """Implemented by the rooms layer; `peer` is the verified instance id of the sender."""

    async def handle_command(self, peer: str, command: pb.Command) -> pb.Reply:
        """Apply a room command at its owner; a refusal (NOT_OWNER, BUSY, ...) is the reply's code."""
        ...

    async def handle_query(self, peer: str, query: pb.Query) -> pb.QueryReply: ...

    async def handle_events(self, peer: str, batch: pb.EventBatch) -> None: ...

    async def handle_subscribe(self, peer: str, room_id: str, on: bool) -> None: ...

    async def handle_control(self, peer: str, control: pb.Control) -> None: ...

    async def handle_live_data(self, peer: str, data: pb.LiveData) -> None:
        """A relayed live channel's tags and segments, from the channel's host."""
        ...

    async def handle_live_subscribe(self, peer: str, sub: pb.LiveSubscribe) -> None:
        """A peer starts or stops relaying a live channel hosted here."""
        ...

    async def handle_peer_down(self, peer: str) -> None:
        """A stream to or from `peer` was lost (called once per loss, not once per stream)."""
        ...


class MeshInspector(Protocol):
    """Answers the unary inspection RPCs (Describe, Owner, OwnedRooms); supplied by the app."""

    def self_member(self) -> Member: ...

    def members(self) -> Sequence[Member]: ...

    def owner(self, room_id: str) -> str: ...

    def owned_rooms(self) -> Sequence[str]: ...

    def excluded(self) -> dict[str, str]:
        """Discovery members left out of the ring, with why."""
        ...


@dataclass
class MeshStats:
    """Plain counters; a metrics exporter reads them, tests assert on them."""

    # (peer, kind) -> envelopes sent / received; kind is the envelope's oneof name ("command", "events", ...).
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Events (not envelopes) carried, per peer.
    events_sent: Counter[str] = field(default_factory=Counter)
    streams_up: Counter[str] = field(default_factory=Counter)
    streams_down: Counter[str] = field(default_factory=Counter)
    unauthenticated: int = 0
    # Streams refused because the peer speaks another major version of the protocol.
    protocol_mismatches: int = 0
    # Peers whose mesh authentication failed (our token refused, another protocol), per peer.
    auth_failures: Counter[str] = field(default_factory=Counter)
    # Times a peer went silent (nothing heard, not even a heartbeat, for the silence limit), per peer.
    silences: Counter[str] = field(default_factory=Counter)
    # Recent command round-trip times in seconds, newest last.
    command_rtt: deque[float] = field(default_factory=lambda: deque(maxlen=1024))
    rtt_hooks: list[Callable[[str, float], None]] = field(default_factory=list)

    def record_rtt(self, peer: str, seconds: float) -> None:
        self.command_rtt.append(seconds)
        for hook in self.rtt_hooks:
            hook(peer, seconds)
