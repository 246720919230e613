"""What a room sends to its viewers: an encoded frame plus who gets it, in a form that crosses the mesh.

The owner encodes each WebSocket frame once; every instance with viewers writes the same bytes to its sockets.
"""

from __future__ import annotations

import json
import struct
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


_HEAD = struct.Struct("!I")


def encode(d: Delivery) -> bytes:
    header = json.dumps([d.audience.value, d.conn_id, d.user_id, list(d.conn_ids), d.kick, d.reason],
                        separators=(",", ":")).encode()
    return _HEAD.pack(len(header)) + header + d.frame


def decode(data: bytes) -> Delivery:
    (size,) = _HEAD.unpack_from(data)
    audience, conn_id, user_id, conn_ids, kick, reason = json.loads(data[_HEAD.size:_HEAD.size + size])
    return Delivery(frame=data[_HEAD.size + size:], audience=Audience(audience), conn_id=conn_id, user_id=user_id,
                    conn_ids=tuple(conn_ids), kick=bool(kick), reason=reason)
