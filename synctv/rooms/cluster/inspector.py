"""The router as the mesh's inspection RPCs see it (Describe, Owner, OwnedRooms)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from synctv.discovery import Member

if TYPE_CHECKING:
    from synctv.rooms.router import RoomRouter


class Inspector:
    """Adapts the router to the mesh's inspection RPCs (Describe, Owner, OwnedRooms)."""

    def __init__(self, router: RoomRouter) -> None:
        self.router = router

    def self_member(self) -> Member:
        return self.router.self_member

    def members(self) -> Sequence[Member]:
        """Every discovery member, the excluded ones too (`excluded` says which)."""
        return self.router.discovered or self.router.members()

    def excluded(self) -> dict[str, str]:
        return self.router.excluded_peers()

    def owner(self, room_id: str) -> str:
        return self.router.owner(room_id)

    def owned_rooms(self) -> Sequence[str]:
        return self.router.owned_rooms()
