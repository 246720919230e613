"""Consul membership: a registered service per instance, health-gated, watched with blocking queries.

Each instance registers `<service_name>` with id = instance id, its gRPC address/port, tags and Meta
(instance_id, http, grpc, version, started_at_ms) plus two checks:
- a TTL check (`<id>:ttl`) kept passing by a task every ttl/3 -- it goes critical within `ttl` of a crash;
- a gRPC check (`<id>:grpc`) against the mesh port (grpc.health.v1), so a wedged process goes critical too.
  With mesh TLS it is registered with `GRPCUseTLS` and `TLSServerName` (the name in the mesh certificate), so
  the agent verifies the mesh certificate with its CA; with mutual TLS the agent presents its own certificate
  (signed by the mesh CA; `enable_agent_tls_for_checks` in the agent config, see deploy/consul/).
  The gRPC health service answers `/ready` (this instance's own state), so a database blip never turns every
  instance critical at once.
Membership is the set of instances whose checks all pass (`/v1/health/service/<name>?passing`), never mere
catalog presence: Consul keeps dead services in the catalog for a minute or more. A read that Consul filtered
by ACLs (`X-Consul-Results-Filtered-By-ACLs: true`, status 200) is not a membership: the token lacks
`service:read`, so the view is kept and the backend reports itself unhealthy, naming the cause.

Stop deregisters the service, so peers see the leave on their next blocking-query wake-up (immediately).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import consul.aio

from synctv.discovery.base import Member, MembershipState, _call

log = logging.getLogger(__name__)

BACKOFF_MAX = 2.0
# How long one blocking query may wait for a change; bounded so a silent network drop is noticed.
BLOCKING_WAIT_S = 10
# Consul removes a service whose check stayed critical this long (it has a 1 minute minimum).
DEREGISTER_CRITICAL_AFTER = "1m"


def parse_address(address: str) -> tuple[str, int]:
    text = address.strip()
    for scheme in ("http://", "https://"):
        text = text.removeprefix(scheme)
    text = text.rstrip("/")
    host, colon, port = text.rpartition(":")
    if not colon:
        return text, 8500
    if not host or not port.isdigit():
        raise ValueError(f"cluster.discovery.consul.address: invalid address {address!r} (use host:port)")
    return host.strip("[]"), int(port)


def member_from_entry(entry: dict[str, Any]) -> Member | None:
    """Build a Member from one /v1/health/service entry (our Meta, or plain Address/Port for others)."""
    svc = entry.get("Service") or {}
    meta = {str(k): str(v) for k, v in (svc.get("Meta") or {}).items()}
    address = svc.get("Address") or (entry.get("Node") or {}).get("Address") or ""
    port = svc.get("Port") or 0
    instance_id = meta.get("instance_id") or svc.get("ID") or ""
    if not instance_id:
        return None
    started = meta.get("started_at_ms", "0")
    return Member(
        instance_id=instance_id,
        http_address=meta.get("http", ""),
        grpc_address=meta.get("grpc") or (f"{address}:{port}" if address and port else ""),
        version=meta.get("version", ""),
        started_at_ms=int(started) if started.isdigit() else 0,
        meta={k: v for k, v in meta.items() if k not in ("instance_id", "http", "grpc", "version", "started_at_ms")},
    )


class ConsulDiscovery(MembershipState):
    def __init__(
        self,
        self_member: Member,
        *,
        address: str = "127.0.0.1:8500",
        scheme: str = "http",
        token: str | None = None,
        service_name: str = "synctv",
        ttl: float = 5.0,
        tags: tuple[str, ...] = ("synctv", "mesh"),
        grpc_check_interval: str = "5s",
        grpc_use_tls: bool = False,
        tls_server_name: str = "",
    ) -> None:
        super().__init__(self_member)
        self.host, self.port = parse_address(address)
        self.scheme = scheme
        self.token = token
        self.service_name = service_name
        self.ttl = ttl
        # After an agent outage every TTL check is critical until its instance passes it again.
        self.rejoin_grace = 2.0 * ttl
        self.tags = list(tags)
        self.grpc_check_interval = grpc_check_interval
        self.grpc_use_tls = grpc_use_tls
        self.tls_server_name = tls_server_name
        self.acl_filtered = False
        self.service_id = self_member.instance_id
        self.ttl_check_id = f"{self.service_id}:ttl"
        self.grpc_check_id = f"{self.service_id}:grpc"
        self._client: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_pass = 0.0
        self._lease_valid = False
        self._lease_listeners: list[Callable[[bool], Any]] = []
        self._stopping = False
        self._pass_ok = True
        self._watch_ok = True

    # -- public --------------------------------------------------------------------------------------------

    @property
    def lease_valid(self) -> bool:
        """False once our TTL check may have gone critical: stop acting as owner (self-fencing)."""
        return self._lease_valid

    @property
    def has_lease(self) -> bool:
        return True

    def on_lease_change(self, callback: Callable[[bool], Any]) -> None:
        self._lease_listeners.append(callback)

    async def start(self) -> None:
        self._client = consul.aio.Consul(host=self.host, port=self.port, scheme=self.scheme, token=self.token)
        try:
            await self._register()
            index = await self._fetch(None)
        except PermissionError as exc:
            await self._close_client()
            msg = (f"cluster.discovery.consul.token: the token may not read the {self.service_name!r} instances "
                   "(results filtered by ACLs): grant service:read and node:read (deploy/consul/)")
            raise ConnectionError(msg) from exc
        except Exception as exc:
            await self._close_client()
            msg = f"cluster.discovery.consul.address: cannot reach consul at {self.host}:{self.port}: {exc}"
            raise ConnectionError(msg) from exc
        self._tasks = [
            asyncio.create_task(self._pass_loop(), name="consul-ttl"),
            asyncio.create_task(self._watch_loop(index), name="consul-watch"),
        ]

    async def stop(self, deregister: bool = True) -> None:
        """Leave. With deregister=False the TTL check is left to expire (what a crash looks like)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if deregister and self._client is not None:
            try:
                await asyncio.wait_for(self._client.agent.service.deregister(self.service_id), 3)
            except Exception as exc:
                log.warning("consul: could not deregister on stop (goes critical in %ss): %s", self.ttl, exc)
        self._set_lease_valid(False)
        await self._close_client()

    async def resolve(self, service_name: str) -> list[Member]:
        _, entries = await asyncio.wait_for(self._client.health.service(service_name, passing=True), 5)
        members = [member_from_entry(e) for e in entries or []]
        return sorted((m for m in members if m is not None), key=lambda m: m.instance_id)

    # -- internals -----------------------------------------------------------------------------------------

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.http.close()

    async def _register(self) -> None:
        m = self.self_member
        host, _, port = m.grpc_address.rpartition(":")
        meta = {
            **{k: v for k, v in m.meta.items()},
            "instance_id": m.instance_id,
            "http": m.http_address,
            "grpc": m.grpc_address,
            "version": m.version,
            "started_at_ms": str(m.started_at_ms),
        }
        ttl_check = {
            "CheckID": self.ttl_check_id,
            "Name": "synctv keepalive",
            "TTL": f"{self.ttl:g}s",
            "DeregisterCriticalServiceAfter": DEREGISTER_CRITICAL_AFTER,
        }
        grpc_check: dict[str, Any] = {
            "CheckID": self.grpc_check_id,
            "Name": "synctv mesh gRPC health",
            "GRPC": m.grpc_address,
            "Interval": self.grpc_check_interval,
            "Timeout": "2s",
            "DeregisterCriticalServiceAfter": DEREGISTER_CRITICAL_AFTER,
        }
        if self.grpc_use_tls:
            grpc_check["GRPCUseTLS"] = True
            grpc_check["TLSServerName"] = self.tls_server_name or host
        await asyncio.wait_for(
            self._client.agent.service.register(
                self.service_name,
                service_id=self.service_id,
                address=host or None,
                port=int(port) if port.isdigit() else None,
                tags=self.tags,
                meta=meta,
                check=ttl_check,
                extra_checks=[grpc_check] if m.grpc_address else [],
                replace_existing_checks=True,
            ),
            5,
        )
        # Checks start critical: pass the TTL check at once so we become visible without waiting ttl/3.
        await self._pass()

    async def _pass(self) -> None:
        ok = await asyncio.wait_for(self._client.agent.check.ttl_pass(self.ttl_check_id), max(1.0, self.ttl / 3))
        if not ok:
            raise LookupError("TTL check unknown to the agent")
        self._last_pass = time.monotonic()
        self._set_lease_valid(True)

    async def _pass_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                try:
                    await self._pass()
                except (LookupError, consul.ConsulException):
                    # The agent forgot us (restarted without state, or deregistered us): register again.
                    await self._register()
                self._pass_ok = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("consul: TTL pass failed: %s", exc)
                self._pass_ok = False
                if time.monotonic() - self._last_pass > self.ttl * 2 / 3:
                    self._set_lease_valid(False)
            self._set_healthy(self._pass_ok and self._watch_ok)

    async def _health(self, index: str | None) -> tuple[str | None, list[dict[str, Any]], bool]:
        """One (blocking) read of the passing instances: (index, entries, filtered by ACLs)."""
        params: list[tuple[str, Any]] = [("passing", "1")]
        if index:
            params += [("index", index), ("wait", f"{BLOCKING_WAIT_S}s")]
        headers = {"X-Consul-Token": self.token} if self.token else {}

        def parse(response: Any) -> tuple[str | None, list[dict[str, Any]], bool]:
            if response.code == 403:
                raise consul.ACLPermissionDenied(response.body)
            if response.code != 200:
                raise consul.ConsulException(f"{response.code} {response.body}")
            filtered = str(response.headers.get("X-Consul-Results-Filtered-By-ACLs", "")).lower() == "true"
            return response.headers.get("X-Consul-Index"), json.loads(response.body or "[]"), filtered

        # Consul adds up to wait/16 of jitter to a blocking query: the timeout leaves room for it.
        result: tuple[str | None, list[dict[str, Any]], bool] = await asyncio.wait_for(
            self._client.http.get(parse, f"/v1/health/service/{self.service_name}", params=params,
                                  headers=headers),
            BLOCKING_WAIT_S * 17 / 16 + 5)
        return result

    async def _fetch(self, index: str | None) -> str | None:
        new_index, entries, filtered = await self._health(index)
        if filtered:
            if not self.acl_filtered:
                log.error("consul: the ACL token may not read every %r instance (results filtered by ACLs): "
                          "keeping the last membership; grant service:read on it (deploy/consul/)",
                          self.service_name)
            self.acl_filtered = True
            raise PermissionError("consul: results filtered by ACLs")
        self.acl_filtered = False
        members = [member_from_entry(e) for e in entries or []]
        self._publish([m for m in members if m is not None and m.instance_id != self.self_member.instance_id])
        return str(new_index) if new_index is not None else None

    async def _watch_loop(self, index: str | None) -> None:
        backoff = 0.1
        while True:
            try:
                new_index = await self._fetch(index)
                # An index that goes backwards means the agent restarted: start over (as Consul advises); an
                # index of 0 is never waited on.
                if new_index is not None and (int(new_index) <= 0 or
                                              (index is not None and int(new_index) < int(index))):
                    log.info("consul: index went from %s to %s: reading the membership afresh", index, new_index)
                    new_index = None
                index = new_index
                self._watch_ok = True
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("consul: health watch failed: %s", exc)
                self._watch_ok = False
                index = None
                self._set_healthy(False)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            self._set_healthy(self._pass_ok and self._watch_ok)

    def _set_lease_valid(self, value: bool) -> None:
        if value == self._lease_valid:
            return
        self._lease_valid = value
        if not value and self._stopping:
            log.info("consul: left the cluster (service deregistered)")
        elif not value:
            log.warning("consul: TTL check may be critical; this instance should stop acting as owner")
        for cb in list(self._lease_listeners):
            _call(cb, value)
