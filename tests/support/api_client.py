"""A small client for the HTTP API and the protobuf WebSocket, used by the tests."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from synctv._generated import message_pb2 as pb


class ApiError(AssertionError):
    pass


class Api:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base.rstrip("/")
        self.session = session

    async def call(self, method: str, path: str, *, token: str | None = None, room: str | None = None,
                   json: Any = None, params: dict[str, Any] | None = None, data: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        h = dict(headers or {})
        if token:
            h["Authorization"] = token
        if room:
            h["X-Room-Id"] = room
        async with self.session.request(method, self.base + path, json=json, params=params, data=data,
                                        headers=h) as resp:
            body: Any = None
            if resp.status != 204:
                text = await resp.text()
                if text:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = text
            return resp.status, body

    async def ok(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        status, body = await self.call(method, path, **kw)
        if status != expect:
            raise ApiError(f"{method} {path}: expected {expect}, got {status}: {body}")
        if isinstance(body, dict) and "data" in body:
            return body["data"]
        return body

    async def signup(self, username: str, password: str = "password1") -> str:
        data = await self.ok("POST", "/api/user/signup", json={"username": username, "password": password})
        return str(data["token"])

    async def login(self, username: str, password: str) -> str:
        data = await self.ok("POST", "/api/user/login", json={"username": username, "password": password})
        return str(data["token"])

    async def me(self, token: str) -> dict[str, Any]:
        return dict(await self.ok("GET", "/api/user/me", token=token))

    async def create_room(self, token: str, name: str, password: str = "", hidden: bool = False) -> str:
        data = await self.ok("POST", "/api/room/create", expect=201, token=token,
                             json={"roomName": name, "password": password, "settings": {"hidden": hidden}})
        return str(data["roomId"])

    async def push_movie(self, token: str, room: str, name: str = "clip",
                         url: str = "https://example.com/clip.mp4", **extra: Any) -> dict[str, Any]:
        return dict(await self.ok("POST", "/api/room/movie/push", token=token, room=room,
                                  json={"name": name, "url": url, **extra}))

    async def ws(self, room: str, token: str | None = None, *, via_query: bool = False) -> WsClient:
        url = self.base.replace("http", "ws", 1) + f"/api/room/ws?roomId={room}"
        protocols: tuple[str, ...] = ()
        if token and via_query:
            url += f"&token={token}"
        elif token:
            protocols = (token,)
        ws = await self.session.ws_connect(url, protocols=protocols, heartbeat=None, autoping=True)
        return WsClient(ws)


class WsClient:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.received: list[pb.Message] = []

    async def send(self, msg: pb.Message) -> None:
        await self.ws.send_bytes(msg.SerializeToString())

    async def send_type(self, mtype: int, **fields: Any) -> None:
        await self.send(pb.Message(type=mtype, **fields))  # type: ignore[arg-type]

    async def recv(self, timeout: float = 5.0) -> pb.Message:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.BINARY:
            raise ApiError(f"expected a binary frame, got {msg.type} {msg.data!r}")
        out = pb.Message()
        out.ParseFromString(msg.data)
        self.received.append(out)
        return out

    async def expect(self, mtype: int, timeout: float = 5.0) -> pb.Message:
        """Skip other messages (e.g. viewer counts) until one of `mtype` arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ApiError(f"no message of type {mtype} within {timeout}s")
            msg = await self.recv(remaining)
            if msg.type == mtype:
                return msg

    async def nothing(self, mtype: int, within: float = 0.5) -> None:
        try:
            while True:
                msg = await self.recv(within)
                if msg.type == mtype:
                    raise ApiError(f"unexpected message of type {mtype}: {msg}")
        except TimeoutError:
            return

    async def close(self) -> None:
        await self.ws.close()
