"""`--web-path` serves a built single-page app under /web/ (index.html fallback) exactly where the upstream client
expects it, `/` redirects there, and nothing outside the directory is reachable."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.support.servers import start_server


async def test_web_path_serves_a_single_page_app(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>spa</title>")
    (dist / "assets" / "app.js").write_text("console.log('spa')")
    (tmp_path / "secret.txt").write_text("not for the web")
    runtime, base = await start_server(tmp_path / "data", SYNCTV_SERVER_WEB_PATH=str(dist))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/", allow_redirects=False) as resp:
                assert resp.status == 301 and resp.headers["Location"] == "/web/"
            async with session.get(base + "/web/") as resp:
                assert resp.status == 200 and "<title>spa</title>" in await resp.text()
            async with session.get(base + "/web/assets/app.js") as resp:
                assert resp.status == 200 and "javascript" in resp.headers["Content-Type"]
            async with session.get(base + "/web/cinema/0123456789abcdef0123456789abcdef") as resp:
                assert resp.status == 200 and "<title>spa</title>" in await resp.text()  # client-side route
            async with session.get(base + "/web/%2E%2E/secret.txt") as resp:
                assert "not for the web" not in await resp.text()
            async with session.get(base + "/api/public/settings") as resp:
                assert resp.status == 200  # the API is unaffected
    finally:
        await runtime.stop()


async def test_builtin_client_is_served_without_web_path(tmp_path: Path) -> None:
    runtime, base = await start_server(tmp_path / "data")
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/web/") as resp:
                assert resp.status == 200 and "<html" in (await resp.text()).lower()
    finally:
        await runtime.stop()
