"""The built-in client under its Content-Security-Policy in a real browser: an MP4 from another origin and an
HLS stream played through hls.js (its blob: worker, MSE's blob: media source, playlist and segment fetches from
another origin) play without a single policy violation."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import browser_support as bs

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
// Chromium plays HLS natively; hide that so the player takes the hls.js path (MSE, blob: worker).
const canPlayType = HTMLMediaElement.prototype.canPlayType;
HTMLMediaElement.prototype.canPlayType = function (type) {
  return /mpegurl/i.test(type) ? '' : canPlayType.call(this, type);
};
"""


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.ClipServer]:
    bs.require_browser_tools()
    directory = tmp_path_factory.mktemp("csp-media")
    clip = bs.make_clip(directory / "clip.mp4", 12)
    ffmpeg = bs.ffmpeg_path()
    assert ffmpeg is not None
    run = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), "-c", "copy",
                          "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                          str(directory / "clip.m3u8")], capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    server = bs.ClipServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _plays(page: Any) -> None:
    await bs.wait_movie_loaded(page)
    await page.click("#room-name")
    await page.evaluate("() => window.synctvPlayer.video.play()")
    await page.wait_for_function("() => window.synctvPlayer.video.currentTime > 1", timeout=15000)


async def test_players_work_under_the_policy(media: bs.ClipServer) -> None:
    server = bs.ServeProcess()
    server.start()
    try:
        await server.wait_ready()
        async with bs.chromium() as browser:
            page = await bs.new_page(browser)
            await page.add_init_script(VIOLATIONS)
            try:
                await bs.open_app(page, server.base)
                await bs.signup(page, "cspviewer")
                await bs.create_room(page, "csp room")
                await bs.add_movie(page, media.url("clip.mp4"), "mp4 clip")
                await bs.play_movie(page, "mp4 clip")
                await _plays(page)
                await bs.add_movie(page, media.url("clip.m3u8"), "hls clip")
                await bs.play_movie(page, "hls clip")
                await page.wait_for_function(
                    "() => document.getElementById('now-playing').textContent.includes('hls clip')")
                await _plays(page)
                assert await page.evaluate("() => typeof window.Hls === 'function'"), "hls.js did not load"
                assert (await page.evaluate("() => window.synctvPlayer.video.src")).startswith("blob:")
                # the listener works: a blocked inline script is reported
                await page.evaluate("() => { const s = document.createElement('script');"
                                    " s.textContent = 'window.inlineRan = true'; document.body.append(s); }")
                await page.wait_for_function("() => window.cspViolations.length > 0")
                assert await page.evaluate("() => window.inlineRan") is None
                violations = await page.evaluate("() => window.cspViolations")
                assert len(violations) == 1 and violations[0].startswith("script-src"), violations
                refused = [m for m in page.console_messages if "Content Security Policy" in m]
                assert len(refused) <= 1, refused  # only the inline script above
            except BaseException:
                print("--- console:\n" + "\n".join(page.console_messages[-40:]) + "\n--- server log:\n" + server.log())
                raise
    finally:
        server.stop()
