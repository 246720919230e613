"""Helpers for the real-browser tests: Debian's chromium driven by playwright, a locally generated test clip
served from loopback, a single `synctv serve` process, and position sampling of `<video>` elements."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from tests.support.etcd_server import free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def require_browser_tools() -> None:
    """Skip (or fail when SYNCTV_REQUIRE_BROWSER=1) without chromium, ffmpeg, playwright or the web deps."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if ffmpeg_path() is None:
        missing.append("ffmpeg (apt-get install ffmpeg)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (pip install -e '.[test]')")
    if not missing:
        return
    reason = "browser tests need " + ", ".join(missing)
    if os.environ.get("SYNCTV_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (SYNCTV_REQUIRE_BROWSER=1 is set)")
    pytest.skip(reason)


# --------------------------------------------------------------------------- test clip


def make_clip(path: Path, seconds: int = 30) -> Path:
    """A 320x180 H.264 MP4 with a visible running clock and frame counter, a keyframe every 0.5 s."""
    ffmpeg = ffmpeg_path()
    assert ffmpeg is not None
    src = f"testsrc2=size=320x180:rate=30:duration={seconds}"
    clock = ("drawtext=text='%{pts\\:hms}  frame %{n}':x=(w-tw)/2:y=(h-th)/2:fontsize=22:fontcolor=white"
             ":box=1:boxcolor=black@0.6:boxborderw=4")
    encode = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "15", "-keyint_min", "15",
              "-sc_threshold", "0", "-movflags", "+faststart"]
    base = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src]
    run = subprocess.run([*base, "-vf", clock, *encode, str(path)], capture_output=True, timeout=60)
    if run.returncode != 0:
        # without a usable font, testsrc2 alone still shows motion; the clock is then only in the player
        run = subprocess.run([*base, *encode, str(path)], capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    return path


class ClipServer:
    """Static files from one directory on 127.0.0.1 (Range requests included), in its own thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    async def _serve(self) -> None:
        async def handle(request: web.Request) -> web.StreamResponse:
            path = (self.directory / request.match_info["name"]).resolve()
            if path.parent != self.directory.resolve() or not path.is_file():
                raise web.HTTPNotFound()
            return web.FileResponse(path, headers={"Access-Control-Allow-Origin": "*"})

        app = web.Application()
        app.router.add_get("/{name}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._stop = asyncio.Event()
        self._started.set()
        await self._stop.wait()
        await runner.cleanup()

    def start(self) -> None:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="clip-server", daemon=True)
        self._thread.start()
        assert self._started.wait(10), "clip server did not start"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)


# --------------------------------------------------------------------------- single server process


@dataclass
class ServeProcess:
    """`synctv serve` with SQLite in a fresh data directory, as a newcomer runs it."""

    port: int = field(default_factory=free_port)
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="synctv-serve-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCTV_")}
        env["SYNCTV_LOG_LEVEL"] = "info"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "synctv", "serve", "--data-dir", str(self.data_dir / "data"),
                 "--listen", "127.0.0.1", "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT)

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"synctv serve exited: {self.log()}")
                try:
                    async with session.get(self.base + "/health") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"synctv serve not ready: {self.log()}")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


# --------------------------------------------------------------------------- browser


async def _only_loopback(route: Any) -> None:
    host = urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK_HOSTS:
        await route.continue_()
    else:
        await route.abort()


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's chromium through playwright (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                           timeout=30000)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Any, viewport: dict[str, int] = DESKTOP) -> Any:
    """A page in a fresh context (its own storage and session) that can only reach loopback."""
    context = await browser.new_context(viewport=viewport)
    context.set_default_timeout(15000)
    await context.route("**/*", _only_loopback)
    page = await context.new_page()
    page.console_messages = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console_messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_messages.append(f"pageerror: {e}"))
    return page


async def open_app(page: Any, base: str, hash_route: str = "") -> None:
    await page.goto(f"{base}/web/{hash_route}")
    await page.wait_for_selector("body[data-ready=true]", state="attached")


async def signup(page: Any, username: str, password: str = "password1") -> None:
    await page.wait_for_selector("#signup-form", state="visible")
    await page.fill("#signup-username", username)
    await page.fill("#signup-password", password)
    await page.click("#signup-submit")
    await page.wait_for_selector("#view-rooms", state="visible")
    await page.wait_for_function("u => document.getElementById('current-user').textContent === u", arg=username)


async def create_room(page: Any, name: str) -> str:
    await page.fill("#create-room-name", name)
    await page.click("#create-room-submit")
    await page.wait_for_function("() => /^#\\/room\\/[0-9a-f]{32}$/.test(location.hash)")
    await wait_connected(page)
    return str(await page.evaluate("() => location.hash.split('/')[2]"))


async def join_room_by_id(page: Any, room_id: str) -> None:
    await page.fill("#join-room-id", room_id)
    await page.click("#join-room-submit")
    await wait_connected(page)


async def wait_connected(page: Any) -> None:
    await page.wait_for_selector("#view-room", state="visible")
    await page.wait_for_function("() => document.getElementById('ws-status').dataset.state === 'open'")


async def add_movie(page: Any, url: str, name: str) -> None:
    await page.fill("#movie-url", url)
    await page.fill("#movie-name", name)
    await page.click("#movie-add")
    await page.wait_for_selector(f"[data-testid=playlist-item]:has-text('{name}')")


async def play_movie(page: Any, name: str) -> None:
    await page.click(f"[data-testid=playlist-item]:has-text('{name}') [data-testid=movie-play]")


async def wait_movie_loaded(page: Any, timeout_ms: int = 15000) -> None:
    """The current movie is in the element, with metadata, and the sync engine follows it."""
    await page.wait_for_function(
        "() => { const p = window.synctvPlayer; return p && p.controller.active && p.state"
        " && p.video.readyState >= 2 && p.video.duration > 0; }",
        timeout=timeout_ms)


async def send_chat(page: Any, text: str) -> None:
    await page.fill("#chat-input", text)
    await page.press("#chat-input", "Enter")


async def wait_chat(page: Any, text: str) -> None:
    await page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=chat-message]')].some(li => li.textContent.includes(t))",
        arg=text)


async def grant_permission(page: Any, username: str, bit: int) -> None:
    """As a room creator: tick a member permission in the room administration panel and save it."""
    if not await page.evaluate("() => document.getElementById('room-admin').open"):
        await page.click("#room-admin > summary")
    row = page.locator("[data-testid=member-row]", has_text=username)
    await row.locator(f"input[data-bit='{bit}']").check()
    await row.locator("[data-testid=member-save-permissions]").click()
    await page.wait_for_function("() => /Permissions of/.test(document.getElementById('toast').textContent)")
    await page.click("#room-admin > summary")


# --------------------------------------------------------------------------- position sampling

_READ = """() => {
  const p = window.synctvPlayer, v = p.video;
  return {t: v.currentTime, now: performance.timeOrigin + performance.now(), rate: v.playbackRate,
          paused: v.paused, seeking: v.seeking, ready: v.readyState,
          correcting: Boolean(p.controller && p.controller.correcting)};
}"""


async def read_position(page: Any) -> dict[str, Any]:
    return dict(await page.evaluate(_READ))


def position_at(reading: dict[str, Any], at_ms: float) -> float:
    """The reading's position extrapolated to wall-clock time `at_ms` (both pages share the machine's clock)."""
    t = float(reading["t"])
    if not reading["paused"] and not reading["seeking"]:
        t += (at_ms - float(reading["now"])) / 1000.0 * float(reading["rate"])
    return t


async def sample_diff(a: Any, b: Any, samples: int = 5, interval: float = 0.12) -> dict[str, Any]:
    """Read both players at (nearly) the same instant several times; differences in ms, skew-corrected."""
    diffs: list[float] = []
    skews: list[float] = []
    last: tuple[dict[str, Any], dict[str, Any]] | None = None
    for i in range(samples):
        if i:
            await asyncio.sleep(interval)
        ra, rb = await asyncio.gather(read_position(a), read_position(b))
        at = max(float(ra["now"]), float(rb["now"]))
        diffs.append((position_at(ra, at) - position_at(rb, at)) * 1000.0)
        skews.append(abs(float(ra["now"]) - float(rb["now"])))
        last = (ra, rb)
    assert last is not None
    abs_diffs = [abs(d) for d in diffs]
    return {"median": statistics.median(abs_diffs), "worst": max(abs_diffs), "diffs": diffs,
            "skew": max(skews), "a": last[0], "b": last[1]}


def _settled(reading: dict[str, Any]) -> bool:
    """Not seeking, able to play, and not in the middle of a rate nudge (the controller's own notion of done)."""
    return not reading["seeking"] and int(reading["ready"]) >= 2 and not reading["correcting"]


async def settle_and_sample(a: Any, b: Any, settle: float = 2.0, max_wait: float = 6.0) -> dict[str, Any]:
    """Wait for an action to settle (at least `settle` s; longer while a player is still seeking or nudging its
    rate, up to `max_wait` s: a player that never converges is then measured as it is), then sample."""
    await asyncio.sleep(settle)
    deadline = time.monotonic() + max(0.0, max_wait - settle)
    while time.monotonic() < deadline:
        ra, rb = await asyncio.gather(read_position(a), read_position(b))
        if _settled(ra) and _settled(rb):
            break
        await asyncio.sleep(0.1)
    return await sample_diff(a, b)


async def screenshot(page: Any, name: str, viewport: dict[str, int], full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.set_viewport_size(viewport)
    await page.evaluate("() => window.scrollTo(0, 0)")
    await asyncio.sleep(0.3)  # layout after the resize
    path = SCREENSHOTS / name
    await page.screenshot(path=str(path), full_page=full_page)
    return path
