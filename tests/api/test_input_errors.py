"""Hand-found inputs that once answered 500: each gets a 4xx in the upstream error envelope, on SQLite and
PostgreSQL, and the server keeps serving. `tests/api/test_schema_fuzz.py` replays the same inputs through
schemathesis."""

from __future__ import annotations

import asyncio
from typing import Any

from yarl import URL

from synctv.core.permissions import Role
from tests.support.servers import Server

HUGE = "99999999999999999999"  # beyond a 64-bit integer
LIST_ROUTES = ["/api/room/list", "/api/room/hot", "/api/admin/user/list", "/api/admin/room/list",
               "/api/room/members", "/api/room/movie/movies"]


def assert_envelope(status: int, body: Any, expect: int) -> None:
    assert status == expect, (status, body)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("time"), int), body


async def raw_post(server: Server, path: str, body: bytes, token: str = "", room: str = "") -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    if room:
        headers["X-Room-Id"] = room
    return await server.api.call("POST", path, data=body, headers=headers)


async def test_page_beyond_64_bits(server: Server) -> None:
    root = await server.make_user("rooty", Role.ROOT)
    room = await server.api.create_room(root, "paged")
    for path in LIST_ROUTES:
        for page in (HUGE, "-" + HUGE):
            status, body = await server.api.call("GET", path, token=root, room=room, params={"page": page})
            assert_envelope(status, body, 400)
        status, body = await server.api.call("GET", path, token=root, room=room, params={"page": str(2**63 - 1)})
        assert status == 200, (path, body)  # in range: capped, an empty page
        status, body = await server.api.call("GET", path, token=root, room=room, params={"max": HUGE})
        assert_envelope(status, body, 400)
    await server.api.ok("GET", "/api/room/list", params={"page": "1000000"})


async def test_lone_surrogate_in_any_json_string(server: Server) -> None:
    root = await server.make_user("rooty", Role.ROOT)
    room = await server.api.create_room(root, "surrogates")
    cases = [("/api/user/signup", b'{"username": "a\\ud800b", "password": "password1"}'),
             ("/api/user/login", b'{"username": "rooty", "password": "\\udfff"}'),
             ("/api/room/movie/push", b'{"name": "a\\ud800", "url": "https://example.com/a.mp4"}'),
             ("/api/room/movie/push",
              b'{"name": "n", "url": "https://example.com/a.mp4", "headers": {"\\ud800": "x"}}'),
             ("/api/room/movie/pushs", b'[{"name": "n", "url": "https://example.com/\\udc00.mp4"}]'),
             ("/api/room/create", b'{"roomName": "\\ud83d", "password": ""}')]
    for path, raw in cases:
        status, body = await raw_post(server, path, raw, root, room)
        assert_envelope(status, body, 400)
        assert body["error"] == "request body contains an unpaired surrogate", (path, body)
    # a proper pair is one character and fine
    await server.api.ok("POST", "/api/room/movie/push", token=root, room=room,
                        data=b'{"name": "\\ud83d\\ude00", "url": "https://example.com/a.mp4"}',
                        headers={"Content-Type": "application/json"})


async def test_nul_in_strings(server: Server) -> None:
    root = await server.make_user("rooty", Role.ROOT)
    room = await server.api.create_room(root, "nul")
    for path, raw in [("/api/room/movie/push", b'{"name": "a\\u0000b", "url": "https://example.com/a.mp4"}'),
                      ("/api/room/create", b'{"roomName": "x\\u0000", "password": ""}'),
                      ("/api/room/admin/settings", b'{"\\u0000": true}')]:
        status, body = await raw_post(server, path, raw, root, room)
        assert_envelope(status, body, 400)
        assert body["error"] == "request body contains a NUL character", (path, body)
    for path in ("/api/room/list", "/api/admin/user/list"):
        status, body = await server.api.call("GET", path, token=root, params={"keyword": "a\x00b"})
        assert_envelope(status, body, 400)
        assert body["error"] == "request contains a NUL character"
    assert (await server.api.ok("GET", "/api/room/movie/movies", token=root, room=room))["total"] == 0


async def test_nul_in_the_web_path(server: Server) -> None:
    for raw in ("/web/js%00/app.js", "/web/%00", "/api/room/check%00", "/web/js/app.js%00"):
        async with server.api.session.get(URL(server.api.base + raw, encoded=True)) as resp:
            body = await resp.json(content_type=None)
            assert_envelope(resp.status, body, 400)
    async with server.api.session.get(server.api.base + "/web/js/app.js") as resp:
        assert resp.status == 200


async def test_405_names_the_allowed_methods(server: Server) -> None:
    for method, path, allowed in [("PUT", "/api/user/me", {"GET"}), ("DELETE", "/api/room/create", {"POST"}),
                                  ("POST", "/web/index.html", {"GET"}), ("PATCH", "/api/openapi.json", {"GET"})]:
        async with server.api.session.request(method, server.api.base + path) as resp:
            body = await resp.json(content_type=None)
            assert_envelope(resp.status, body, 405)
            assert {m.strip() for m in resp.headers["Allow"].split(",")} - {"HEAD"} == allowed, path


async def test_room_deleted_while_a_non_member_touches_it(server: Server) -> None:
    api = server.api
    owner = await server.make_user("owner")
    other = await server.make_user("other")
    statuses: set[int] = set()
    for i in range(20):
        room = await api.create_room(owner, f"doomed{i}")
        touches = [api.call("GET", path, token=other, room=room)
                   for path in ("/api/room/movie/movies", "/api/room/me", "/api/room/info", "/api/room/members")]
        results = await asyncio.gather(api.call("POST", "/api/room/admin/delete", token=owner, room=room), *touches)
        assert results[0][0] == 204, results[0]
        for status, body in results[1:]:
            statuses.add(status)
            if status != 200:
                assert_envelope(status, body, status)
                assert status in (403, 404), body
    assert statuses <= {200, 403, 404}
    await api.ok("GET", "/api/room/list")
