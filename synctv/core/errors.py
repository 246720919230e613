"""Why a room refused a command: one code per reason, carried unchanged from the owner to the edge.

The numbers are the mesh protocol's `ErrorCode` (`proto/mesh.proto`); a test holds the two equal. Retries,
redirects and whether a WebSocket client is kept are decided on the code; the message is for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ErrorCode(IntEnum):
    OK = 0
    NOT_OWNER = 1
    MOVING = 2
    BUSY = 3
    DENIED = 4
    INVALID = 5
    NOT_FOUND = 6
    UNAVAILABLE = 7
    INTERNAL = 8
    CLOSED = 9
    MALFORMED = 10

    @property
    def transient(self) -> bool:
        """The same command may succeed if retried shortly (ownership or load, not the command itself)."""
        return self in _TRANSIENT


_TRANSIENT = frozenset({ErrorCode.NOT_OWNER, ErrorCode.MOVING, ErrorCode.BUSY, ErrorCode.UNAVAILABLE})


@dataclass(frozen=True, slots=True)
class RoomError:
    code: ErrorCode
    message: str
