"""`/api/admin/vendors`: gRPC vendor backends (upstream §2.7, the VendorBackend record of §1.13). Every change
reloads the backends on every instance (the `vendor_backends` invalidation). Secrets are never returned: an
update that leaves one empty keeps the stored value."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from synctv.api.auth import require_admin
from synctv.api.context import services
from synctv.api.requests import json_object, paging
from synctv.api.responses import bad_request, no_content, not_found, ok
from synctv.api.routing import Routes
from synctv.services import Services
from synctv.vendors.backends import keep_secrets, normalize_record
from synctv.vendors.service import vendors

routes = Routes("admin")
MAX_ENDPOINTS = 100
RECONNECT_WAIT_S = 5.0


def _endpoints(body: dict[str, Any]) -> list[str]:
    value = body.get("endpoints")
    if not isinstance(value, list) or not value or len(value) > MAX_ENDPOINTS:
        raise bad_request("endpoints must be a non-empty list")
    if not all(isinstance(e, str) and 0 < len(e) <= 255 for e in value):
        raise bad_request("endpoints must be strings")
    return list(dict.fromkeys(value))


async def _changed(svc: Services) -> None:
    await svc.invalidate("vendor_backends")
    await vendors(svc).backends.reload()  # also when this instance had not loaded them yet


@routes.get("/api/admin/vendors", "Vendor backends with their connection state", auth="admin",
            query=("page", "max"))
async def list_backends(request: web.Request) -> web.Response:
    await require_admin(request)
    svc = services(request)
    backends = vendors(svc).backends
    await backends.ensure_loaded()
    rows = await svc.store.vendor_backends.all()
    page, size = paging(request)
    chosen = rows[(page - 1) * size:page * size]
    return ok({"total": len(rows), "list": [backends.view(r) for r in chosen]})


@routes.post("/api/admin/vendors/add", "Add a vendor backend", auth="admin",
             body={"usedBy": "object", "backend": "object"})
async def add_backend(request: web.Request) -> web.Response:
    await require_admin(request)
    svc = services(request)
    backends = vendors(svc).backends
    record = normalize_record(await json_object(request))
    await backends.check_names(record)
    info, sealed = backends.seal(record)
    if not await svc.store.vendor_backends.add(record["backend"]["endpoint"], info, sealed,
                                               record["usedBy"]["enabled"]):
        raise bad_request(f"a vendor backend with endpoint {record['backend']['endpoint']} already exists")
    await _changed(svc)
    return no_content()


@routes.post("/api/admin/vendors/update", "Update a vendor backend", auth="admin",
             body={"usedBy": "object", "backend": "object"})
async def update_backend(request: web.Request) -> web.Response:
    await require_admin(request)
    svc = services(request)
    backends = vendors(svc).backends
    record = normalize_record(await json_object(request))
    row = await svc.store.vendor_backends.get(record["backend"]["endpoint"])
    if row is None:
        raise not_found("vendor backend not found")
    record = keep_secrets(record, backends.open(row))
    await backends.check_names(record)
    info, sealed = backends.seal(record)
    await svc.store.vendor_backends.update(record["backend"]["endpoint"], info, sealed,
                                           record["usedBy"]["enabled"])
    await _changed(svc)
    return no_content()


async def _existing(svc: Services, endpoints: list[str]) -> None:
    known = {r.endpoint for r in await svc.store.vendor_backends.all()}
    missing = [e for e in endpoints if e not in known]
    if missing:
        raise not_found(f"vendor backend not found: {missing[0][:64]}")


@routes.post("/api/admin/vendors/delete", "Delete vendor backends", auth="admin", body={"endpoints": "array"})
async def delete_backends(request: web.Request) -> web.Response:
    await require_admin(request)
    svc = services(request)
    endpoints = _endpoints(await json_object(request))
    await _existing(svc, endpoints)
    await svc.store.vendor_backends.delete(endpoints)
    await _changed(svc)
    return no_content()


@routes.post("/api/admin/vendors/enable", "Enable vendor backends", auth="admin", body={"endpoints": "array"})
async def enable_backends(request: web.Request) -> web.Response:
    await require_admin(request)
    svc = services(request)
    endpoints = _endpoints(await json_object(request))
    await _existing(svc, endpoints)
    backends = vendors(svc).backends
    for endpoint in endpoints:  # names must stay unique among enabled backends
        row = await svc.store.vendor_backends.get(endpoint)
        assert row is not None
        record = backends.open(row)
        record["usedBy"]["enabled"] = True
        await backends.check_names(record)
    await svc.store.vendor_backends.set_enabled(endpoints, True)
    await _changed(svc)
    return no_content()


@routes.post("/api/admin/vendors/disable", "Disable vendor backends", auth="admin", body={"endpoints": "array"})
async def disable_backends(request: web.Request) -> web.Response:
    await require_admin(request)
    svc = services(request)
    endpoints = _endpoints(await json_object(request))
    await _existing(svc, endpoints)
    await svc.store.vendor_backends.set_enabled(endpoints, False)
    await _changed(svc)
    return no_content()


@routes.post("/api/admin/vendors/reconnect", "Reconnect vendor backends (waits up to 5 s for one)", auth="admin",
             body={"endpoints": "array"})
async def reconnect_backends(request: web.Request) -> web.Response:
    await require_admin(request)
    svc = services(request)
    endpoints = _endpoints(await json_object(request))
    await _existing(svc, endpoints)
    backends = vendors(svc).backends
    await backends.ensure_loaded()
    await backends.reconnect(endpoints, RECONNECT_WAIT_S)
    return no_content()
