"""`/api/room/ws`: the protobuf WebSocket. Commands go to the room's owner through the router; events come back
through the LocalHub. A text or undecodable frame closes only that connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Callable

from aiohttp import WSMsgType, hdrs, web

from synctv import logs
from synctv.api.auth import RoomCtx, UserCtx, request_token, room_access
from synctv.api.context import services
from synctv.api.middleware.ratelimit import client_ip, trusted_networks
from synctv.api.responses import error
from synctv.api.routing import Routes
from synctv.api.ws_allowance import CHAT_ALLOWANCES, Allowance
from synctv.api.ws_penalty import PENALTIES, penalty_key
from synctv.core import commands as c
from synctv.core.errors import ErrorCode
from synctv.core.permissions import GUEST_USER_ID
from synctv.core.room import MsgType, Sender, WsMessage
from synctv.observability import tracing
from synctv.rooms import frames
from synctv.rooms.hub import CLOSE_TRY_AGAIN, Connection
from synctv.services import Services

log = logging.getLogger(__name__)
routes = Routes("websocket")

CLOSE_UNSUPPORTED = 1003
MAX_FRAME_BYTES = 64 * 1024
# What the kernel may hold unread for one client. Clients send little (chat, play/pause); a flooder paused
# for its allowance otherwise piles up megabytes on loopback-sized windows, all parsed when reading resumes.
RECEIVE_BUFFER_BYTES = 2 * MAX_FRAME_BYTES
HEARTBEAT_S = 20.0
# Messages of one connection carried by one command at most (the allowance keeps the usual batch far smaller).
MAX_BATCH_FRAMES = 64


@routes.get("/api/room/ws", "Room WebSocket (binary protobuf; token as subprotocol, or ?token=)", auth="room",
            query=("roomId", "token"))
async def websocket(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    if svc.draining:
        return error(503, "server is shutting down, reconnect to another instance")
    address = client_ip(request, svc.cfg.rate_limit, trusted_networks(svc.cfg.rate_limit))
    penalties = request.app[PENALTIES]
    await penalties.check(request_token(request), svc.tokens, address)  # before any authentication work
    ctx = await room_access(request)
    logs.set_fields(room_id=ctx.room_id, user_id=ctx.user.id)  # every line of this session carries them
    slots, refused = await _take_slots(svc, ctx.user, address)
    if refused is not None:
        return refused
    held = True

    def give_back() -> None:  # as soon as the connection is gone, not after its goodbyes to the room's owner
        nonlocal held
        if held:
            held = False
            svc.router.slots.release(slots)

    try:
        return await _serve(request, svc, ctx, address, give_back,
                            lambda: penalties.punish(penalty_key(ctx.user.id, ctx.user.is_guest, address)))
    finally:
        give_back()


async def _take_slots(svc: Services, user: UserCtx, address: str) -> tuple[list[str], web.Response | None]:
    """One connection slot of the user and one of the client address, counted across the cluster."""
    limits = svc.cfg.rooms
    wants = [("ws-address:" + address, limits.max_connections_per_address,
              f"too many connections from this address (at most {limits.max_connections_per_address})")]
    if not user.is_guest:  # guests share one id: only the address limit applies to them
        wants.insert(0, ("ws-user:" + user.id, limits.max_connections_per_user,
                         f"too many connections for this user (at most {limits.max_connections_per_user})"))
    refused = await svc.router.slots.acquire([(key, limit) for key, limit, _ in wants])
    if refused is not None:
        return [], too_many(wants[refused][2])
    return [key for key, _, _ in wants], None


async def _serve(request: web.Request, svc: Services, ctx: RoomCtx, address: str,
                 closed: Callable[[], None], flooded: Callable[[], None]) -> web.StreamResponse:
    proto = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "").strip()
    # Browsers send the token as the subprotocol and require it to be echoed back.
    # No per-message compression: frames are built once per event and written as they are to every socket.
    ws = web.WebSocketResponse(protocols=(proto,) if proto else (), heartbeat=HEARTBEAT_S,
                               max_msg_size=MAX_FRAME_BYTES, autoping=True, compress=False)
    await ws.prepare(request)
    transport = request.transport
    if transport is None:
        return ws
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
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
                await _read_loop(request, ws, conn, ctx.user.ref, joined_ms, flooded)
            finally:
                if greeter is not None:
                    greeter.cancel()
    finally:
        svc.hub.unregister(conn)
        closed()
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


async def _read_loop(request: web.Request, ws: web.WebSocketResponse, conn: Connection, user: c.UserRef,
                     joined_ms: int, flooded: Callable[[], None]) -> None:
    svc = services(request)
    shared = request.app[CHAT_ALLOWANCES]
    chat_key = conn.conn_id if user.user_id == GUEST_USER_ID else user.user_id
    allowance = Allowance(svc.cfg.rooms, flooded, shared.take(chat_key, svc.cfg.rooms))
    batch = _Batcher(svc, conn, user, joined_ms)
    try:
        # When the server closes the connection (kick, slow client, shutdown), aiohttp wakes this receive with
        # a CLOSING message, so no extra task per message is needed to watch for it.
        while not conn.closed.is_set():
            msg = await ws.receive()
            if msg.type == WSMsgType.BINARY:
                svc.hub.frames_received += 1
                if allowance.admit(conn, msg.data):
                    await batch.add(msg.data)
            elif msg.type == WSMsgType.TEXT:
                conn.close(CLOSE_UNSUPPORTED, "receive unknown message type")
                break
            else:  # CLOSE, CLOSING, CLOSED, ERROR
                break
        await batch.flush()
    finally:
        batch.cancel()


class _Batcher:
    """One command in flight per connection. Messages that arrive meanwhile go together in the next command,
    in order (one op id: retried, de-duplicated and applied as one), so a remote owner costs one round trip per
    batch instead of one per message, and a connection's messages can never overtake each other."""

    def __init__(self, svc: Services, conn: Connection, user: c.UserRef, joined_ms: int) -> None:
        self.svc, self.conn, self.user, self.joined_ms = svc, conn, user, joined_ms
        self.pending: list[bytes] = []
        self._room = asyncio.Event()  # set while the pending list has room
        self._room.set()
        self._task: asyncio.Task[None] | None = None

    async def add(self, data: bytes) -> None:
        await self._room.wait()  # the list is full: stop reading (TCP holds the client back)
        self.pending.append(data)
        if len(self.pending) >= MAX_BATCH_FRAMES:
            self._room.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def flush(self) -> None:
        """Wait for what was read to be applied (the connection is ending)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self) -> None:
        svc, conn = self.svc, self.conn
        while self.pending and not conn.closed.is_set():
            first, *more = self.pending
            self.pending = []
            self._room.set()
            cmd = c.ClientFrame(self.user, conn.conn_id, first, joined_ms=self.joined_ms, more=tuple(more))
            attrs = {"synctv.instance": svc.instance_id, "synctv.room": conn.room_id, "synctv.user": conn.user_id,
                     "synctv.messages": len(more) + 1}
            # Named after the first message; the batch's size is an attribute.
            with tracing.span(f"ws {frames.peek_type(first).name}", attrs):
                reply = await svc.router.submit(conn.room_id, cmd)
            if reply.code is ErrorCode.MALFORMED:
                conn.close(CLOSE_UNSUPPORTED, "undecodable message")
                return
            if reply.error:
                conn.send_payload(frames.error_frame(reply.error.message))
            for frame in reply.frames:
                conn.send_payload(frame)
