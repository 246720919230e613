"""`?token=` works only where a browser cannot send a header (the WebSocket and media URLs); anywhere else it is
refused with a clear 401, so tokens stay out of proxy and access logs."""

from __future__ import annotations

import pytest

from synctv.api.auth import URL_TOKEN_REFUSED, url_token_allowed
from tests.support.servers import Server


@pytest.mark.parametrize(("path", "allowed"), [
    ("/api/room/ws", True),
    ("/api/room/movie/proxy/0123456789abcdef0123456789abcdef", True),
    ("/api/room/movie/proxy/0123456789abcdef0123456789abcdef/m3u8/x.y.z", True),
    ("/api/room/movie/live/hls/list/0123456789abcdef0123456789abcdef.m3u8", True),
    ("/api/room/movie/live/flv/0123456789abcdef0123456789abcdef.flv", True),
    ("/api/room/movie/danmu/0123456789abcdef0123456789abcdef", True),
    ("/api/room/ws/x", False), ("/api/room/wsx", False), ("/api/room/movie/proxy", False),
    ("/api/room/movie/movies", False), ("/api/user/me", False), ("/api/admin/users", False), ("/metrics", False),
])
def test_where_a_url_token_is_accepted(path: str, allowed: bool) -> None:
    assert url_token_allowed(path) is allowed


async def test_rest_routes_refuse_a_url_token(server: Server) -> None:
    api = server.api
    token = await api.signup("urltoken")
    room = await api.create_room(token, "url token room")
    for method, path, params, body in [
        ("GET", "/api/user/me", {"token": token}, None),
        ("POST", "/api/room/create", {"token": token}, {"roomName": "via url", "password": ""}),
        ("GET", "/api/room/movie/current", {"token": token, "roomId": room}, None),  # guest-capable route
        ("POST", "/api/user/logout", {"token": token}, None),
    ]:
        status, resp = await api.call(method, path, params=params, json=body)
        assert status == 401 and resp["error"] == URL_TOKEN_REFUSED, (path, status, resp)
    assert (await api.me(token))["username"] == "urltoken"  # the logout above did not happen
    # a header token wins over anything in the URL
    status, resp = await api.call("GET", "/api/user/me", token=token, params={"token": "garbage"})
    assert status == 200 and resp["data"]["username"] == "urltoken"


async def test_the_websocket_still_takes_a_url_token(server: Server) -> None:
    api = server.api
    token = await api.signup("wsurl")
    room = await api.create_room(token, "ws url room")
    ws = await api.ws(room, token, via_query=True)
    await ws.close()
