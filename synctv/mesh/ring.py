"""Consistent-hash ring: which instance owns a room.

Every instance builds the ring from the same member ids with the same parameters (uhashring defaults: md5,
160 vnodes), so for the same membership every instance computes the same owner. A membership change moves
only about 1/N of the rooms. Rebuilding is cheap (milliseconds for tens of nodes); build a new Ring per view.
"""

from __future__ import annotations

from collections.abc import Iterable

from uhashring import HashRing


class Ring:
    def __init__(self, instance_ids: Iterable[str]) -> None:
        # Sorted, de-duplicated input: the ring must not depend on the order discovery reported members in.
        self._ids: tuple[str, ...] = tuple(sorted(set(instance_ids)))
        self._ring: HashRing | None = HashRing(nodes=list(self._ids)) if self._ids else None

    @property
    def instance_ids(self) -> tuple[str, ...]:
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, instance_id: object) -> bool:
        return instance_id in self._ids

    def owner(self, room_id: str) -> str:
        if self._ring is None:
            raise LookupError("empty ring: no live members")
        if len(self._ids) == 1:
            return self._ids[0]
        node = self._ring.get_node(room_id)
        return str(node)
