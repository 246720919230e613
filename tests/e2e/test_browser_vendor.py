"""The built-in web client with vendor libraries in a real Chromium: bind an Alist server from the account page,
browse it in a room, add a file and play it with its subtitle track (files served by the Alist emulation's file
host, on loopback); add a folder as a dynamic folder and open its subfolders in the playlist (deeper, back up);
the same with an Emby library (the Emby emulation), and binding/unbinding it from the account page."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest

from tests.support import browser_support as bs
from tests.support.alist_emulator import AlistEmulator
from tests.support.emby_emulator import EmbyEmulator
from tests.support.media_origin import MediaFiles

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(180)]
SRT = "1\n00:00:00,000 --> 00:00:03,000\nhello from alist\n"


async def _open_local_targets(server: bs.ServeProcess) -> None:
    """As the first root (its password is in the data dir): let the server reach the loopback Alist."""
    password = (server.data_dir / "data" / "first-root-password").read_text().strip().split()[-1]
    async with aiohttp.ClientSession() as session:
        for _ in range(50):  # the first root is created while the server starts
            async with session.post(server.base + "/api/user/login",
                                    json={"username": "root", "password": password}) as resp:
                body = await resp.json()
            if resp.status == 200:
                break
            await asyncio.sleep(0.2)
        assert resp.status == 200, body
        token = body["data"]["token"]
        async with session.post(server.base + "/api/admin/settings", headers={"Authorization": token},
                                json={"allow_proxy_to_local": True}) as resp:
            assert resp.status == 204, await resp.text()


async def test_bind_browse_add_and_play_with_subtitles(tmp_path: Path, media_files: MediaFiles) -> None:
    bs.require_browser_tools()
    library = tmp_path / "alist" / "films"
    library.mkdir(parents=True)
    shutil.copy(media_files.root / media_files.mp4, library / "clip.mp4")
    (library / "clip.srt").write_text(SRT)
    season = tmp_path / "alist" / "shows" / "season1"
    season.mkdir(parents=True)
    shutil.copy(media_files.root / media_files.mp4, season / "episode.mp4")
    alist = await AlistEmulator(tmp_path / "alist", {"admin": "alist-pass"}).start()
    emby = await EmbyEmulator(library / "clip.mp4", {"viewer": "emby-pass"}).start()
    server = bs.ServeProcess()
    server.start()
    try:
        await server.wait_ready()
        await _open_local_targets(server)
        async with bs.chromium() as browser:
            page = await bs.new_page(browser)
            try:
                await bs.open_app(page, server.base)
                await bs.signup(page, "alice")
                # the account page binds library servers outside any room
                await page.click("[data-testid=nav-account]")
                await page.wait_for_selector("[data-testid=account-libraries]", state="visible")
                await page.wait_for_selector("[data-testid=account-alist-binds] li.empty")
                await page.fill("#account-alist-host", alist.base)
                await page.fill("#account-alist-username", "admin")
                await page.fill("#account-alist-password", "wrong")
                await page.click("[data-testid=account-alist-bind]")
                await page.wait_for_function(
                    "() => document.getElementById('libraries-error').textContent.includes('login failed')")
                await page.fill("#account-alist-password", "alist-pass")
                await page.click("[data-testid=account-alist-bind]")
                await page.wait_for_selector(f"[data-testid=account-alist-bound][data-host='{alist.base}']")
                # an Emby server bound and unbound again from the same page (the room binds it later)
                await page.fill("#account-emby-host", emby.base)
                await page.fill("#account-emby-username", "viewer")
                await page.fill("#account-emby-password", "emby-pass")
                await page.click("[data-testid=account-emby-bind]")
                await page.click(f"[data-testid=account-emby-bound][data-host='{emby.base}'] "
                                 "[data-testid=account-emby-unbind]")
                await page.wait_for_selector("[data-testid=account-emby-binds] li.empty")
                await page.click("[data-testid=nav-rooms]")
                await bs.create_room(page, "alist night")
                # bound already: the room's panel browses at once, no bind form
                await page.wait_for_selector("#alist-browser", state="visible")
                assert await page.is_hidden("#alist-bind-form")
                # a whole folder as a dynamic folder, browsed in the playlist: into a subfolder and back
                await page.click("[data-testid=alist-item][data-name=shows] [data-testid=alist-add-folder]")
                shows = page.locator("[data-testid=playlist-item]", has=page.get_by_text("shows", exact=True))
                await shows.locator("[data-testid=movie-open]").click()
                season1 = page.locator("[data-testid=playlist-item]", has=page.get_by_text("season1", exact=True))
                await season1.locator("[data-testid=movie-open]").click()
                await page.wait_for_selector("[data-testid=playlist-item]:has-text('episode.mp4')")
                await page.click("[data-testid=playlist-up]")
                await season1.wait_for()
                await season1.locator("[data-testid=movie-open]").click()
                await bs.play_movie(page, "episode.mp4")
                await page.wait_for_function(
                    "() => window.synctvPlayer.video.currentSrc.includes('/p/shows/season1/episode.mp4?sign=')")
                await page.click("[data-testid=playlist-up]")
                await page.click("[data-testid=playlist-up]")
                await page.wait_for_selector("[data-testid=playlist-item]:has-text('shows')")
                await page.click("[data-testid=alist-item][data-name=films] [data-testid=alist-open]")
                await page.click("[data-testid=alist-item][data-name='clip.mp4'] [data-testid=alist-add]")
                await page.wait_for_selector("[data-testid=playlist-item]:has-text('clip.mp4')")
                await bs.play_movie(page, "clip.mp4")
                await page.wait_for_function(
                    "() => window.synctvPlayer.video.currentSrc.includes('/p/films/clip.mp4?sign=')")
                await bs.wait_movie_loaded(page)
                src = await page.evaluate("() => window.synctvPlayer.video.currentSrc")
                assert src.startswith(f"{alist.base}/p/films/clip.mp4?sign=")
                await page.wait_for_function(
                    "() => { const t = window.synctvPlayer.video.textTracks[0];"
                    " return t && t.label === 'clip.srt' && t.cues && t.cues.length === 1; }")
                cue = await page.evaluate("() => window.synctvPlayer.video.textTracks[0].cues[0].text")
                assert cue == "hello from alist"
                # the Emby panel: bind, open a library, add a film, play it
                await page.fill("#emby-host", emby.base)
                await page.fill("#emby-username", "viewer")
                await page.fill("#emby-password", "emby-pass")
                await page.click("[data-testid=emby-bind]")
                await page.click("[data-testid=emby-item][data-name=Movies] [data-testid=emby-open]")
                await page.click("[data-testid=emby-item][data-name=Clip] [data-testid=emby-add]")
                clip = page.locator("[data-testid=playlist-item]", has=page.get_by_text("Clip", exact=True))
                await clip.wait_for()
                await clip.locator("[data-testid=movie-play]").click()
                await page.wait_for_function(
                    "() => window.synctvPlayer.video.currentSrc.includes('/stream.mp4?')"
                    " && window.synctvPlayer.video.readyState >= 2")
            except BaseException:
                print("--- console:\n" + "\n".join(page.console_messages[-40:]))
                print(f"--- server:\n{server.log()}")
                raise
    finally:
        server.stop()
        await alist.stop()
        await emby.stop()
    assert "/films/clip.mp4" in alist.downloads and "/films/clip.srt" in alist.downloads
