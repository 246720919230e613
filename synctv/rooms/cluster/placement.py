"""Placement: the membership view and the consistent-hash rings that name each room's owner.

A member is an instance present in discovery *and* mutually authenticated over the mesh (see
`mesh.core.PeerAuth`); the ring is built from members only. `left_out` decides which side of a split in
authentication stays: the side holding a majority of the discovery members (on a tie, the side holding the
oldest one). A lone instance is a cluster of one.
"""

from __future__ import annotations

from collections.abc import Sequence

from synctv.discovery import Member
from synctv.mesh import Ring


def _age_key(member: Member) -> tuple[int, str]:
    return (member.started_at_ms or 0, member.instance_id)


def left_out(instance_id: str, discovered: Sequence[Member], members: Sequence[Member]) -> bool:
    """Whether this instance, having authenticated with `members` out of `discovered`, is the one left out."""
    known = {m.instance_id: m for m in discovered}
    known.setdefault(instance_id, Member(instance_id))
    group = {m.instance_id for m in members if m.instance_id in known} | {instance_id}
    if 2 * len(group) != len(known):
        return 2 * len(group) < len(known)
    return min(known.values(), key=_age_key).instance_id not in group


class Placement:
    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.self_member = Member(instance_id)
        self._members: list[Member] = [self.self_member]
        self.ring = Ring([instance_id])
        # The ring before the last change: who to pull a room from when it moves here.
        self.previous: Ring | None = None
        self.leaving = False

    def members(self) -> list[Member]:
        return list(self._members)

    def peer_ids(self) -> list[str]:
        return [m.instance_id for m in self._members if m.instance_id != self.instance_id]

    def is_member(self, instance_id: str) -> bool:
        return any(m.instance_id == instance_id for m in self._members)

    def _build(self) -> Ring:
        ids = {m.instance_id for m in self._members}
        if self.leaving and len(ids) > 1:
            ids.discard(self.instance_id)
        return Ring(ids)

    def set_members(self, members: Sequence[Member]) -> tuple[set[str], set[str], bool]:
        """A new view; returns the departed and the current instance ids, and whether the view changed."""
        old_ids = {m.instance_id for m in self._members}
        self._members = sorted(members, key=lambda m: m.instance_id)
        if self.instance_id not in {m.instance_id for m in self._members}:
            self._members.append(self.self_member)
        new_ids = {m.instance_id for m in self._members}
        if self.ring.instance_ids == (self.instance_id,) and len(new_ids) > 1:
            # Joining: the rooms the ring now gives us were owned by the others; pull them from there.
            self.previous = Ring(new_ids - {self.instance_id})
        else:
            self.previous = self.ring
        self.ring = self._build()
        return old_ids - new_ids, new_ids, old_ids != new_ids

    def begin_leave(self) -> None:
        self.leaving = True
        self.previous, self.ring = self.ring, self._build()

    def owner(self, room_id: str) -> str:
        return self.ring.owner(room_id)

    def previous_owner(self, room_id: str) -> str:
        """The room's owner before the last change, if it is another instance still in the ring ("" if not)."""
        if self.previous is None or not len(self.previous):
            return ""
        prev = self.previous.owner(room_id)
        return prev if prev != self.instance_id and prev in self.ring else ""
