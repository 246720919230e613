"""Bad input sweep: every documented path and method gets malformed bodies, wrong types, missing fields, oversize
strings, bad ids, garbage and expired tokens and garbage room ids. Nothing may answer 5xx, every error carries the
`{"error": ...}` envelope, and the server keeps serving afterwards."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

from synctv.auth.passwords import user_version
from synctv.core.permissions import Role
from tests.support.servers import Server

BIG = "x" * 100_000
BAD_IDS = ["../", "../../etc/passwd", "a" * 31, "g" * 32, "A" * 32, "%2e%2e%2f", "0" * 33, ""]
WRONG_TYPES: list[Any] = [None, -1, 2**64, 1.5, True, "", [], {"a": 1}]
PATH_VALUES = {"group": ["room", "../", BIG[:2000]], "action": ["login", "bind"], "provider": ["github", "../x"],
               "tail": ["x", "a/b/c", "../../etc/passwd"]}


def fill(path: str) -> Iterator[str]:
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        yield path
        return
    for i in range(max(len(PATH_VALUES.get(n, ["x"])) for n in names)):
        out = path
        for n in names:
            values = PATH_VALUES.get(n, ["x"])
            out = out.replace("{" + n + "}", values[i % len(values)])
        yield out


def bodies(op: dict[str, Any]) -> Iterator[tuple[str, bytes | None]]:
    """(label, raw body) variants for one operation."""
    props = list((op.get("requestBody") or {}).get("content", {}).get("application/json", {})
                  .get("schema", {}).get("properties") or {})
    yield "no body", None
    yield "empty", b""
    for raw in (b"{", b"\xff\xfe", b"null", b"[]", b"\"s\"", b"{}", b"[1,2]", b"[{}]",
                json.dumps([{"name": BIG}]).encode()):
        yield f"raw {raw[:10]!r}", raw
    for field in props:
        for value in WRONG_TYPES:
            yield f"{field}={value!r:.20}", json.dumps({f: "x" for f in props} | {field: value}).encode()
        yield f"{field} missing", json.dumps({f: "x" for f in props if f != field}).encode()
    if props:
        yield "all big", json.dumps({f: BIG for f in props}).encode()
        for bad in BAD_IDS:
            yield f"all {bad!r:.12}", json.dumps({f: bad for f in props}).encode()
    yield "deep", ("[" * 5000 + "]" * 5000).encode()
    yield "unknown fields", json.dumps({"id": "0" * 32, "ids": [BIG], "password": 12, "roomName": {}}).encode()


def query_variants(op: dict[str, Any]) -> Iterator[dict[str, str]]:
    names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
    if not names:
        return
    long = "x" * (6000 // len(names))  # the request line stays under aiohttp's 8 KiB limit
    for value in ("-1", "abc", "99999999999999999999", long, "../", "'; drop table users;--"):
        yield {n: value for n in names}


class Sweep:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.api = server.api
        self.failures: list[str] = []
        self.count = 0
        self.root_id = ""
        self.room = ""

    async def setup(self) -> None:
        token = await self.server.make_user("sweeper", Role.ROOT)
        self.root_id = (await self.api.me(token))["id"]
        await self.ensure_room()

    async def token(self) -> str:
        """A valid token for the sweeping root user, whatever the sweep did to its password."""
        user = await self.server.store.users.get(self.root_id)
        assert user is not None, "the sweep deleted its own user"
        if user.role != Role.ROOT:
            await self.server.store.users.set_role(self.root_id, Role.ROOT)
        return str(self.server.runtime.services.tokens.issue(self.root_id, user_version(user.hashed_password)))

    async def ensure_room(self) -> None:
        if not self.room or await self.server.store.rooms.get(self.room) is None:
            self.room = await self.api.create_room(await self.token(), f"sweep{time.time_ns() % 10**9}")
            await self.api.push_movie(await self.token(), self.room)

    async def send(self, method: str, path: str, *, body: bytes | None = None, token: str | None = "valid",
                   room: str | None = "valid", params: dict[str, str] | None = None, label: str = "") -> None:
        headers = {"Content-Type": "application/json"}
        if token == "valid":
            token = await self.token()
        if token:
            headers["Authorization"] = token
        if room == "valid":
            await self.ensure_room()
            room = self.room
        if room is not None:
            headers["X-Room-Id"] = room
        self.count += 1
        try:
            async with self.api.session.request(method, self.api.base + path, data=body, headers=headers,
                                                params=params, allow_redirects=False) as resp:
                text = await resp.text(errors="replace")
                status = resp.status
        except Exception as exc:  # a dropped connection is a failure too
            self.failures.append(f"{method} {path} [{label}]: {type(exc).__name__}: {exc}")
            return
        where = f"{method} {path} [{label}] -> {status}: {text[:200]}"
        if status >= 500:
            self.failures.append(where)
        elif status >= 400:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not (isinstance(parsed, dict) and isinstance(parsed.get("error"), str) and parsed["error"]):
                self.failures.append("no error envelope: " + where)


async def test_bad_input_sweep(sqlite_server: Server) -> None:
    api = sqlite_server.api
    spec = await api.ok("GET", "/api/openapi.json")
    assert len(spec["paths"]) > 50
    sweep = Sweep(sqlite_server)
    await sweep.setup()
    codec = sqlite_server.runtime.services.tokens
    expired = codec.issue(sweep.root_id, 0, now=time.time() - 10 * 86400)
    garbage_tokens = ["garbage", "Bearer", "Bearer ", "a.b.c", "eyJhbGciOiJub25lIn0.eyJ1IjoiMSJ9.", "x" * 4000,
                      expired, codec.issue("0" * 32, 1)]
    for template, ops in spec["paths"].items():
        for path in fill(template):
            for method, op in ops.items():
                m = method.upper()
                for label, body in bodies(op):
                    await sweep.send(m, path, body=body, label=label)
                for params in query_variants(op):
                    await sweep.send(m, path, params=params, label=f"query {next(iter(params.values()), '')[:10]}")
                for tok in garbage_tokens:
                    await sweep.send(m, path, token=tok, body=b"{}", label=f"token {tok[:12]}")
                await sweep.send(m, path, token=None, room=None, label="anonymous")
                for rid in [*BAD_IDS[:-1], "f" * 32, "x" * 4000]:
                    await sweep.send(m, path, room=rid, body=b"{}", label=f"room {rid[:12]}")
                    await sweep.send(m, path, room=None, params={"roomId": rid}, label=f"roomId {rid[:12]}")
            for m in ("PUT", "DELETE", "PATCH"):
                if m.lower() not in ops:
                    await sweep.send(m, path, body=b"{}", label="unknown method")
    assert sweep.count > 4000
    assert not sweep.failures, f"{len(sweep.failures)} of {sweep.count} bad:\n" + "\n".join(sweep.failures[:60])

    # the server still serves
    await api.ok("GET", "/api/public/settings")
    alice = await api.signup("after-sweep")
    rid = await api.create_room(alice, "after the sweep")
    ws = await api.ws(rid, alice)
    from synctv._generated import message_pb2 as pb

    await ws.send(pb.Message(type=pb.MessageType.SYNC))
    assert (await ws.expect(pb.MessageType.SYNC)).timestamp > 0
    await ws.close()
