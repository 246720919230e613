"""The commands a room's owner accepts, and their wire form for the mesh.

These are the runtime's vocabulary (who asked, from which connection, what to do); `core.room` holds the rules.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Kicks, closes and departures need nothing but what the state machine takes: the core commands pass through.
from synctv.core.room import CloseRoom as CloseRoom
from synctv.core.room import ConnectionLeft as ConnectionLeft
from synctv.core.room import KickUser as KickUser
from synctv.core.room import WsMessage
from synctv.rooms import frames


@dataclass(frozen=True, slots=True)
class WsIn:
    """A decoded client WebSocket message."""

    user_id: str
    username: str
    role: int
    conn_id: str
    msg: WsMessage


@dataclass(frozen=True, slots=True)
class SetCurrent:
    user_id: str
    username: str
    movie_id: str
    is_live: bool = False
    sub_path: str = ""


@dataclass(frozen=True, slots=True)
class NotifyMovies:
    user_id: str
    username: str


@dataclass(frozen=True, slots=True)
class NotifyMyStatus:
    user_id: str
    username: str
    target_user_id: str


@dataclass(frozen=True, slots=True)
class Presence:
    """Absolute connection counts per user on one instance (idempotent, so it can be re-announced)."""

    instance_id: str
    counts: dict[str, int] = field(default_factory=dict)
    replace_all: bool = False  # True: this is the instance's whole presence for the room
    # Increases with every update an instance makes; an update that arrives late (a retry, a re-announcement
    # overtaken by newer joins) never overwrites a newer one. 0 = unversioned, always applied.
    version: int = 0


@dataclass(frozen=True, slots=True)
class Invalidate:
    """Drop cached room data after a change made outside the actor (membership, settings, room row)."""

    what: str  # "member" | "settings" | "room"
    user_id: str = ""


@dataclass(frozen=True, slots=True)
class GetState:
    """Read the live state: current (extrapolated), viewer count and per-user online counts."""


@dataclass(frozen=True, slots=True)
class Tick:
    """Periodic viewer-count check (upstream: every 5 s)."""


RoomCommand = (WsIn | SetCurrent | NotifyMovies | NotifyMyStatus | KickUser | CloseRoom | ConnectionLeft | Presence
               | Invalidate | GetState | Tick)


@dataclass(frozen=True, slots=True)
class Reply:
    error: str | None = None
    frames: tuple[bytes, ...] = ()  # for the originating connection only
    value: dict[str, Any] | None = None


_TYPES: dict[str, type] = {t.__name__: t for t in (WsIn, SetCurrent, NotifyMovies, NotifyMyStatus, KickUser,
                                                   CloseRoom, ConnectionLeft, Presence, Invalidate, GetState, Tick)}


def to_wire(cmd: RoomCommand, trace: dict[str, str] | None = None) -> bytes:
    if isinstance(cmd, WsIn):
        body: dict[str, Any] = {"user_id": cmd.user_id, "username": cmd.username, "role": cmd.role,
                                "conn_id": cmd.conn_id, "frame": base64.b64encode(frames.encode(cmd.msg)).decode()}
    else:
        body = asdict(cmd)
    envelope: dict[str, Any] = {"t": type(cmd).__name__, "b": body}
    if trace:
        envelope["tp"] = trace  # W3C trace context, so the owner's spans join the sender's trace
    return json.dumps(envelope, separators=(",", ":")).encode()


def from_wire(data: bytes) -> RoomCommand:
    return from_wire_traced(data)[0]


def from_wire_traced(data: bytes) -> tuple[RoomCommand, dict[str, str]]:
    raw = json.loads(data)
    cls = _TYPES[raw["t"]]
    body = raw["b"]
    trace = raw.get("tp") or {}
    if cls is WsIn:
        msg = frames.decode(base64.b64decode(body.pop("frame")))
        return WsIn(msg=msg, **body), trace
    return cls(**body), trace


def reply_to_wire(reply: Reply) -> bytes:
    return json.dumps({"e": reply.error, "f": [base64.b64encode(f).decode() for f in reply.frames],
                       "v": reply.value}, separators=(",", ":")).encode()


def reply_from_wire(data: bytes) -> Reply:
    raw = json.loads(data)
    return Reply(error=raw["e"], frames=tuple(base64.b64decode(f) for f in raw["f"]), value=raw["v"])
