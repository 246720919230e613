"""The plain OAuth2 providers (GitHub, Gitee, GitLab, Google, Microsoft, Discord, QQ, Baidu, Baidu-netdisk,
Xiaomi) against loopback stand-ins of their authorize, token and profile endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from synctv.auth.oauth2.plain import SPECS
from synctv.auth.oauth2.registry import OAuth2Registry
from synctv.core.permissions import Role
from synctv.store.pagination import ListQuery
from tests.support.oauth2_standins import CLIENT_ID, CLIENT_SECRET, PROFILES, StandIns
from tests.support.oidc_server import free_port
from tests.support.servers import Server


@pytest.fixture
async def standins() -> AsyncIterator[tuple[StandIns, str]]:
    fakes = StandIns()
    runner = web.AppRunner(fakes.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield fakes, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def enable(server: Server, base: str, *names: str) -> None:
    assert server.runtime.services is not None
    server.runtime.services.oauth2 = OAuth2Registry({n: s.rebased(f"{base}/{n}") for n, s in SPECS.items()})
    root = await server.make_user("boss", Role.ROOT)
    values: dict[str, Any] = {}
    for n in names:
        values.update({f"oauth2_{n}_enabled": True, f"oauth2_{n}_client_id": CLIENT_ID,
                       f"oauth2_{n}_client_secret": CLIENT_SECRET})
    await server.api.ok("POST", "/api/admin/settings", expect=204, token=root, json=values)


async def through_provider(server: Server, name: str) -> dict[str, str]:
    api = server.api
    url = (await api.ok("POST", f"/oauth2/login/{name}", json={"redirect": "/web/"}))["url"]
    async with aiohttp.ClientSession() as browser, browser.get(url, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        location = resp.headers["Location"]
    assert location.startswith(f"{api.base}/oauth2/callback/{name}?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_login_with_each_plain_provider(sqlite_server: Server, standins: tuple[StandIns, str],
                                              name: str) -> None:
    fakes, base = standins
    await enable(sqlite_server, base, name)
    api = sqlite_server.api
    assert name in (await api.ok("GET", "/oauth2/enabled"))["enabled"]
    params = await through_provider(sqlite_server, name)
    status, body = await api.call("POST", f"/oauth2/callback/{name}", json=params)
    assert status == 200, body
    token = body["data"]["token"]
    uid, username = PROFILES[name]
    assert (await api.me(token))["username"] == username
    assert (await api.ok("GET", "/api/user/providers", token=token))[name]["providerUserId"] == uid
    assert (name in fakes.seen_pkce) == SPECS[name].pkce


async def test_provider_failures_are_clear_and_create_nothing(sqlite_server: Server,
                                                              standins: tuple[StandIns, str]) -> None:
    fakes, base = standins
    await enable(sqlite_server, base, "github", "discord")
    api = sqlite_server.api
    before, _ = await sqlite_server.store.users.list(ListQuery())

    fakes.fail = "token"
    status, body = await api.call("POST", "/oauth2/callback/github", json=await through_provider(sqlite_server,
                                                                                                 "github"))
    assert status == 400 and "answered with an error: invalid_grant (bad code)" in body["error"]

    fakes.fail = "profile"
    status, body = await api.call("POST", "/oauth2/callback/discord", json=await through_provider(sqlite_server,
                                                                                                  "discord"))
    assert status == 400 and "HTTP 401" in body["error"]

    fakes.fail = ""
    params = await through_provider(sqlite_server, "github")
    assert sqlite_server.runtime.services is not None
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    sqlite_server.runtime.services.oauth2 = OAuth2Registry({n: s.rebased(nobody_listens) for n, s in SPECS.items()})
    status, body = await api.call("POST", "/oauth2/callback/github", json=params)
    assert status == 400 and "could not be reached" in body["error"]
    after, _ = await sqlite_server.store.users.list(ListQuery())
    assert after == before


async def test_gitlab_and_casdoor_are_listed_only_when_configured(sqlite_server: Server) -> None:
    api = sqlite_server.api
    root = await sqlite_server.make_user("boss", Role.ROOT)
    assert (await api.ok("GET", "/oauth2/enabled"))["enabled"] == []
    # Enabled without a client id: not offered.
    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"oauth2_gitlab_enabled": True})
    assert (await api.ok("GET", "/oauth2/enabled"))["enabled"] == []
    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"oauth2_gitlab_client_id": "x"})
    assert (await api.ok("GET", "/oauth2/enabled"))["enabled"] == ["gitlab"]
    # An OpenID Connect provider without an issuer is refused with a clear message, not a 500.
    await api.ok("POST", "/api/admin/settings", expect=204, token=root,
                 json={"oauth2_casdoor_enabled": True, "oauth2_casdoor_client_id": "x"})
    status, body = await api.call("POST", "/oauth2/login/casdoor", json={})
    assert status == 400 and "not configured correctly" in body["error"]
    # Generic provider names are validated.
    for bad in ("GitHub", "github", "a b", "x" * 40):
        status, body = await api.call("POST", "/api/admin/settings", token=root,
                                      json={"oauth2_oidc_providers": bad})
        assert status == 400, bad
    status, _ = await api.call("POST", "/api/admin/settings", token=root, json={"oauth2_nope_issuer": "x"})
    assert status == 400
