"""`/api/admin/cluster`: the members of the cluster, their health and the rooms each owns (admins)."""

from __future__ import annotations

from aiohttp import web

from synctv.api.auth import require_admin
from synctv.api.context import services
from synctv.api.requests import query_id
from synctv.api.responses import ok
from synctv.api.routing import Routes

routes = Routes("cluster")


@routes.get("/api/admin/cluster", "Cluster members, health and owned rooms", auth="admin")
async def cluster(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    members = await svc.router.describe()
    return ok({"instanceId": svc.instance_id, "clustered": svc.cfg.cluster.enabled, "members": members})


@routes.get("/api/admin/cluster/owner", "The instance that owns a room", auth="admin", query=("id",))
async def owner(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    room_id = query_id(request, "id")
    return ok({"roomId": room_id, "owner": svc.router.owner(room_id)})
