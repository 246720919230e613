"""LocalHub: this instance's WebSocket connections, per room, and the fan-out to them.

Fan-out writes each event's WebSocket frame, built once, straight into every connection's transport: no
per-connection queue or task on the hot path. The transport's write buffer is the outbound queue; a client
whose buffer grows past its limit is too slow to keep up and is closed, so it cannot stall its room (upstream
blocked the whole room on one slow client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from synctv.core.room import Audience
from synctv.rooms.delivery import Delivery

log = logging.getLogger(__name__)

# WebSocket close codes: 4000+ are application codes; clients reconnect on TRY_AGAIN (1013).
CLOSE_KICKED = 4001
CLOSE_ROOM_CLOSED = 4002
CLOSE_TOO_SLOW = 4008
CLOSE_TRY_AGAIN = 1013
# Bytes of outbound buffer allowed per queued frame of `rooms.client_queue_size`.
BYTES_PER_QUEUED_FRAME = 4096


def ws_frame(payload: bytes) -> bytes:
    """A complete unmasked binary WebSocket frame (server to client frames are never masked)."""
    n = len(payload)
    if n < 126:
        return bytes((0x82, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x82, 126, n) + payload
    return struct.pack("!BBQ", 0x82, 127, n) + payload


class Socket(Protocol):
    """The part of a WebSocket the hub needs to close it (aiohttp's WebSocketResponse satisfies it)."""

    async def close(self, *, code: int = ..., message: bytes = ..., drain: bool = ...) -> bool: ...


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def is_closing(self) -> bool: ...

    def get_write_buffer_size(self) -> int: ...


@dataclass(eq=False)
class Connection:
    room_id: str
    user_id: str
    username: str
    conn_id: str
    socket: Socket
    transport: Transport
    queue_size: int = 128
    # The session and password version it was opened with: a logout or a password change closes it.
    session_id: str = ""
    user_version: int = 0
    address: str = ""  # the client's address, for the per-address connection limit
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int = 1000
    close_reason: str = ""
    _closer: asyncio.Task[None] | None = None

    @property
    def buffer_limit(self) -> int:
        return self.queue_size * BYTES_PER_QUEUED_FRAME

    def send(self, frame: bytes) -> bool:
        """Write a complete WebSocket frame without waiting; an over-full buffer drops this (slow) client."""
        if self.closed.is_set():
            return False
        transport = self.transport
        if transport.is_closing():
            self.close(1006, "connection lost")
            return False
        if transport.get_write_buffer_size() > self.buffer_limit:
            log.warning("dropping slow websocket client", extra={"room_id": self.room_id, "user_id": self.user_id})
            self.close(CLOSE_TOO_SLOW, "client too slow")
            return False
        transport.write(frame)
        return True

    def send_payload(self, payload: bytes) -> bool:
        return self.send(ws_frame(payload))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed.is_set():
            return
        self.close_code, self.close_reason = code, reason
        self.closed.set()
        self._closer = asyncio.ensure_future(self._close_socket())

    async def _close_socket(self) -> None:
        # No drain: a client too slow to read must not keep its close (and its handler) waiting.
        with contextlib.suppress(Exception):
            await self.socket.close(code=self.close_code, message=self.close_reason.encode()[:120], drain=False)

    async def wait_closed(self) -> None:
        if self._closer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._closer


class LocalHub:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, Connection]] = {}
        # Plain counters, read by the metrics collector at scrape time.
        self.frames_sent = 0
        self.frames_received = 0
        self.slow_dropped = 0
        self._by_user: dict[str, dict[str, set[Connection]]] = {}
        self.on_first_viewer: Callable[[str], None] | None = None
        self.on_last_viewer: Callable[[str], None] | None = None

    def register(self, conn: Connection) -> int:
        """Add a connection; returns how many connections its user now has in the room."""
        room = self._rooms.setdefault(conn.room_id, {})
        first = not room
        room[conn.conn_id] = conn
        users = self._by_user.setdefault(conn.room_id, {})
        users.setdefault(conn.user_id, set()).add(conn)
        if first and self.on_first_viewer:
            self.on_first_viewer(conn.room_id)
        return len(users[conn.user_id])

    def unregister(self, conn: Connection) -> int:
        """Remove a connection; returns how many connections its user still has in the room."""
        room = self._rooms.get(conn.room_id)
        if room is None or room.pop(conn.conn_id, None) is None:
            return self.user_connections(conn.room_id, conn.user_id)
        users = self._by_user[conn.room_id]
        conns = users.get(conn.user_id, set())
        conns.discard(conn)
        left = len(conns)
        if not conns:
            users.pop(conn.user_id, None)
        if not room:
            del self._rooms[conn.room_id]
            del self._by_user[conn.room_id]
            if self.on_last_viewer:
                self.on_last_viewer(conn.room_id)
        return left

    def user_connections(self, room_id: str, user_id: str) -> int:
        return len(self._by_user.get(room_id, {}).get(user_id, ()))

    def presence(self, room_id: str) -> dict[str, int]:
        return {u: len(c) for u, c in self._by_user.get(room_id, {}).items()}

    def has_viewers(self, room_id: str) -> bool:
        return bool(self._rooms.get(room_id))

    def rooms(self) -> list[str]:
        return list(self._rooms)

    def connections(self, room_id: str | None = None) -> Iterable[Connection]:
        if room_id is not None:
            return list(self._rooms.get(room_id, {}).values())
        return [c for room in self._rooms.values() for c in room.values()]

    def connection_count(self) -> int:
        return sum(len(r) for r in self._rooms.values())

    def deliver(self, room_id: str, deliveries: Iterable[Delivery]) -> int:
        """Write each delivery's frame (encoded once) to the matching local connections; returns writes."""
        room = self._rooms.get(room_id)
        if not room:
            return 0
        sent = 0
        for d in deliveries:
            targets = self._targets(room_id, room, d)
            if d.kick:
                code = CLOSE_KICKED if d.user_id else CLOSE_ROOM_CLOSED
                for conn in targets:
                    conn.close(code, d.reason)
                continue
            frame = ws_frame(d.frame)  # once per event, whatever the number of viewers
            for conn in targets:
                if conn.send(frame):
                    sent += 1
                elif conn.close_code == CLOSE_TOO_SLOW:
                    self.slow_dropped += 1
        self.frames_sent += sent
        return sent

    def _targets(self, room_id: str, room: dict[str, Connection], d: Delivery) -> list[Connection]:
        if d.audience is Audience.ALL:
            return list(room.values())
        if d.audience is Audience.OTHERS:
            return [c for cid, c in room.items() if cid != d.conn_id]
        if d.audience is Audience.USER:
            return list(self._by_user.get(room_id, {}).get(d.user_id, ()))
        return [room[cid] for cid in d.conn_ids if cid in room]

    def close_user(self, user_id: str, code: int, reason: str) -> int:
        """Close every local connection of a user, in every room (banned or deleted accounts)."""
        return self.close_where(lambda c: c.user_id == user_id, code, reason)

    def close_where(self, which: Callable[[Connection], bool], code: int, reason: str) -> int:
        conns = [c for c in self.connections() if which(c)]
        for conn in conns:
            conn.close(code, reason)
        return len(conns)

    def close_all(self, code: int, reason: str) -> None:
        for conn in self.connections():
            conn.close(code, reason)
