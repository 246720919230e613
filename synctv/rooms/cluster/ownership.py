"""Each room's ownership state on this instance (`core.ownership`), with the monotonic clock applied."""

from __future__ import annotations

import time

from synctv.core import ownership as own


class Ownerships:
    def __init__(self) -> None:
        self._rooms: dict[str, own.RoomOwnership] = {}
        self.can_own = True  # False while self-fenced (lease possibly expired)

    def get(self, room_id: str) -> own.RoomOwnership:
        state = self._rooms.get(room_id)
        if state is None:
            return own.RoomOwnership()
        now = time.monotonic()
        fresh = own.expire(state, now)
        if fresh is not state:
            self._set(room_id, fresh)
        return fresh

    def phase(self, room_id: str) -> own.Phase:
        return self.get(room_id).phase

    def _set(self, room_id: str, state: own.RoomOwnership) -> None:
        if state.phase is own.Phase.ABSENT:
            self._rooms.pop(room_id, None)
        else:
            self._rooms[room_id] = state

    def apply(self, room_id: str, event: own.Input) -> tuple[own.Effect, ...]:
        state, effects = own.step(self.get(room_id), event, time.monotonic())
        self._set(room_id, state)
        return effects

    def route(self, room_id: str) -> tuple[own.Route, str]:
        return own.route(self.get(room_id), time.monotonic())

    def sweep(self) -> None:
        """Forget redirects and holds whose time is over (rooms nobody asked about since)."""
        for room_id in list(self._rooms):
            self.get(room_id)

    def clear_holds(self) -> None:
        """A new membership view: whoever the ring names may take fenced rooms again."""
        for room_id, state in list(self._rooms.items()):
            if state.phase is own.Phase.FENCED:
                self._set(room_id, own.step(state, own.Expired(), state.until)[0])
