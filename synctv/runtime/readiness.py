"""Readiness: one evaluation shared by `/ready`, `/health` and the gRPC health service of the mesh.

`/ready` answers "should this instance get traffic?", about this instance only: it has started, is not
draining, and owns what it claims (it is not the side left out of the cluster's membership). Shared
dependencies -- the database, discovery -- are reported by `/health` and the metrics but never turn an
instance unready: they are shared, so their outage would turn every instance unready at once (a blip becomes a
full outage, and Consul's check would evict every instance). During such an outage writes answer 503 and room
commands an ERROR, and rooms stay where they are.

`ReadinessLoop` re-evaluates every second and reports changes (the cluster wiring turns them into the mesh's
SERVING / NOT_SERVING, so load balancers and peers see the same answer as `/ready`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from synctv.services import HealthCheck, Services

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


async def _run(check: HealthCheck) -> tuple[bool, str]:
    try:
        ok_, detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return False, f"no answer within {CHECK_TIMEOUT_S:g}s"
    except Exception as exc:  # a failing check is a failing component, not a crash
        return False, str(exc) or type(exc).__name__
    return bool(ok_), detail


async def evaluate(svc: Services) -> tuple[bool, dict[str, Any]]:
    """(ready, components): each component as {"ok": bool, "detail": str, "gates_ready": bool}; only the
    components that gate readiness (this instance's own state) decide `ready`."""
    components: dict[str, Any] = {}
    db_ok, db_detail = await _database(svc)
    components["database"] = {"ok": db_ok, "detail": db_detail, "gates_ready": False}
    for name, check in list(svc.health_checks.items()):
        ok_, detail = await _run(check)
        components[name] = {"ok": ok_, "detail": detail, "gates_ready": False}
    for name, check in list(svc.readiness_checks.items()):
        ok_, detail = await _run(check)
        components[name] = {"ok": ok_, "detail": detail, "gates_ready": True}
    # Read last: a drain that began while the checks ran still wins.
    components["draining"] = {"ok": not svc.draining, "detail": "draining" if svc.draining else "serving",
                              "gates_ready": True}
    svc.health = components
    return all(c["ok"] for c in components.values() if c["gates_ready"]), components


class ReadinessLoop:
    """Evaluates readiness every `interval` seconds; calls `on_change(ready)` at start and on every change."""

    def __init__(self, svc: Services, on_change: Callable[[bool], None] | None = None,
                 interval: float = 1.0) -> None:
        self.svc = svc
        self.on_change = on_change
        self.interval = interval
        self.ready: bool | None = None
        self.components: dict[str, Any] = {}
        self._degraded: frozenset[str] = frozenset()
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
        degraded = frozenset(n for n, c in components.items() if not c["ok"] and not c["gates_ready"])
        if degraded != self._degraded:
            if degraded - self._degraded:
                log.warning("degraded: shared dependency unavailable (still ready)",
                            extra={"failing": ",".join(sorted(degraded))})
            if self._degraded - degraded:
                log.info("dependency back", extra={"back": ",".join(sorted(self._degraded - degraded))})
            self._degraded = degraded
        if ready != self.ready:
            previous, self.ready = self.ready, ready
            failing = sorted(n for n, c in components.items() if not c["ok"] and c["gates_ready"])
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
