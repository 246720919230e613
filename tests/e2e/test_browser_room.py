"""The room as a first-time user meets it, in a real browser on a single `synctv serve`: a viewer who joins
with media whose host ignores Range requests (Python's `http.server`) does not restart the video for the
room; the profile page changes the password; and screenshots of the main screens at desktop and phone width
go to artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support import browser_support as bs
from tests.support.etcd_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(180)]

CLIP_SECONDS = 30


@pytest.fixture(scope="module")
def rangeless_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python3 -m http.server`: no Range support, so a browser can't seek in what it serves."""
    bs.require_browser_tools()
    directory = tmp_path_factory.mktemp("rangeless")
    bs.make_clip(directory / "clip.mp4", CLIP_SECONDS)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        asyncio.run(_wait_http(f"http://127.0.0.1:{port}/clip.mp4"))
        yield f"http://127.0.0.1:{port}/clip.mp4"
    finally:
        proc.terminate()
        proc.wait(10)


async def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 15
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, headers={"Range": "bytes=0-1"}) as resp:
                    # The origin really ignores Range: a full 200, not 206.
                    assert resp.status == 200 and "Accept-Ranges" not in resp.headers, resp.headers
                    return
            except aiohttp.ClientConnectionError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


@pytest.fixture
async def server() -> AsyncIterator[bs.ServeProcess]:
    proc = bs.ServeProcess()
    proc.start()
    try:
        await proc.wait_ready()
        yield proc
    finally:
        proc.stop()


async def _room_position(page: Any) -> float:
    """The room's clock, as the server reports it now."""
    return float(await page.evaluate(
        "async () => { const r = await fetch('/api/room/movie/current', {headers: {Authorization:"
        " localStorage.getItem('userToken'), 'X-Room-Id': window.synctvPlayer.roomId}});"
        " return (await r.json()).data.status.currentTime; }"))


async def test_a_joiner_on_a_rangeless_origin_does_not_rewind_the_room(server: bs.ServeProcess,
                                                                        rangeless_origin: str) -> None:
    async with bs.chromium() as browser:
        a = await bs.new_page(browser)
        b = await bs.new_page(browser)
        try:
            await bs.open_app(a, server.base)
            await bs.signup(a, "alice")
            room = await bs.create_room(a, "range-less night")
            await bs.add_movie(a, rangeless_origin, "Range-less clip")  # the first video starts by itself
            await bs.wait_movie_loaded(a)
            await a.click("#room-name")
            await a.evaluate("() => window.synctvPlayer.video.play()")
            await a.wait_for_function("() => window.synctvPlayer.video.currentTime > 6", timeout=20000)
            before = await _room_position(a)
            assert before > 5, before

            await bs.open_app(b, server.base)
            await bs.signup(b, "bob")
            await bs.join_room_by_id(b, room)
            await bs.wait_movie_loaded(b)
            await asyncio.sleep(4)  # the joiner's player loads, tries to follow, fails or succeeds
            after = await _room_position(a)
            a_state = await a.evaluate("() => window.synctvPlayer.video.currentTime")
            b_info = await b.evaluate(
                "() => ({t: window.synctvPlayer.video.currentTime, sent: window.synctvPlayer.controller.stats.sent,"
                " notice: document.getElementById('player-notice').hidden ? '' :"
                " document.getElementById('player-notice').textContent})")
            # The room was never dragged back to the newcomer's position, and its player sent nothing.
            assert after >= before + 3, (before, after, b_info)
            assert a_state >= before + 3, (a_state, b_info)
            assert b_info["sent"] == 0, b_info
            # Either the browser could play from the room's position, or the viewer is told why it can't.
            followed = abs(b_info["t"] - a_state) < 1.0
            assert followed or "Range" in b_info["notice"], b_info
            print(f"\nrange-less joiner: followed={followed} bob at {b_info['t']:.2f} s, alice at {a_state:.2f} s,"
                  f" room {before:.2f} -> {after:.2f} s; notice: {b_info['notice']!r}")
            if not followed:
                await bs.screenshot(b, "room-rangeless-notice-desktop.png", bs.DESKTOP)
        except BaseException:
            for name, page in (("alice", a), ("bob", b)):
                print(f"--- console of {name}:\n" + "\n".join(page.console_messages[-40:]))
            print("--- server log:\n" + server.log())
            raise


