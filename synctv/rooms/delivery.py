"""What a room sends to its viewers: an encoded frame plus who gets it (its mesh form is in `rooms/wire.py`).

The owner encodes each WebSocket frame once; every instance with viewers writes the same bytes to its sockets.
"""

from __future__ import annotations

from dataclasses import dataclass

from synctv.core.room import Audience, Kick, Outgoing
from synctv.rooms import frames


@dataclass(frozen=True, slots=True)
class Delivery:
    frame: bytes = b""
    audience: Audience = Audience.ALL
    conn_id: str = ""
    user_id: str = ""
    conn_ids: tuple[str, ...] = ()
    kick: bool = False  # close the targeted connections instead of writing to them
    reason: str = ""


def from_outgoing(out: Outgoing) -> Delivery:
    return Delivery(frame=frames.encode(out.msg), audience=out.audience, conn_id=out.conn_id, user_id=out.user_id,
                    conn_ids=out.conn_ids)


def from_kick(kick: Kick) -> Delivery:
    if kick.user_id:
        return Delivery(audience=Audience.USER, user_id=kick.user_id, kick=True, reason=kick.reason)
    return Delivery(audience=Audience.ALL, kick=True, reason=kick.reason)
