"""Admin debug endpoints: a CPU profile of the live instance and a dump of its asyncio tasks; admins only, and
absent (404) unless `profiling.enabled`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from synctv._generated import message_pb2 as pb
from synctv.core.permissions import Role
from tests.support.api_client import Api
from tests.support.servers import Server, start_server


@pytest.fixture
async def debug_server(tmp_path: Path) -> AsyncIterator[Server]:
    runtime, base = await start_server(tmp_path / "data", SYNCTV_PROFILING_ENABLED="true")
    async with aiohttp.ClientSession() as session:
        yield Server(runtime, Api(base, session))
    await runtime.stop()


async def test_profile_captures_live_instance(debug_server: Server) -> None:
    api = debug_server.api
    admin = await debug_server.make_user("prof_admin", Role.ADMIN)

    async def traffic() -> int:
        served = 0
        deadline = time.monotonic() + 0.8
        while time.monotonic() < deadline:
            status, _ = await api.call("GET", "/api/user/me", token=admin)
            assert status == 200
            served += 1
        return served

    started = time.monotonic()
    (status, text), served = await asyncio.gather(
        api.call("POST", "/api/admin/debug/profile", token=admin, params={"seconds": "1"}), traffic())
    elapsed = time.monotonic() - started
    assert status == 200, text
    assert isinstance(text, str)
    assert 1.0 <= elapsed < 10
    assert served > 3  # the loop kept serving while the profile ran
    assert "cumulative" in text and "function calls" in text
    assert "synctv/api/" in text  # the handlers that ran while it recorded are in it


@pytest.mark.parametrize("seconds", ["0", "61", "-1", "abc", "1.5"])
async def test_profile_rejects_bad_seconds(debug_server: Server, seconds: str) -> None:
    admin = await debug_server.make_user("prof_admin2", Role.ADMIN)
    status, body = await debug_server.api.call("POST", "/api/admin/debug/profile", token=admin,
                                               params={"seconds": seconds})
    assert status == 400 and "seconds" in body["error"]


async def test_one_profile_at_a_time(debug_server: Server) -> None:
    admin = await debug_server.make_user("prof_admin3", Role.ADMIN)
    first = asyncio.ensure_future(debug_server.api.call("POST", "/api/admin/debug/profile", token=admin,
                                                        params={"seconds": "1"}))
    await asyncio.sleep(0.3)
    status, body = await debug_server.api.call("POST", "/api/admin/debug/profile", token=admin,
                                               params={"seconds": "1"})
    assert status == 409 and body["error"] == "a profile is already running"
    assert (await first)[0] == 200


async def test_task_dump(debug_server: Server) -> None:
    api = debug_server.api
    admin = await debug_server.make_user("dump_admin", Role.ADMIN)
    user = await api.signup("dump_user")
    room = await api.create_room(user, "dump room")
    ws = await api.ws(room, user)  # a live WebSocket session: its tasks show in the dump
    try:
        await ws.expect(pb.MessageType.VIEWER_COUNT)
        # A chat comes back only once the session reads (after the history it sends first): it is in its loop.
        await ws.send(pb.Message(type=pb.MessageType.CHAT, chat_content="here"))
        await ws.expect(pb.MessageType.CHAT)
        data = await api.ok("GET", "/api/admin/debug/tasks", token=admin)
    finally:
        await ws.close()
    assert data["count"] == len(data["tasks"]) > 1
    current = [t for t in data["tasks"] if t["current"]]
    assert len(current) == 1 and any(f["function"] == "tasks" for f in current[0]["stack"])
    for task in data["tasks"]:
        assert set(task) >= {"name", "coro", "stack", "done"}
        for frame in task["stack"]:
            assert set(frame) == {"file", "line", "function", "code"}
    names = {t["name"] for t in data["tasks"]}
    assert "readiness" in names
    readiness = next(t for t in data["tasks"] if t["name"] == "readiness")
    assert readiness["stack"] and readiness["stack"][0]["function"] == "ReadinessLoop._run"
    # A task suspended deep in an await chain shows every level (the WebSocket read loop awaits inside).
    functions = [f["function"] for t in data["tasks"] for f in t["stack"]]
    assert "_read_loop" in functions, [(t["coro"], [f["function"] for f in t["stack"]]) for t in data["tasks"]]


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/admin/debug/profile?seconds=1"),
                                              ("GET", "/api/admin/debug/tasks")])
async def test_admins_only(debug_server: Server, method: str, path: str) -> None:
    api = debug_server.api
    user = await api.signup("plain_" + method.lower())
    status, body = await api.call(method, path, token=user)
    assert status == 403 and body["error"] == "user is not an administrator"
    status, body = await api.call(method, path)
    assert status == 401 and "error" in body


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/admin/debug/profile?seconds=1"),
                                              ("GET", "/api/admin/debug/tasks")])
async def test_disabled_by_default(sqlite_server: Server, method: str, path: str) -> None:
    assert sqlite_server.runtime.cfg.profiling.enabled is False
    root = await sqlite_server.make_user("root_" + method.lower(), Role.ROOT)
    status, body = await sqlite_server.api.call(method, path, token=root)
    assert status == 404 and body["error"] == "not found" and "time" in body
    status, body = await sqlite_server.api.call(method, path)
    assert status == 404
