"""Liveness and readiness: `/live` (the process serves), `/ready` (it should get traffic), `/health` (details).

`/ready` is this instance's own ability to serve (started, not draining, a member of the cluster that owns
what it claims); a shared dependency's outage (database, discovery) shows in `/health` as "degraded" without
making the instance unready (see `runtime/readiness.py`). The mesh's gRPC health service reports `/ready`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from synctv.api.context import services
from synctv.api.responses import raw
from synctv.api.routing import Routes
from synctv.runtime.readiness import evaluate
from synctv.services import Services

routes = Routes("health")


async def readiness(svc: Services) -> tuple[bool, dict[str, Any]]:
    return await evaluate(svc)


@routes.get("/live", "Liveness: the process is serving")
async def live(request: web.Request) -> web.Response:
    return raw({"status": "ok"})


@routes.get("/ready", "Readiness: started, not draining, a member of the cluster")
async def ready(request: web.Request) -> web.Response:
    ok_, _ = await readiness(services(request))
    return raw({"status": "ready" if ok_ else "not ready"}, status=200 if ok_ else 503)


@routes.get("/health", "Health of each component")
async def health(request: web.Request) -> web.Response:
    svc = services(request)
    ok_, components = await readiness(svc)
    healthy = all(c["ok"] for c in components.values())
    state = "not ready" if not ok_ else "ok" if healthy else "degraded"
    return raw({"status": state, "ready": ok_, "instance": svc.instance_id, "version": svc.version,
                "components": components}, status=200 if ok_ else 503)
