"""Security headers on the web client and the API, a CSP that allows the players and nothing more, and the
optional bearer token in front of /metrics."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aiohttp

from synctv.api.middleware.security_headers import API_CSP, WEB_CSP
from tests.support.servers import Server, start_server


def directives(csp: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = set(values)
    return out


def assert_hardened(headers: Mapping[str, str], csp: str, referrer: str) -> None:
    h = dict(headers)
    assert h.get("X-Content-Type-Options") == "nosniff", h
    assert h.get("X-Frame-Options") == "DENY", h
    assert h.get("Content-Security-Policy") == csp, h
    assert h.get("Referrer-Policy") == referrer, h


def test_web_policy_allows_the_players_and_nothing_more() -> None:
    d = directives(WEB_CSP)
    assert d["default-src"] == {"'self'"} and d["script-src"] == {"'self'"} and d["style-src"] == {"'self'"}
    assert d["worker-src"] == {"'self'", "blob:"}  # hls.js transmuxes in a blob: worker
    assert d["media-src"] == {"'self'", "https:", "http:", "blob:"}  # any media URL; MSE's blob: source
    assert d["connect-src"] == {"'self'", "https:", "http:", "ws:", "wss:"}  # media anywhere; the room on a sibling
    assert d["frame-ancestors"] == {"'none'"} and d["object-src"] == {"'none'"} and d["base-uri"] == {"'self'"}
    assert "'unsafe-inline'" not in WEB_CSP and "'unsafe-eval'" not in WEB_CSP and "*" not in WEB_CSP
    assert directives(API_CSP)["default-src"] == {"'none'"} and "sandbox" in directives(API_CSP)


async def test_web_client_and_api_carry_the_headers(sqlite_server: Server) -> None:
    api = sqlite_server.api
    web_pages = ["/web/", "/web/js/app.js", "/web/css/app.css", "/web/no/such/route",
                 "/web/node_modules/hls.js/dist/hls.min.js"]
    for path in web_pages:
        async with api.session.get(api.base + path) as resp:
            assert resp.status in (200, 404), path
            assert_hardened(resp.headers, WEB_CSP, "same-origin")
    async with api.session.get(api.base + "/", allow_redirects=False) as resp:
        assert resp.status == 301
        assert_hardened(resp.headers, WEB_CSP, "same-origin")
    token = await api.signup("headers")
    for method, path, kw in [("GET", "/api/public/settings", {}), ("GET", "/api/user/me", {"token": token}),
                             ("GET", "/api/user/me", {}), ("GET", "/api/no/such/route", {}),
                             ("PUT", "/api/user/me", {}), ("GET", "/api/openapi.json", {}), ("GET", "/metrics", {}),
                             ("GET", "/live", {})]:
        h = {"Authorization": kw["token"]} if "token" in kw else {}
        async with api.session.request(method, api.base + path, headers=h) as resp:
            assert_hardened(resp.headers, API_CSP, "no-referrer")
    # the WebSocket upgrade still works
    room = await api.create_room(token, "headers room")
    ws = await api.ws(room, token)
    await ws.close()


async def test_a_custom_web_client_can_have_its_own_policy(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>spa</title>")
    policy = "default-src 'self'; frame-ancestors 'none'"
    runtime, base = await start_server(tmp_path / "data", SYNCTV_SERVER_WEB_PATH=str(dist),
                                       SYNCTV_SERVER_WEB_CONTENT_SECURITY_POLICY=policy)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/web/") as resp:
                assert resp.status == 200
                assert_hardened(resp.headers, policy, "same-origin")
            async with session.get(base + "/api/public/settings") as resp:
                assert_hardened(resp.headers, API_CSP, "no-referrer")
    finally:
        await runtime.stop()


async def test_metrics_are_public_by_default(sqlite_server: Server) -> None:
    async with sqlite_server.api.session.get(sqlite_server.api.base + "/metrics") as resp:
        assert resp.status == 200 and "synctv_" in await resp.text()


async def test_metrics_behind_a_token(tmp_path: Path) -> None:
    secret = "scrape-me-0123456789"
    runtime, base = await start_server(tmp_path / "data", SYNCTV_SERVER_METRICS_TOKEN=secret)
    try:
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": secret},
                            {"Authorization": "Basic " + secret}, {"Authorization": f"Bearer {secret}x"}):
                async with session.get(base + "/metrics", headers=headers) as resp:
                    body = await resp.json(content_type=None)
                    assert resp.status == 401 and "server.metrics_token" in body["error"], headers
                    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            async with session.get(base + "/metrics", params={"token": secret}) as resp:
                assert resp.status == 401  # a header only: a URL token ends up in logs
            async with session.get(base + "/metrics", headers={"Authorization": f"Bearer {secret}"}) as resp:
                assert resp.status == 200 and "synctv_" in await resp.text()
            async with session.get(base + "/api/public/settings") as resp:
                assert resp.status == 200  # the API does not need it
    finally:
        await runtime.stop()


async def test_hsts_only_over_this_servers_tls(tmp_path: Path, sqlite_server: Server) -> None:
    import ssl

    from tests.support.pki import make_pki

    pki = make_pki(tmp_path)
    runtime, base = await start_server(tmp_path / "data", SYNCTV_SERVER_HTTP_CERT_PATH=pki["tls_cert_path"],
                                       SYNCTV_SERVER_HTTP_KEY_PATH=pki["tls_key_path"])
    try:
        ctx = ssl.create_default_context(cafile=pki["tls_ca_path"])
        async with aiohttp.ClientSession() as session:
            for path in ("/api/public/settings", "/web/", "/api/nope"):
                async with session.get(base.replace("http://", "https://") + path, ssl=ctx) as resp:
                    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000", path
            async with session.get(sqlite_server.api.base + "/api/public/settings") as resp:
                assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: meaningless, not sent
    finally:
        await runtime.stop()