async def _login(page: Any, username: str, password: str) -> None:
    await page.wait_for_selector("#login-form", state="visible")
    await page.fill("#login-username", username)
    await page.fill("#login-password", password)
    await page.click("#login-submit")
    await page.wait_for_function("u => document.getElementById('current-user').textContent === u", arg=username)


async def _shots(page: Any, name: str) -> list[Path]:
    return [await bs.screenshot(page, f"{name}-desktop.png", bs.DESKTOP, full_page=True),
            await bs.screenshot(page, f"{name}-phone.png", bs.PHONE, full_page=True)]


async def test_profile_password_change_and_the_main_screens(server: bs.ServeProcess, rangeless_origin: str) -> None:
    shots: list[Path] = []
    async with bs.chromium() as browser:
        page = await bs.new_page(browser)
        guest = await bs.new_page(browser)
        try:
            await bs.open_app(page, server.base)
            shots += await _shots(page, "login")
            await bs.signup(page, "carol", "first-pass1")
            shots += await _shots(page, "rooms")

            # Carol is also signed in on another device: her profile lists both, this one marked, and she signs
            # the other one out from here.
            other = await bs.new_page(browser)
            await bs.open_app(other, server.base, "#/login")
            await _login(other, "carol", "first-pass1")

            # Profile: change the password (the current one is asked for), then log in with the new one.
            await page.click("#nav-account")
            await page.wait_for_selector("#view-account", state="visible")
            await page.wait_for_function("() => document.getElementById('profile-username').textContent === 'carol'")
            await page.wait_for_function("() => document.querySelectorAll('[data-testid=session-item]').length === 2")
            assert await page.locator("[data-testid=session-item][data-current=true] [data-testid=session-current]"
                                      ).count() == 1
            assert "Chrom" in (await page.text_content("[data-testid=session-item][data-current=false]") or "")
            shots += await _shots(page, "profile")
            await page.click("[data-testid=session-item][data-current=false] [data-testid=session-revoke]")
            await page.wait_for_function("() => document.querySelectorAll('[data-testid=session-item]').length === 1")
            assert await page.is_disabled("#sessions-revoke-others")
            status = await other.evaluate("async () => (await fetch('/api/user/me', {headers: {Authorization:"
                                          " localStorage.getItem('userToken')}})).status")
            assert status == 401, status
            await page.fill("#profile-old-password", "first-pass1")
            await page.fill("#profile-new-password", "second-pass2")
            await page.fill("#profile-confirm-password", "second-pass2")
            await page.click("[data-testid=password-save]")
            await page.wait_for_selector("#password-form[data-changed=true]", state="attached")
            assert not await page.evaluate("() => document.getElementById('account-error').textContent")
            await page.click("#logout-button")
            await bs.open_app(page, server.base, "#/login")
            await page.fill("#login-username", "carol")
            await page.fill("#login-password", "first-pass1")
            await page.click("#login-submit")
            await page.wait_for_function("() => document.getElementById('auth-error').textContent.length > 0")
            await _login(page, "carol", "second-pass2")

            # The room: invite link, and a guest who follows it sees they are a guest and why chat is off.
            room = await bs.create_room(page, "carol's room")
            await bs.add_movie(page, rangeless_origin, "Clip")
            await bs.wait_movie_loaded(page)
            link = await page.input_value("#share-link")
            assert link.endswith(f"#/room/{room}"), link
            shots += await _shots(page, "room")
            await guest.goto(link)
            await bs.wait_connected(guest)
            assert await guest.is_visible("#guest-banner")
            assert await guest.is_disabled("#chat-input") and await guest.is_disabled("#chat-send")
            hint = await guest.text_content("#chat-hint")
            assert hint and "log in" in hint.lower(), hint
            shots += await _shots(guest, "room-guest")

            # A room that does not exist: a clear view, not an empty room shell.
            await bs.open_app(page, server.base, "#/room/" + "0" * 32)
            await page.wait_for_selector("#room-missing", state="visible")
            assert "not found" in (await page.text_content("#room-missing-title") or "").lower()
            assert await page.is_hidden("#room-grid")
            shots += await _shots(page, "room-not-found")

            # The site settings, as the first root user meets them: grouped, labelled, read-only values as text.
            root_password = (server.data_dir / "data" / "first-root-password").read_text().strip().split()[-1]
            await page.click("#logout-button")
            await bs.open_app(page, server.base, "#/login")
            await _login(page, "root", root_password)
            await bs.open_app(page, server.base, "#/admin")
            await page.wait_for_selector("#admin-settings-fields [data-group=room]")
            assert await page.text_content("#admin-settings-fields [data-group=room] legend") == "Rooms"
            assert await page.locator("#admin-settings-fields [data-group=rtmp]").count() == 0
            assert await page.locator("input[data-name=version]").count() == 0  # shown, not editable
            assert "Server version" in (await page.text_content("[data-testid=setting-version]") or "")
            shots += await _shots(page, "admin-settings")
        except BaseException:
            for name, p in (("carol", page), ("guest", guest)):
                print(f"--- console of {name}:\n" + "\n".join(p.console_messages[-40:]))
            print("--- server log:\n" + server.log())
            raise
    for p in shots:
        assert p.stat().st_size > 1000, p
    print("\nscreenshots: " + ", ".join(p.name for p in shots))


