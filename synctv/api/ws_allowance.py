"""What a WebSocket client may send: a message allowance per connection and a chat allowance per user on this
instance (a user's 32 sockets get one user's chat, not 32 users'), paused reading past the allowance, and a
close for a client that keeps flooding."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable

from aiohttp import web

from synctv.config import RoomsConfig
from synctv.core.room import MsgType
from synctv.core.throttle import TokenBucket
from synctv.rooms import frames
from synctv.rooms.hub import CLOSE_TOO_SLOW, Connection

# Refused messages a connection may send at once before it is closed for flooding.
REFUSALS_BURST = 50


class ChatAllowances:
    """One chat bucket per user, alive while one of the user's connections holds it."""

    def __init__(self) -> None:
        self._buckets: weakref.WeakValueDictionary[str, TokenBucket] = weakref.WeakValueDictionary()

    def take(self, key: str, r: RoomsConfig) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(r.chats_per_second, r.chat_burst, time.monotonic())
        return bucket


CHAT_ALLOWANCES: web.AppKey[ChatAllowances] = web.AppKey("ws-chat-allowances", ChatAllowances)


class Allowance:
    """What one connection may send: every message, and chat on a lower allowance shared by the user's
    connections (a chat flood is the cheapest way to bother a room). A refused message gets one ERROR per second
    at most."""

    def __init__(self, r: RoomsConfig, flooded: Callable[[], None], chat: TokenBucket | None = None) -> None:
        now = time.monotonic()
        self._flooded = flooded
        self.all = TokenBucket(r.messages_per_second, r.message_burst, now)
        self.chat = chat if chat is not None else TokenBucket(r.chats_per_second, r.chat_burst, now)
        self._warned = 0.0
        # A client that keeps sending beyond its allowance is closed: reading what it sends costs too. Counted
        # over time, not consecutively: a flooder gets a message through at every refill, which must not wipe
        # its record. An honest client over-sending once (a pasted burst of chat) stays below this.
        self.refusals = TokenBucket(r.messages_per_second / 10, min(r.message_burst, REFUSALS_BURST), now)
        self._paused = False

    def admit(self, conn: Connection, data: bytes) -> bool:
        now = time.monotonic()
        chat = frames.peek_type(data) is MsgType.CHAT
        if self.all.take(now) and (not chat or self.chat.take(now)):
            return True
        if not self.refusals.take(now):
            if not conn.closed.is_set():
                conn.close(CLOSE_TOO_SLOW, "too many messages")
                self._flooded()
            return False
        if now - self._warned >= 1.0:
            self._warned = now
            conn.send_payload(frames.error_frame("too many messages, slow down"))
        # Stop reading until the allowance refills: the sender's own TCP window then holds it back, instead of
        # this server reading (and refusing) everything it can push.
        self._pause(conn, (self.chat if chat else self.all).wait_s())
        return False

    def _pause(self, conn: Connection, seconds: float) -> None:
        transport = conn.transport
        if self._paused or transport.is_closing() or not isinstance(transport, asyncio.ReadTransport):
            return
        self._paused = True
        transport.pause_reading()

        def resume() -> None:
            self._paused = False
            if not transport.is_closing():
                transport.resume_reading()

        asyncio.get_running_loop().call_later(max(seconds, 0.01), resume)
