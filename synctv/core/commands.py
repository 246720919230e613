"""Every command a room accepts, and what its owner answers: the one vocabulary of the rooms runtime.

The edge builds these, the router carries them (to a local actor, or over the mesh in their protobuf form,
`rooms/wire.py`), and the owner's actor applies them; nobody translates one command into another. The
state-changing rules live in `core.room`; presence, caches and reads are the actor's own.

Commands carry who the user is (id, username, session), never their role: the owner resolves permissions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from synctv.core.errors import ErrorCode, RoomError
from synctv.core.playback import Current, CurrentMovie


@dataclass(frozen=True, slots=True)
class UserRef:
    user_id: str
    username: str
    session_id: str = ""


@dataclass(frozen=True, slots=True)
class ClientFrame:
    """A WebSocket message as the client sent it; the owner decodes it and resolves the sender's permissions."""

    user: UserRef
    conn_id: str
    frame: bytes
    # When the connection opened (wall-clock ms at the edge): a brand-new connection may not rewind the room.
    joined_ms: int = 0
    # Messages of the same connection that followed `frame`, applied after it in order (one command for all).
    more: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class SetCurrentMovie:
    sender: UserRef
    movie: CurrentMovie


@dataclass(frozen=True, slots=True)
class ReportDuration:
    """The movie's length in seconds: told by a client (holding the set-status permission, checked at the edge),
    or read by the server from the media's metadata (`from_metadata`, e.g. a proxied VOD playlist)."""

    sender: UserRef
    movie_id: str
    duration: float
    from_metadata: bool = False


@dataclass(frozen=True, slots=True)
class NotifyMovies:
    sender: UserRef


@dataclass(frozen=True, slots=True)
class NotifyMyStatus:
    sender: UserRef
    target_user_id: str


@dataclass(frozen=True, slots=True)
class KickUser:
    user_id: str
    reason: str = "kicked"


@dataclass(frozen=True, slots=True)
class CloseRoom:
    reason: str = "room closed"


@dataclass(frozen=True, slots=True)
class ConnectionLeft:
    user: UserRef
    conn_id: str


@dataclass(frozen=True, slots=True)
class UpdatePresence:
    """Absolute connection counts per user on one instance (idempotent, so it can be re-announced)."""

    instance_id: str
    counts: Mapping[str, int] = field(default_factory=dict)
    replace_all: bool = False  # this is the instance's whole presence for the room
    # Increases with every update an instance makes, so a late update never overwrites a newer one.
    # 0 = unversioned, always applied.
    version: int = 0


class CacheKind(IntEnum):
    """Numbers are the mesh protocol's `CacheKind`."""

    MEMBER = 1
    SETTINGS = 2
    USER = 3


@dataclass(frozen=True, slots=True)
class Invalidate:
    """Drop the owner's cached data after a change made outside the actor."""

    what: CacheKind
    user_id: str = ""  # USER: "" drops every cached role


@dataclass(frozen=True, slots=True)
class GetState:
    """Read the live state: current (extrapolated), viewer count and per-user online counts."""


@dataclass(frozen=True, slots=True)
class Tick:
    """The periodic viewer-count check (upstream: every 5 s); the actor's own timer sends it."""


@dataclass(frozen=True, slots=True)
class Wake:
    """The actor's own timer: the current movie's end, or the end of the pause before the next one."""


RoomCommand = (ClientFrame | SetCurrentMovie | NotifyMovies | NotifyMyStatus | KickUser | CloseRoom | ConnectionLeft
               | UpdatePresence | Invalidate | GetState | Tick | ReportDuration | Wake)


@dataclass(frozen=True, slots=True)
class StateView:
    current: Current
    viewer_count: int
    online: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Reply:
    error: RoomError | None = None
    frames: tuple[bytes, ...] = ()  # WebSocket frames for the originating connection only
    value: StateView | int | None = None  # GetState: the view; UpdatePresence: the viewer count

    @property
    def code(self) -> ErrorCode:
        return self.error.code if self.error is not None else ErrorCode.OK

    @staticmethod
    def fail(code: ErrorCode, message: str) -> Reply:
        return Reply(error=RoomError(code, message))