async def test_a_room_created_with_members_in_control_lets_a_friend_pause(server: bs.ServeProcess) -> None:
    """The server keeps upstream's default member permissions (watch and chat); the creation form's choice
    "members can control playback" is what lets a friend pause, and without it a friend can't."""
    async with bs.chromium() as browser:
        host = await bs.new_page(browser)
        friend = await bs.new_page(browser)
        try:
            await bs.open_app(host, server.base)
            await bs.signup(host, "dave")
            await bs.open_app(friend, server.base)
            await bs.signup(friend, "erin")
            rooms = {}
            for name, control in (("open room", True), ("strict room", False)):
                await bs.open_app(host, server.base, "#/rooms")
                await host.wait_for_selector("#create-room-form", state="visible")
                assert "only you" in (await host.text_content("#create-room-form") or "")
                if control:
                    await host.check("#create-room-members-control")
                rooms[name] = await bs.create_room(host, name)
            for name, control in (("open room", True), ("strict room", False)):
                await bs.open_app(friend, server.base, "#/rooms")
                await bs.join_room_by_id(friend, rooms[name])
                # the room page says so once the friend's membership is known
                await friend.wait_for_function("c => document.getElementById('control-hint').hidden === c",
                                               arg=control)
                allowed = await friend.evaluate("() => window.synctvPlayer.controller.canControl()")
                assert allowed is control, (name, allowed)
        except BaseException:
            for who, p in (("dave", host), ("erin", friend)):
                print(f"--- console of {who}:\n" + "\n".join(p.console_messages[-40:]))
            print("--- server log:\n" + server.log())
            raise


async def test_the_client_in_chinese(server: bs.ServeProcess) -> None:
    """A reader whose language is Chinese gets the whole client in Chinese: the page's own text, attributes and
    what the client writes (the room list, a room)."""
    async with bs.chromium() as browser:
        page = await bs.new_page(browser)
        try:
            await page.goto(f"{server.base}/web/?lang=zh#/login")
            await page.wait_for_selector("body[data-ready=true]", state="attached")
            assert await page.get_attribute("html", "lang") == "zh-CN"
            assert await page.text_content("#login-submit") == "登录"
            assert await page.text_content("#auth-title") == "欢迎使用 SyncTV"
            await bs.signup(page, "hanmei")
            await page.wait_for_selector("#view-rooms", state="visible")
            assert await page.text_content("#create-room-submit") == "创建房间"
            assert (await page.get_attribute("#join-room-id", "placeholder") or "").startswith("32 位房间号")
            await page.wait_for_function("() => document.getElementById('hot-room-list').textContent"
                                         ".includes('现在没有人在看')")
            await bs.create_room(page, "中文房间")
            await page.wait_for_function("() => document.getElementById('now-playing').textContent === '当前没有播放'")
            assert await page.get_attribute("#chat-input", "placeholder") == "说点什么"
        except BaseException:
            print("--- console:\n" + "\n".join(page.console_messages[-40:]) + "\n--- server log:\n" + server.log())
            raise
