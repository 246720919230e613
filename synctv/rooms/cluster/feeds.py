"""Who receives a room's events: the owner's subscribed edges, and each edge's subscription to an owner.

An edge subscribes to a room's owner on its first local viewer and follows the owner when it changes;
events arrive with per-room sequence numbers, and a gap (lost events) triggers a resync from the owner.
"""

from __future__ import annotations

from collections.abc import Iterable

from synctv._generated import mesh_pb2 as pb


class Subscribers:
    """Owner side: the peers that want each room's events."""

    def __init__(self) -> None:
        self._rooms: dict[str, set[str]] = {}

    def get(self, room_id: str) -> set[str] | None:
        return self._rooms.get(room_id)

    def change(self, room_id: str, peer: str, on: bool) -> None:
        if on:
            self._rooms.setdefault(room_id, set()).add(peer)
            return
        peers = self._rooms.get(room_id)
        if peers is not None:
            peers.discard(peer)
            if not peers:
                del self._rooms[room_id]

    def add_all(self, room_id: str, peers: Iterable[str]) -> None:
        self._rooms.setdefault(room_id, set()).update(peers)

    def pop(self, room_id: str) -> set[str]:
        return self._rooms.pop(room_id, set())

    def forget(self, peers: set[str]) -> None:
        for subscribed in self._rooms.values():
            subscribed -= peers


class EdgeFeeds:
    """Edge side: the owner each local room is subscribed to, and the last event sequence seen from it."""

    def __init__(self) -> None:
        self.subscribed: dict[str, str] = {}
        self._last_seq: dict[str, tuple[str, int]] = {}

    def follow(self, room_id: str, owner: str | None) -> None:
        """Events of the room now come from `owner` (None: from this instance itself)."""
        self._last_seq.pop(room_id, None)
        if owner is None:
            self.subscribed.pop(room_id, None)
        else:
            self.subscribed[room_id] = owner

    def drop(self, room_id: str) -> str | None:
        self._last_seq.pop(room_id, None)
        return self.subscribed.pop(room_id, None)

    def accept(self, peer: str, batch: pb.EventBatch) -> tuple[list[pb.Event], bool]:
        """The events not seen before, and whether some were lost in between."""
        room_id = batch.room_id
        last = self._last_seq.get(room_id)
        fresh: list[pb.Event] = []
        gap = False
        for ev in batch.events:
            if last is not None and last[0] == peer:
                if ev.seq <= last[1]:
                    continue  # duplicate after a stream reconnect
                if ev.seq != last[1] + 1:
                    gap = True
            last = (peer, ev.seq)
            fresh.append(ev)
        if last is not None:
            self._last_seq[room_id] = last
        return fresh, gap
