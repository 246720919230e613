"""The limit: a bare aiohttp WebSocket server with no application logic, for comparison with `synctv serve`.

Same URL shape as SyncTV (`/api/room/ws?roomId=R`, token as subprotocol, echoed back). With `--jwt-secret`
the token is decoded and verified (HS256, as the real server's tokens) before the upgrade: the irreducible work
of a join. Every binary frame a socket sends is written unchanged to every socket of its room, the sender's
included. On connect it sends one VIEWER_COUNT frame (the room's socket count) so the load harness can treat
it like the real server. No database, no decoding, no queues: the cheapest join and fan-out aiohttp can do.

    .venv/bin/python -m bench.bare_broadcast --port 8099 [--jwt-secret S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import jwt
from aiohttp import WSMsgType, hdrs, web


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def viewer_count_frame(count: int) -> bytes:
    # Message{type=VIEWER_COUNT(8) [field 1 varint], viewer_count=count [field 8 varint]}
    return b"\x08\x08" + b"\x40" + _varint(count)


ROOMS: web.AppKey[dict[str, set[web.WebSocketResponse]]] = web.AppKey("rooms", dict)
SECRET: web.AppKey[str] = web.AppKey("secret", str)


async def websocket(request: web.Request) -> web.StreamResponse:
    room_id = request.query.get("roomId", "")
    proto = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "").strip()
    if request.app[SECRET]:
        try:
            jwt.decode(proto, request.app[SECRET], algorithms=["HS256"], options={"require": ["u", "exp", "jti"]},
                       leeway=5)
        except jwt.PyJWTError:
            raise web.HTTPUnauthorized() from None
    ws = web.WebSocketResponse(protocols=(proto,) if proto else (), max_msg_size=64 * 1024)
    await ws.prepare(request)
    room = request.app[ROOMS].setdefault(room_id, set())
    room.add(ws)
    try:
        await ws.send_bytes(viewer_count_frame(len(room)))
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                data = msg.data
                for peer in list(room):
                    if not peer.closed:
                        with contextlib.suppress(ConnectionError, RuntimeError):
                            await peer.send_bytes(data)
            elif msg.type != WSMsgType.TEXT:
                break
    finally:
        room.discard(ws)
        if not room:
            request.app[ROOMS].pop(room_id, None)
    return ws


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app(jwt_secret: str = "") -> web.Application:
    app = web.Application()
    app[ROOMS] = {}
    app[SECRET] = jwt_secret
    app.router.add_get("/api/room/ws", websocket)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--jwt-secret", default="", help="verify the subprotocol token as an HS256 JWT")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):  # the same event loop the real server uses
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(make_app(args.jwt_secret), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
