"""`/api/admin/debug`: a CPU profile of the live instance and a dump of its asyncio tasks (admins only).

Off unless `profiling.enabled` is set; then the routes answer 404 as if they did not exist. The profile runs
while the event loop keeps serving: the profiler records everything the loop thread does for N seconds.
"""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import io
import linecache
import pstats
import sys
from types import FrameType
from typing import Any

from aiohttp import web

from synctv.api.auth import require_admin
from synctv.api.context import services
from synctv.api.responses import ApiError, bad_request, not_found, ok
from synctv.api.routing import Routes

routes = Routes("debug")

MAX_PROFILE_S = 60
_STATS_LINES = 200
_running: set[str] = set()  # one profile at a time per process (the profiler hooks the whole thread)


async def _require_debug(request: web.Request) -> None:
    if not services(request).cfg.profiling.enabled:
        raise not_found("not found")
    await require_admin(request)


def _seconds(request: web.Request) -> int:
    raw = request.query.get("seconds", "10").strip()
    try:
        seconds = int(raw)
    except ValueError:
        raise bad_request("seconds must be an integer from 1 to 60") from None
    if not 1 <= seconds <= MAX_PROFILE_S:
        raise bad_request("seconds must be an integer from 1 to 60")
    return seconds


def _pyinstrument() -> Any | None:
    if "pyinstrument" in sys.modules:
        return sys.modules["pyinstrument"]
    try:
        return importlib.import_module("pyinstrument")
    except ImportError:
        return None


async def _profile_cprofile(seconds: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        await asyncio.sleep(seconds)
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(_STATS_LINES)
    return f"# cProfile of the event loop thread for {seconds}s, sorted by cumulative time\n" + out.getvalue()


async def _profile_pyinstrument(module: Any, seconds: int) -> str:
    profiler = module.Profiler(async_mode="disabled")  # the whole loop thread, not only this task
    profiler.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        profiler.stop()
    return str(profiler.output_text(unicode=True, color=False))


@routes.post("/api/admin/debug/profile", "CPU profile of this instance for N seconds (text; profiling.enabled)",
             auth="admin", query=("seconds", "engine"), status=200)
async def profile(request: web.Request) -> web.Response:
    await _require_debug(request)
    seconds = _seconds(request)
    engine = request.query.get("engine", "").strip().lower()
    if engine not in ("", "cprofile", "pyinstrument"):
        raise bad_request("engine must be cprofile or pyinstrument")
    module = _pyinstrument() if engine != "cprofile" else None
    if engine == "pyinstrument" and module is None:
        raise bad_request("pyinstrument is not installed")
    if _running:
        raise ApiError(409, "a profile is already running")
    _running.add("profile")
    try:
        text = await (_profile_pyinstrument(module, seconds) if module is not None
                      else _profile_cprofile(seconds))
    finally:
        _running.discard("profile")
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


def _frame_info(frame: FrameType) -> dict[str, Any]:
    code = frame.f_code
    line = frame.f_lineno or 0
    return {"file": code.co_filename, "line": line, "function": getattr(code, "co_qualname", code.co_name),
            "code": linecache.getline(code.co_filename, line).strip()}


def _await_chain(coro: Any) -> list[dict[str, Any]]:
    """The frames of a suspended coroutine, outermost first, following what each one awaits."""
    frames: list[dict[str, Any]] = []
    seen: set[int] = set()
    obj = coro
    while obj is not None and id(obj) not in seen and len(frames) < 64:
        seen.add(id(obj))
        frame = (getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
                 or getattr(obj, "ag_frame", None))
        if isinstance(frame, FrameType):
            frames.append(_frame_info(frame))
        obj = (getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None)
               or getattr(obj, "ag_await", None))
    return frames


def _running_stack(coro: Any) -> list[dict[str, Any]]:
    """The frames of the running task: from its coroutine down to this function."""
    top = getattr(coro, "cr_frame", None)
    frames: list[FrameType] = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and len(frames) < 64:
        frames.append(frame)
        if frame is top:
            break
        frame = frame.f_back
    return [_frame_info(f) for f in reversed(frames)]


def _coro_name(coro: Any) -> str:
    return str(getattr(coro, "__qualname__", None) or getattr(coro, "__name__", None) or type(coro).__name__)


def task_dump() -> list[dict[str, Any]]:
    current = asyncio.current_task()
    out: list[dict[str, Any]] = []
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        if task is current:
            stack = _running_stack(coro)
        else:
            stack = _await_chain(coro)
        out.append({"name": task.get_name(), "coro": _coro_name(coro), "current": task is current,
                    "done": task.done(), "cancelling": task.cancelling() > 0, "stack": stack})
    out.sort(key=lambda t: (not t["current"], t["coro"], t["name"]))
    return out


@routes.get("/api/admin/debug/tasks", "Stacks of all asyncio tasks of this instance (profiling.enabled)",
            auth="admin")
async def tasks(request: web.Request) -> web.Response:
    await _require_debug(request)
    dump = task_dump()
    return ok({"instance": services(request).instance_id, "count": len(dump), "tasks": dump})
