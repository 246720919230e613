"""`/api/room/ws`: the protobuf WebSocket. Commands go to the room's owner through the router; events come back
through the LocalHub. A text or undecodable frame closes only that connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from aiohttp import WSMsgType, hdrs, web

from synctv import logs
from synctv.api.auth import room_access
from synctv.api.context import services
from synctv.api.middleware.ratelimit import client_ip, trusted_networks
from synctv.api.responses import error
from synctv.api.routing import Routes
from synctv.core import commands as c
from synctv.core.errors import ErrorCode
from synctv.core.room import MsgType, Sender, WsMessage
from synctv.core.throttle import TokenBucket
from synctv.observability import tracing
from synctv.rooms import frames
from synctv.rooms.hub import CLOSE_TOO_SLOW, CLOSE_TRY_AGAIN, Connection
from synctv.services import Services

log = logging.getLogger(__name__)
routes = Routes("websocket")

CLOSE_UNSUPPORTED = 1003
MAX_FRAME_BYTES = 64 * 1024
HEARTBEAT_S = 20.0


@routes.get("/api/room/ws", "Room WebSocket (binary protobuf; token as subprotocol, or ?token=)", auth="room",
            query=("roomId", "token"))
async def websocket(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    if svc.draining:
        return error(503, "server is shutting down, reconnect to another instance")
    ctx = await room_access(request)
    logs.set_fields(room_id=ctx.room_id, user_id=ctx.user.id)  # every line of this session carries them
    limits = svc.cfg.rooms
    address = client_ip(request, svc.cfg.rate_limit, trusted_networks(svc.cfg.rate_limit))
    if not ctx.user.is_guest and svc.hub.per_user.get(ctx.user.id, 0) >= limits.max_connections_per_user:
        return too_many(f"too many connections for this user (at most {limits.max_connections_per_user})")
    if svc.hub.per_address.get(address, 0) >= limits.max_connections_per_address:
        return too_many(f"too many connections from this address (at most {limits.max_connections_per_address})")
    proto = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "").strip()
    # Browsers send the token as the subprotocol and require it to be echoed back.
    # No per-message compression: frames are built once per event and written as they are to every socket.
    ws = web.WebSocketResponse(protocols=(proto,) if proto else (), heartbeat=HEARTBEAT_S,
                               max_msg_size=MAX_FRAME_BYTES, autoping=True, compress=False)
    await ws.prepare(request)
    transport = request.transport
    if transport is None:
        return ws
    conn = Connection(room_id=ctx.room_id, user_id=ctx.user.id, username=ctx.user.username,
                      conn_id=uuid.uuid4().hex, socket=ws, transport=transport,
                      queue_size=svc.cfg.rooms.client_queue_size, session_id=ctx.user.session_id,
                      user_version=ctx.user.user_version, address=address)
    joined_ms = time.time_ns() // 1_000_000
    svc.hub.register(conn)
    try:
        reply = await svc.router.announce(ctx.room_id, ctx.user.id)
        if reply.error and not reply.error.code.transient:
            conn.send_payload(frames.error_frame(f"register client error: {reply.error.message}"))
            conn.close(CLOSE_TRY_AGAIN, reply.error.message)
        else:
            greeter = None
            if reply.error:
                # The owner is busy or moving (a join storm, a handoff): keep the client and count it as soon
                # as the owner answers, instead of sending it away to reconnect into the same storm.
                greeter = asyncio.ensure_future(_register_later(svc, conn))
            else:
                conn.send_payload(frames.viewer_count_frame(_viewers(reply)))
            await _send_history(svc, conn, joined_ms)
            try:
                await _read_loop(request, ws, conn, ctx.user.ref, joined_ms)
            finally:
                if greeter is not None:
                    greeter.cancel()
    finally:
        svc.hub.unregister(conn)
        conn.close(conn.close_code, conn.close_reason)
        with contextlib.suppress(Exception):
            await svc.router.submit(ctx.room_id, c.ConnectionLeft(ctx.user.ref, conn.conn_id))
            await svc.router.announce(ctx.room_id, ctx.user.id)
        await asyncio.shield(conn.wait_closed())
    return ws


REGISTER_RETRY_S = 60.0
DAY_MS = 86_400_000


async def _send_history(svc: Services, conn: Connection, joined_ms: int) -> None:
    """The room's recent chat, as the CHAT frames it was first delivered as, oldest first, before anything
    live. Messages sent from the moment this connection registered arrive live, not here."""
    settings = svc.store.settings
    days = settings.int("chat_history_days")
    since = joined_ms - days * DAY_MS if days > 0 else 0
    try:
        history = await svc.store.chat.recent(conn.room_id, limit=settings.int("chat_history_max"), since_ms=since)
    except Exception:  # history is a courtesy: a database hiccup must not refuse the join
        log.warning("chat history unavailable", exc_info=True)
        return
    out = [frames.encode(WsMessage(MsgType.CHAT, timestamp=e.sent_at_ms, sender=Sender(e.user_id, e.username),
                                   chat_content=e.content)) for e in history if e.sent_at_ms < joined_ms]
    # Half the client's buffer at most (the newest messages), so the history never makes it a "slow client".
    budget, start = conn.buffer_limit // 2, len(out)
    while start > 0 and budget - len(out[start - 1]) - 16 >= 0:
        start -= 1
        budget -= len(out[start]) + 16
    for frame in out[start:]:
        conn.send_payload(frame)


def _viewers(reply: c.Reply) -> int:
    return reply.value if isinstance(reply.value, int) else 1


async def _register_later(svc: Services, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REGISTER_RETRY_S
    delay = 0.5
    while loop.time() < deadline and not conn.closed.is_set():
        await asyncio.sleep(delay)
        reply = await svc.router.announce(conn.room_id, conn.user_id)
        if not reply.error:
            conn.send_payload(frames.viewer_count_frame(_viewers(reply)))
            return
        delay = min(delay * 2, 5.0)
    conn.close(CLOSE_TRY_AGAIN, "room owner is unreachable")


def too_many(message: str) -> web.Response:
    resp = error(429, message)
    resp.headers["Retry-After"] = "5"
    return resp


class _Allowance:
    """What one connection may send: every message, and chat on its own lower allowance (a chat flood is the
    cheapest way to bother a room). A refused message gets one ERROR per second at most."""

    def __init__(self, svc: Services) -> None:
        r, now = svc.cfg.rooms, time.monotonic()
        self.all = TokenBucket(r.messages_per_second, r.message_burst, now)
        self.chat = TokenBucket(r.chats_per_second, r.chat_burst, now)
        self._warned = 0.0
        # A client that keeps sending far beyond its allowance is closed: reading what it sends costs too.
        self._refused_limit = 10 * r.message_burst
        self._refused = 0
        self._paused = False

    def admit(self, conn: Connection, data: bytes) -> bool:
        now = time.monotonic()
        chat = frames.peek_type(data) is MsgType.CHAT
        if self.all.take(now) and (not chat or self.chat.take(now)):
            self._refused = 0
            return True
        self._refused += 1
        if self._refused > self._refused_limit:
            conn.close(CLOSE_TOO_SLOW, "too many messages")
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


async def _read_loop(request: web.Request, ws: web.WebSocketResponse, conn: Connection, user: c.UserRef,
                     joined_ms: int) -> None:
    svc = services(request)
    allowance = _Allowance(svc)
    # When the server closes the connection (kick, slow client, shutdown), aiohttp wakes this receive with
    # a CLOSING message, so no extra task per message is needed to watch for it.
    while not conn.closed.is_set():
        msg = await ws.receive()
        if msg.type == WSMsgType.BINARY:
            svc.hub.frames_received += 1
            if not allowance.admit(conn, msg.data):
                continue
            # The frame travels as it arrived; the room's owner decodes it, once.
            cmd = c.ClientFrame(user, conn.conn_id, msg.data, joined_ms=joined_ms)
            attrs = {"synctv.instance": svc.instance_id, "synctv.room": conn.room_id, "synctv.user": conn.user_id}
            with tracing.span(f"ws {frames.peek_type(msg.data).name}", attrs):
                reply = await svc.router.submit(conn.room_id, cmd)
            if reply.code is ErrorCode.MALFORMED:
                conn.close(CLOSE_UNSUPPORTED, "undecodable message")
                break
            if reply.error:
                conn.send_payload(frames.error_frame(reply.error.message))
            for frame in reply.frames:
                conn.send_payload(frame)
        elif msg.type == WSMsgType.TEXT:
            conn.close(CLOSE_UNSUPPORTED, "receive unknown message type")
            break
        else:  # CLOSE, CLOSING, CLOSED, ERROR
            break
