"""gRPC vendor backends: upstream's VendorBackend record (validated, secrets sealed at rest), and the live pools
built from the enabled ones. A backend is a direct endpoint, or a service name in an etcd or a Consul, resolved
again every second (so a vendor server that registers or leaves is used or dropped within a second), with its
endpoints probed (an endpoint refusing our JWT shows as unhealthy and gets no traffic)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from synctv.config import ConfigError, parse_duration
from synctv.discovery.lookup import ConsulLookup, EtcdLookup, ServiceLookup
from synctv.store.ids import to_ms
from synctv.store.models import VendorBackendRow
from synctv.vendors.errors import VendorError
from synctv.vendors.remote.client import alist_probe
from synctv.vendors.remote.pool import BackendPool, probe
from synctv.vendors.secrets import SecretBox, SecretsError

log = logging.getLogger(__name__)
VENDORS = ("bilibili", "alist", "emby")
SECRET_FIELDS = (("jwtSecret",), ("customCa",), ("consul", "token"), ("etcd", "password"))
REFRESH_S = 1.0
DEFAULT_WEIGHT = 100


def _str(data: dict[str, Any], key: str, limit: int = 255) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise VendorError(f"{key} must be a string", 400)
    if len(value) > limit:
        raise VendorError(f"{key} is too long", 400)
    return value


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise VendorError(f"{key} must be a boolean", 400)
    return value


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise VendorError(f"{key} must be an object", 400)
    return value


def normalize_record(body: Any) -> dict[str, Any]:
    """A VendorBackend record in its canonical form (upstream's JSON keys), or a 400."""
    if not isinstance(body, dict):
        raise VendorError("the vendor backend must be an object", 400)
    used, backend = _obj(body, "usedBy"), _obj(body, "backend")
    endpoint = _str(backend, "endpoint").strip()
    tls = _bool(backend, "tls")
    if not endpoint:
        raise VendorError("backend.endpoint is required", 400)
    host, colon, port = endpoint.rpartition(":")
    if not colon or not port.isdigit():
        endpoint, host = f"{endpoint}:{443 if tls else 80}", endpoint
    elif not 0 < int(port) < 65536:
        raise VendorError("backend.endpoint has an invalid port", 400)
    if not host or any(c in host for c in "/ ?#@"):
        raise VendorError("backend.endpoint must be host:port", 400)
    timeout = _str(backend, "timeOut", 16) or "10s"
    try:
        seconds = parse_duration(timeout, "backend.timeOut")
    except ConfigError as exc:
        raise VendorError(str(exc), 400) from None
    if not 0.1 <= seconds <= 120:
        raise VendorError("backend.timeOut must be between 100ms and 120s", 400)
    consul, etcd = _obj(backend, "consul"), _obj(backend, "etcd")
    record: dict[str, Any] = {
        "usedBy": {"enabled": _bool(used, "enabled"),
                   **{v: _bool(used, v) for v in VENDORS},
                   **{f"{v}BackendName": _str(used, f"{v}BackendName", 64) for v in VENDORS}},
        "backend": {"endpoint": endpoint, "comment": _str(backend, "comment", 1024), "tls": tls,
                    "customCa": _str(backend, "customCa", 65536), "jwtSecret": _str(backend, "jwtSecret", 1024),
                    "timeOut": timeout,
                    "consul": {k: _str(consul, k) for k in ("serviceName", "token", "pathPrefix", "namespace",
                                                            "partition")},
                    "etcd": {k: _str(etcd, k) for k in ("serviceName", "username", "password")}},
    }
    if record["backend"]["consul"]["serviceName"] and record["backend"]["etcd"]["serviceName"]:
        raise VendorError("a backend is found through consul or etcd, not both", 400)
    if not any(record["usedBy"][v] for v in VENDORS):
        raise VendorError("usedBy must enable at least one vendor (alist, emby, bilibili)", 400)
    return record


def split_secrets(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    public = json.loads(json.dumps(record))
    secrets: dict[str, str] = {}
    for path in SECRET_FIELDS:
        node = public["backend"]
        for key in path[:-1]:
            node = node[key]
        secrets[".".join(path)] = node[path[-1]]
        node[path[-1]] = ""
    return public, secrets


def join_secrets(public: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(json.dumps(public))
    for path in SECRET_FIELDS:
        node = record["backend"]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = secrets.get(".".join(path), "")
    return record


def keep_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """An update that leaves a secret empty keeps the stored one (the API never shows them)."""
    _, old_secrets = split_secrets(old)
    public, secrets = split_secrets(new)
    return join_secrets(public, {k: v or old_secrets.get(k, "") for k, v in secrets.items()})


def _bound(endpoint: str) -> str:
    return f"vendor-backend:{endpoint}"


@dataclass
class LiveBackend:
    record: dict[str, Any]
    pool: BackendPool
    lookup: ServiceLookup | None
    task: asyncio.Task[None] | None = None

    @property
    def endpoint(self) -> str:
        return str(self.record["backend"]["endpoint"])

    def name_for(self, vendor: str) -> str | None:
        used = self.record["usedBy"]
        return str(used.get(f"{vendor}BackendName", "")) if used.get(vendor) else None


class Backends:
    def __init__(self, store: Any, box: SecretBox) -> None:
        self.store = store
        self.box = box
        self.live: dict[str, LiveBackend] = {}
        self.loaded = False
        self._lock = asyncio.Lock()

    # -- records -------------------------------------------------------------------------------------------

    def seal(self, record: dict[str, Any]) -> tuple[str, bytes]:
        public, secrets = split_secrets(record)
        return json.dumps(public, separators=(",", ":")), self.box.seal_json(secrets, _bound(record["backend"]
                                                                                                  ["endpoint"]))

    def open(self, row: VendorBackendRow) -> dict[str, Any]:
        public = json.loads(row.info)
        try:
            secrets = self.box.open_json(row.sealed, _bound(row.endpoint))
        except SecretsError:
            secrets = {}  # sealed under another key: the backend works without them until updated
        record = join_secrets(public, {str(k): str(v) for k, v in secrets.items()})
        record["usedBy"]["enabled"] = row.enabled
        return record

    def view(self, row: VendorBackendRow) -> dict[str, Any]:
        """The admin list's entry: the record without secrets, timestamps, the connection state."""
        public = json.loads(row.info)
        public["usedBy"]["enabled"] = row.enabled
        live = self.live.get(row.endpoint)
        # `endpoints` is ours (upstream has only the backend's status): each resolved endpoint's state.
        endpoints = [{"address": e.address, "weight": e.weight, "status": e.state(), "error": e.last_error}
                     for e in live.pool.endpoints.values()] if live is not None else []
        return {"info": {**public, "createdAt": to_ms(row.created_at), "updatedAt": to_ms(row.updated_at)},
                "status": live.pool.state() if live is not None else 0, "endpoints": endpoints}

    async def check_names(self, record: dict[str, Any]) -> None:
        """Backend names are unique per vendor among enabled backends (upstream)."""
        if not record["usedBy"]["enabled"]:
            return
        for row in await self.store.vendor_backends.all():
            if not row.enabled or row.endpoint == record["backend"]["endpoint"]:
                continue
            other = json.loads(row.info)["usedBy"]
            for vendor in VENDORS:
                name = record["usedBy"][f"{vendor}BackendName"]
                if record["usedBy"][vendor] and other.get(vendor) and other.get(f"{vendor}BackendName") == name:
                    raise VendorError(f"{vendor} backend name {name!r} is already used by {row.endpoint}", 400)

    # -- live pools ----------------------------------------------------------------------------------------

    async def ensure_loaded(self) -> None:
        if not self.loaded:
            await self.reload()

    async def reload(self) -> None:
        async with self._lock:
            rows = await self.store.vendor_backends.all()
            wanted = {row.endpoint: self.open(row) for row in rows if row.enabled}
            for endpoint in [e for e in self.live if e not in wanted or self.live[e].record != wanted[e]]:
                await self._drop(endpoint)
            for endpoint, record in wanted.items():
                if endpoint not in self.live:
                    try:
                        self.live[endpoint] = self._start(record)
                    except (ValueError, OSError) as exc:  # an address the client libraries refuse
                        log.warning("vendor backend %s cannot be used: %s", endpoint, exc)
            self.loaded = True

    def _start(self, record: dict[str, Any]) -> LiveBackend:
        b = record["backend"]
        pool = BackendPool(b["endpoint"], b["jwtSecret"], parse_duration(b["timeOut"], "timeOut"), b["tls"],
                           b["customCa"].encode() if b["customCa"] else None)
        lookup: ServiceLookup | None = None
        if b["etcd"]["serviceName"]:
            lookup = EtcdLookup(b["endpoint"], b["etcd"]["serviceName"], b["etcd"]["username"], b["etcd"]["password"])
        elif b["consul"]["serviceName"]:
            lookup = ConsulLookup(b["endpoint"], b["consul"]["serviceName"], b["consul"]["token"])
        else:
            pool.set_endpoints({b["endpoint"]: DEFAULT_WEIGHT})
        live = LiveBackend(record, pool, lookup)
        live.task = asyncio.get_running_loop().create_task(self._watch(live), name=f"vendor-backend {b['endpoint']}")
        return live

    async def _watch(self, live: LiveBackend) -> None:
        while True:
            if live.lookup is not None:
                try:
                    members = await live.lookup.resolve()
                except Exception as exc:  # the registry is unreachable: keep the last endpoints
                    log.warning("vendor backend %s: lookup failed: %s", live.endpoint, exc)
                else:
                    weights = {}
                    for m in members:
                        raw = m.meta.get("weight", "")
                        weights[m.grpc_address] = int(raw) if raw.isdigit() else DEFAULT_WEIGHT
                    for channel in live.pool.set_endpoints(weights):
                        await channel.close()
            await probe(live.pool, alist_probe)
            await asyncio.sleep(REFRESH_S)

    async def _drop(self, endpoint: str) -> None:
        live = self.live.pop(endpoint)
        if live.task is not None:
            live.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await live.task
        await live.pool.close()
        if live.lookup is not None:
            await live.lookup.close()

    def pool_for(self, vendor: str, name: str) -> BackendPool | None:
        for live in self.live.values():
            if live.name_for(vendor) == name:
                return live.pool
        return None

    def names(self, vendor: str) -> list[str]:
        return sorted({n for live in self.live.values() if (n := live.name_for(vendor)) is not None})

    async def reconnect(self, endpoints: list[str], wait: float) -> None:
        for endpoint in endpoints:
            live = self.live.get(endpoint)
            if live is not None:
                live.pool.connect()
                await probe(live.pool, alist_probe)
        if len(endpoints) == 1 and endpoints[0] in self.live:
            pool = self.live[endpoints[0]].pool
            for _ in range(int(wait / 0.1)):
                if pool.state() == 2:
                    break
                await asyncio.sleep(0.1)

    async def close(self) -> None:
        for endpoint in list(self.live):
            await self._drop(endpoint)
