"""Readiness: one evaluation shared by `/ready`, `/health` and the gRPC health service of the mesh.

An instance is ready when it is not draining, its database answers, and every extra check (discovery, ...)
passes. `ReadinessLoop` re-evaluates every second and reports changes (the cluster wiring turns them into the
mesh's SERVING / NOT_SERVING, so load balancers and peers see the same answer as `/ready`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from synctv.services import Services

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0


async def _database(svc: Services) -> tuple[bool, str]:
    try:
        ok_ = await asyncio.wait_for(svc.store.ping(), CHECK_TIMEOUT_S)
    except TimeoutError:
        # Under a load spike the connection pool can be busy for longer than the check; statements that
        # keep succeeding show the database is there.
        if svc.store.recently_reachable(CHECK_TIMEOUT_S):
            return True, "reachable (busy)"
        return False, f"no answer within {CHECK_TIMEOUT_S:g}s"
    return ok_, "reachable" if ok_ else "unreachable"


async def evaluate(svc: Services) -> tuple[bool, dict[str, Any]]:
    """(ready, components): each component as {"ok": bool, "detail": str}."""
    components: dict[str, Any] = {}
    db_ok, db_detail = await _database(svc)
    components["database"] = {"ok": db_ok, "detail": db_detail}
    for name, check in list(svc.health_checks.items()):
        try:
            ok_, detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except TimeoutError:
            ok_, detail = False, f"no answer within {CHECK_TIMEOUT_S:g}s"
        except Exception as exc:  # a failing check is a not-ready answer, not a crash
            ok_, detail = False, str(exc) or type(exc).__name__
        components[name] = {"ok": bool(ok_), "detail": detail}
    # Read last: a drain that began while the checks ran still wins.
    components["draining"] = {"ok": not svc.draining, "detail": "draining" if svc.draining else "serving"}
    return all(c["ok"] for c in components.values()), components


class ReadinessLoop:
    """Evaluates readiness every `interval` seconds; calls `on_change(ready)` at start and on every change."""

    def __init__(self, svc: Services, on_change: Callable[[bool], None] | None = None,
                 interval: float = 1.0) -> None:
        self.svc = svc
        self.on_change = on_change
        self.interval = interval
        self.ready: bool | None = None
        self.components: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="readiness")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def check(self) -> bool:
        ready, components = await evaluate(self.svc)
        ready = ready and not self.svc.draining
        self.components = components
        if ready != self.ready:
            previous, self.ready = self.ready, ready
            failing = sorted(name for name, c in components.items() if not c["ok"])
            if not ready:
                log.warning("not ready", extra={"failing": ",".join(failing)})
            elif previous is not None:
                log.info("ready again")
            if self.on_change is not None:
                try:
                    self.on_change(ready)
                except Exception:
                    log.exception("readiness change handler failed")
        return ready

    async def _run(self) -> None:
        while not self.svc.draining:
            try:
                await self.check()
            except Exception:  # keep evaluating: a bug in one check must not freeze the answer
                log.exception("readiness evaluation failed")
            await asyncio.sleep(self.interval)
        # Draining: report not-ready once and stop (the runtime is going away).
        if self.ready is not False:
            self.ready = False
            if self.on_change is not None:
                with contextlib.suppress(Exception):
                    self.on_change(False)
