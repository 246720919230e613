"""Liveness and readiness: `/live` (the process serves), `/ready` (it should get traffic), `/health` (details)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from synctv.api.context import Services, services
from synctv.api.responses import raw
from synctv.api.routing import Routes

routes = Routes("health")


async def readiness(svc: Services) -> tuple[bool, dict[str, Any]]:
    components: dict[str, Any] = {}
    db_ok = await svc.store.ping()
    components["database"] = {"ok": db_ok}
    components["draining"] = {"ok": not svc.draining}
    for name, check in svc.health_checks.items():
        try:
            ok_, detail = await check()
        except Exception as exc:  # a failing check is a not-ready answer, not a crash
            ok_, detail = False, str(exc)
        components[name] = {"ok": ok_, "detail": detail}
    return all(c["ok"] for c in components.values()), components


@routes.get("/live", "Liveness: the process is serving")
async def live(request: web.Request) -> web.Response:
    return raw({"status": "ok"})


@routes.get("/ready", "Readiness: database reachable, membership known, not draining")
async def ready(request: web.Request) -> web.Response:
    ok_, _ = await readiness(services(request))
    return raw({"status": "ready" if ok_ else "not ready"}, status=200 if ok_ else 503)


@routes.get("/health", "Health of each component")
async def health(request: web.Request) -> web.Response:
    svc = services(request)
    ok_, components = await readiness(svc)
    return raw({"status": "ok" if ok_ else "degraded", "instance": svc.instance_id, "version": svc.version,
                "components": components}, status=200 if ok_ else 503)
