"""Log in, sign up, bind and unbind with a generic OpenID Connect provider: the real npm `oidc-provider` on
loopback, walked through its own login and consent pages."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from synctv.core.permissions import Role
from synctv.store.models import OAuth2State, User, UserProvider
from tests.support.api_client import Api
from tests.support.oidc_server import Client, OidcServer, as_params, authorize, browser_session, configure
from tests.support.servers import Server, start_server


async def start_login(api: Api, name: str = "idp", redirect: str = "") -> str:
    data = await api.ok("POST", f"/oauth2/login/{name}", json={"redirect": redirect})
    return str(data["url"])


async def provider_callback(api: Api, client: Client, login: str, *, name: str = "idp", redirect: str = "",
                            deny: bool = False) -> dict[str, Any]:
    url = await start_login(api, name, redirect)
    async with browser_session() as browser:
        cb = await authorize(browser, url, client.redirect_uri, login, deny=deny)
    return cb.params


async def login_via(api: Api, client: Client, login: str, **kw: Any) -> tuple[int, Any]:
    params = await provider_callback(api, client, login, **kw)
    return await api.call("POST", "/oauth2/callback/idp", json=params)


async def counts(server: Server) -> tuple[int, int]:
    async with server.store.engine.connect() as conn:
        users = await conn.scalar(select(func.count()).select_from(User))
        bindings = await conn.scalar(select(func.count()).select_from(UserProvider))
    return int(users or 0), int(bindings or 0)


@pytest.fixture
async def root(server: Server) -> str:
    return await server.make_user("boss", Role.ROOT)


async def test_signup_then_login_of_the_bound_user(server: Server, oidc_provider: OidcServer, root: str) -> None:
    api = server.api
    client = await configure(api, root, oidc_provider)
    assert await api.ok("GET", "/oauth2/enabled") == {"enabled": ["idp"]}
    assert await api.ok("GET", "/oauth2/enabled/signup") == {"signupEnabled": ["idp"]}

    status, body = await login_via(api, client, "alice", redirect="/web/#/rooms")
    assert status == 200, body
    data = body["data"]
    assert data["type"] == "auth" and data["role"] == Role.USER and data["redirect"] == "/web/#/rooms"
    me = await api.me(data["token"])
    assert me["username"] == "alice"
    providers = await api.ok("GET", "/api/user/providers", token=data["token"])
    assert providers["idp"]["providerUserId"] == "alice" and providers["idp"]["createdAt"] > 0

    # The same provider account logs in to the same user; no second account appears.
    before = await counts(server)
    status, again = await login_via(api, client, "alice")
    assert status == 200, again
    assert (await api.me(again["data"]["token"]))["id"] == me["id"]
    assert await counts(server) == before


async def test_get_callback_page_stores_the_token_and_redirects(sqlite_server: Server, oidc_provider: OidcServer
                                                                ) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    params = await provider_callback(api, client, "carol", redirect="/web/#/rooms")
    async with api.session.get(api.base + "/oauth2/callback/idp", params=params) as resp:
        page = await resp.text()
        assert resp.status == 200
        assert resp.headers["X-OAuth2-Type"] == "auth"
        assert resp.headers["Cache-Control"] == "no-store"
        csp = resp.headers["Content-Security-Policy"]
    # the page's one inline script runs by its hash, nothing else does
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "localStorage.setItem('userToken', \"" in page
    assert 'location.replace("/web/#/rooms")' in page
    token = page.split("localStorage.setItem('userToken', \"", 1)[1].split('"', 1)[0]
    assert (await api.me(token))["username"] == "carol"


async def test_bind_and_unbind(sqlite_server: Server, oidc_provider: OidcServer) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    token = await server.make_user("dave")
    me = await api.me(token)
    assert (await api.ok("GET", "/api/user/providers", token=token))["idp"] == {"providerUserId": "",
                                                                              "createdAt": 0}
    url = (await api.ok("POST", "/oauth2/bind/idp", token=token, json={"redirect": "/web/#/settings"}))["url"]
    async with browser_session() as browser:
        cb = await authorize(browser, url, client.redirect_uri, "dave-at-idp")
    status, body = await api.call("POST", "/oauth2/callback/idp", json=as_params(cb))
    assert status == 200, body
    assert body["data"] == {"type": "bind", "redirect": "/web/#/settings"}
    assert (await api.ok("GET", "/api/user/providers", token=token))["idp"]["providerUserId"] == "dave-at-idp"

    # A second bind of the same provider is refused before the provider is asked.
    status, body = await api.call("POST", "/oauth2/bind/idp", token=token, json={})
    assert status == 400 and "unbind it first" in body["error"]

    # Logging in with the bound account is logging in as dave.
    status, body = await login_via(api, client, "dave-at-idp")
    assert status == 200 and (await api.me(body["data"]["token"]))["id"] == me["id"]

    # The same provider account cannot be bound to another user.
    other = await server.make_user("erin")
    url = (await api.ok("POST", "/oauth2/bind/idp", token=other, json={}))["url"]
    async with browser_session() as browser:
        cb = await authorize(browser, url, client.redirect_uri, "dave-at-idp")
    status, body = await api.call("POST", "/oauth2/callback/idp", json=as_params(cb))
    assert status == 400 and "already bound to another user" in body["error"]

    assert await api.call("POST", "/oauth2/unbind/idp", token=token) == (204, None)
    assert (await api.ok("GET", "/api/user/providers", token=token))["idp"]["providerUserId"] == ""
    status, body = await api.call("POST", "/oauth2/unbind/idp", token=token)
    assert status == 400 and "not bound" in body["error"]
    assert (await api.call("POST", "/oauth2/unbind/idp"))[0] == 401


async def test_the_last_way_in_cannot_be_unbound(sqlite_server: Server, oidc_provider: OidcServer) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    status, body = await login_via(api, client, "frank")
    token = body["data"]["token"]
    status, body = await api.call("POST", "/oauth2/unbind/idp", token=token)
    assert status == 400 and "cannot be unbound" in body["error"]
    assert (await api.ok("GET", "/api/user/providers", token=token))["idp"]["providerUserId"] == "frank"


async def test_forged_and_replayed_states_are_refused(sqlite_server: Server, oidc_provider: OidcServer) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    params = await provider_callback(api, client, "grace")
    nonce, _, mac = params["state"].partition(".")
    for forged in (nonce + "." + "0" * len(mac), "x" * 40 + "." + mac, "", "no-dot", "a" * 300):
        status, body = await api.call("POST", "/oauth2/callback/idp", json={**params, "state": forged})
        assert status == 400 and "invalid, already used or expired" in body["error"], forged
    assert (await api.call("POST", "/oauth2/callback/idp", json=params))[0] == 200
    users = await counts(server)
    status, body = await api.call("POST", "/oauth2/callback/idp", json=params)
    assert status == 400 and "already used" in body["error"]
    async with api.session.get(api.base + "/oauth2/callback/idp", params=params,
                               headers={"Accept": "text/html"}) as resp:
        assert resp.status == 400
        assert "already used" in await resp.text() and resp.content_type == "text/html"
    status, body = await api.call("GET", "/oauth2/callback/idp", params=params)
    assert status == 400 and "already used" in body["error"]
    assert await counts(server) == users

    # A state issued for one provider does not work for another.
    params = await provider_callback(api, client, "grace")
    status, body = await api.call("POST", "/oauth2/callback/github", json=params)
    assert status == 400 and "not enabled" in body["error"]


async def test_an_expired_state_is_refused(sqlite_server: Server, oidc_provider: OidcServer) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    params = await provider_callback(api, client, "heidi")
    async with server.store.engine.begin() as conn:
        from datetime import datetime
        await conn.execute(OAuth2State.__table__.update().values(expires_at=datetime(2000, 1, 1)))
    status, body = await api.call("POST", "/oauth2/callback/idp", json=params)
    assert status == 400 and "expired" in body["error"]


@pytest.mark.parametrize(("mode", "words"), [
    ("bad-signature", "bad signature"),
    ("bad-nonce", "nonce"),
    ("bad-audience", "aud"),
    ("expired", "expired"),
])
async def test_bad_id_tokens_are_refused_and_nothing_is_created(sqlite_server: Server, oidc_provider: OidcServer,
                                                               mode: str, words: str) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    before = await counts(server)
    await oidc_provider.set_mode(mode)
    try:
        status, body = await login_via(api, client, f"mallory-{mode}")
    finally:
        await oidc_provider.set_mode("")
    assert status == 400, body
    assert "identity token was rejected" in body["error"] and words in body["error"].lower(), body
    assert await counts(server) == before


async def test_denied_consent_and_provider_errors(sqlite_server: Server, oidc_provider: OidcServer) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    before = await counts(server)
    status, body = await login_via(api, client, "ivan", deny=True)
    assert status == 400 and "did not grant access" in body["error"]
    # A code the provider never issued: the provider's own error reaches the user.
    params = await provider_callback(api, client, "ivan")
    status, body = await api.call("POST", "/oauth2/callback/idp", json={**params, "code": "made-up"})
    assert status == 400 and "invalid_grant" in body["error"]
    assert await counts(server) == before


async def test_signup_rules_review_and_disabled_providers(sqlite_server: Server, oidc_provider: OidcServer
                                                          ) -> None:
    server = sqlite_server
    api = server.api
    root = await server.make_user("boss", Role.ROOT)
    client = await configure(api, root, oidc_provider, oauth2_idp_signup_need_review=True)
    status, body = await login_via(api, client, "judy")
    assert status == 200 and body["data"]["role"] == Role.PENDING and "token" not in body["data"]

    await api.ok("POST", "/api/admin/settings", expect=204, token=root,
                 json={"oauth2_idp_disable_user_signup": True})
    assert await api.ok("GET", "/oauth2/enabled/signup") == {"signupEnabled": []}
    status, body = await login_via(api, client, "ken")
    assert status == 400 and "signing up with this provider is disabled" in body["error"]

    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"oauth2_idp_enabled": False})
    assert await api.ok("GET", "/oauth2/enabled") == {"enabled": []}
    for method, path in (("POST", "/oauth2/login/idp"), ("GET", "/oauth2/login/idp"),
                         ("POST", "/oauth2/login/nope"), ("POST", "/oauth2/login/" + "x" * 300)):
        status, body = await api.call(method, path, json={})
        assert status == 400 and "not enabled" in str(body), (path, body)


async def test_taken_usernames_get_a_suffix(sqlite_server: Server, oidc_provider: OidcServer) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    await server.make_user("lena")
    _, body = await login_via(api, client, "lena")
    name = (await api.me(body["data"]["token"]))["username"]
    assert name.startswith("lena#") and len(name) == len("lena#0000")


@pytest.mark.parametrize(("redirect", "expected"), [
    ("https://evil.example/steal", "/web/"),
    ("//evil.example/steal", "/web/"),
    ("/\\evil.example", "/web/"),
    ("javascript:alert(1)", "/web/"),
    ("web/relative", "/web/"),
    ("/web/#/room/abc", "/web/#/room/abc"),
])
async def test_redirects_stay_on_this_site(sqlite_server: Server, oidc_provider: OidcServer, redirect: str,
                                           expected: str) -> None:
    server = sqlite_server
    api = server.api
    client = await configure(api, await server.make_user("boss", Role.ROOT), oidc_provider)
    status, body = await login_via(api, client, "oscar", redirect=redirect)
    assert status == 200 and body["data"]["redirect"] == expected


async def test_same_origin_absolute_redirect_is_kept(sqlite_server: Server, oidc_provider: OidcServer) -> None:
    api = sqlite_server.api
    client = await configure(api, await sqlite_server.make_user("boss", Role.ROOT), oidc_provider)
    _, body = await login_via(api, client, "peggy", redirect=api.base + "/web/#/rooms")
    assert body["data"]["redirect"] == api.base + "/web/#/rooms"


async def test_callback_lands_on_another_instance(tmp_path: Path, oidc_provider: OidcServer) -> None:
    """Two instances on one database: the login starts on the first, the provider returns to the second."""
    data = tmp_path / "data"
    first, base_a = await start_server(data)
    second, base_b = await start_server(data)
    try:
        async with aiohttp.ClientSession() as session:
            a, b = Api(base_a, session), Api(base_b, session)
            server_a = Server(first, a)
            root = await server_a.make_user("boss", Role.ROOT)
            # Behind one public address every instance sends the same redirect URL; here it is pinned.
            client = await configure(a, root, oidc_provider, pin_redirect=True)
            await second.store.settings.reload()  # what the cluster's invalidation does on a real mesh
            params = await provider_callback(a, client, "quentin")
            status, body = await b.call("POST", "/oauth2/callback/idp", json=params)
            assert status == 200, body
            token = body["data"]["token"]
            assert (await a.me(token))["username"] == "quentin" == (await b.me(token))["username"]
            # ... and the state is used up for the first instance as well.
            status, body = await a.call("POST", "/oauth2/callback/idp", json=params)
            assert status == 400 and "already used" in body["error"]
    finally:
        await second.stop()
        await first.stop()
