"""Guessing passwords is throttled (account, room, client address) with 429 and Retry-After; unknown
accounts answer like wrong passwords; the rate limit takes the client address a trusted proxy vouches for."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from synctv.core.throttle import FREE_FAILURES
from tests.support.api_client import Api
from tests.support.asserts import assert_error
from tests.support.servers import Server, start_server


async def test_login_guessing_is_locked_out_and_unknown_accounts_look_the_same(sqlite_server: Server) -> None:
    api = sqlite_server.api
    await api.signup("grace", "right-pass-1")
    status, unknown = await api.call("POST", "/api/user/login", json={"username": "nobody", "password": "x"})
    status2, wrong = await api.call("POST", "/api/user/login", json={"username": "grace", "password": "x"})
    assert (status, unknown["error"]) == (status2, wrong["error"]) == (403, "password incorrect")
    for _ in range(FREE_FAILURES - 1):
        status, _ = await api.call("POST", "/api/user/login", json={"username": "grace", "password": "guess"})
        assert status == 403
    status, body = await api.call("POST", "/api/user/login", json={"username": "grace", "password": "guess"})
    assert status == 403  # this failure starts the lockout
    resp = await api.session.post(api.base + "/api/user/login", json={"username": "grace", "password": "right-pass-1"})
    body = await resp.json()
    assert_error(resp.status, body, 429, "too many failed attempts, try again later")
    assert int(resp.headers["Retry-After"]) >= 1
    status, _ = await api.call("POST", "/api/user/login", json={"username": "GRACE", "password": "right-pass-1"})
    assert status == 429  # the same account whatever the case


async def test_room_password_guessing_is_locked_out(sqlite_server: Server) -> None:
    api = sqlite_server.api
    owner = await api.signup("hank")
    guesser = await api.signup("ivy")
    room = await api.create_room(owner, "locked", password="room-secret")
    codes = []
    for _ in range(FREE_FAILURES + 1):
        status, _ = await api.call("POST", "/api/room/login", token=guesser, json={"roomId": room, "password": "nope"})
        codes.append(status)
    assert codes == [403] * (FREE_FAILURES + 1)
    status, body = await api.call("POST", "/api/room/login", token=guesser,
                                  json={"roomId": room, "password": "room-secret"})
    assert_error(status, body, 429)


async def test_spoofed_forwarded_for_does_not_escape_the_rate_limit(tmp_path: Path) -> None:
    runtime, base = await start_server(tmp_path / "data", SYNCTV_RATE_LIMIT_ENABLE="true",
                                       SYNCTV_RATE_LIMIT_LIMIT="20", SYNCTV_RATE_LIMIT_TRUST_FORWARD_HEADER="true")
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            statuses = []
            for i in range(30):
                # The client writes whatever it likes on the left; the proxy (here: the peer) appends the truth.
                resp = await session.get(base + "/api/public/settings",
                                         headers={"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.9"})
                statuses.append(resp.status)
            assert statuses.count(429) >= 10 and statuses[:20] == [200] * 20
            resp = await session.get(base + "/api/public/settings", headers={"X-Forwarded-For": "198.51.100.10"})
            assert resp.status == 200  # another client address behind the same proxy has its own budget
            assert api.base == base
    finally:
        await runtime.stop()
