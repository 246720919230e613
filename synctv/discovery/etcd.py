"""etcd membership: a lease-bound record per instance, a prefix watch for everyone else's.

Layout: ``<prefix><instance_id>`` -> Member JSON, attached to a lease of `ttl` seconds. aetcd has no
background keepalive, so a task refreshes the lease every ttl/3. Stop revokes the lease, which deletes the
record at once (peers react immediately); a crashed instance disappears when its lease expires (<= ttl).

Failure handling:
- backend unreachable -> `healthy` False, the last membership is kept and served, loops retry with backoff;
- keepalive failing for longer than 2/3 of the TTL -> `lease_valid` False (and `on_lease_change` listeners
  are called): peers may drop this instance soon, so the app should stop acting as owner (self-fencing);
- lease found expired after an outage -> a new lease is granted and the record written again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import aetcd

from synctv.discovery.base import SELF_SERVICE, Member, MembershipState, _call
from synctv.discovery.records import member_from_record

log = logging.getLogger(__name__)

# Where go-kratos (upstream's vendor servers) registers services in etcd.
KRATOS_PREFIX = "/microservices/"
BACKOFF_MAX = 2.0


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    text = endpoint.strip()
    if text.startswith("https://"):
        raise ValueError("cluster.discovery.etcd.endpoints: https endpoints are not supported; use http://host:port")
    text = text.removeprefix("http://").rstrip("/")
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ValueError(f"cluster.discovery.etcd.endpoints: invalid endpoint {endpoint!r} (use host:port)")
    return host.strip("[]"), int(port)


class EtcdDiscovery(MembershipState):
    def __init__(
        self,
        self_member: Member,
        *,
        endpoints: Sequence[str],
        prefix: str = "/synctv/instances/",
        ttl: float = 5.0,
        username: str | None = None,
        password: str | None = None,
        record: bytes | None = None,
    ) -> None:
        super().__init__(self_member)
        # What is written under the key: our Member JSON, or another registry's format (a vendor server writes
        # go-kratos' ServiceInstance so upstream SyncTV finds it too).
        self._record = record
        if not endpoints:
            raise ValueError("cluster.discovery.etcd.endpoints: at least one endpoint is required")
        self._endpoints = [parse_endpoint(e) for e in endpoints]
        if not prefix.endswith("/"):
            prefix += "/"
        self.prefix = prefix
        # etcd's minimum lease TTL is 2 s and it takes whole seconds.
        self.ttl = max(2, round(ttl))
        # Every instance re-registers within a keepalive interval (plus a reconnect backoff) of etcd's return.
        self.rejoin_grace = 2.0 * self.ttl
        self._username = username
        self._password = password
        self._endpoint_index = 0
        self._client: Any = None
        self._lease: Any = None
        self._records: dict[str, Member] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._last_keepalive = 0.0
        self._lease_valid = False
        self._lease_listeners: list[Callable[[bool], Any]] = []
        self._op_timeout = max(1.0, self.ttl / 3)
        self._stopping = False
        # healthy == both the keepalive and the watch currently work.
        self._keepalive_ok = True
        self._watch_ok = True

    # -- public --------------------------------------------------------------------------------------------

    @property
    def lease_valid(self) -> bool:
        """False once the lease may have expired: stop acting as owner before peers drop this instance."""
        return self._lease_valid

    @property
    def has_lease(self) -> bool:
        return True

    def on_lease_change(self, callback: Callable[[bool], Any]) -> None:
        self._lease_listeners.append(callback)

    @property
    def key(self) -> str:
        return self.prefix + self.self_member.instance_id

    async def start(self) -> None:
        """Register and load the membership; raises if etcd cannot be reached at startup."""
        self._client = self._new_client()
        try:
            await self._register()
            revision = await self._relist()
        except Exception as exc:
            await self._close_client()
            host, port = self._endpoints[self._endpoint_index]
            msg = f"cluster.discovery.etcd.endpoints: cannot reach etcd at {host}:{port}: {exc}"
            raise ConnectionError(msg) from exc
        self._tasks = [
            asyncio.create_task(self._keepalive_loop(), name="etcd-keepalive"),
            asyncio.create_task(self._watch_loop(revision), name="etcd-watch"),
        ]

    async def stop(self, revoke: bool = True) -> None:
        """Leave. With revoke=False the record is left to expire (what a crash looks like to peers)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if revoke and self._lease is not None and self._client is not None:
            try:
                await asyncio.wait_for(self._client.revoke_lease(self._lease.id), self._op_timeout)
            except Exception as exc:
                log.warning("etcd: could not revoke lease on stop (record expires in %ss): %s", self.ttl, exc)
        self._set_lease_valid(False)
        await self._close_client()

    async def resolve(self, service_name: str) -> list[Member]:
        if service_name == SELF_SERVICE:
            return self.members()
        prefix = f"{KRATOS_PREFIX}{service_name}/"
        result = await asyncio.wait_for(self._client.get_prefix(prefix.encode()), self._op_timeout)
        members = [member_from_record(kv.value) for kv in result]
        return sorted((m for m in members if m is not None), key=lambda m: m.instance_id)

    # -- internals -----------------------------------------------------------------------------------------

    def _new_client(self) -> Any:
        host, port = self._endpoints[self._endpoint_index]
        # gRPC's default reconnect backoff grows to two minutes: after a 30 s etcd outage the client would wait
        # ~15 s more before it even tried again, past every lease. Retry at least every second.
        options = {"grpc.initial_reconnect_backoff_ms": 200, "grpc.min_reconnect_backoff_ms": 200,
                   "grpc.max_reconnect_backoff_ms": 1000}
        return aetcd.Client(host=host, port=port, username=self._username, password=self._password,
                            options=options)

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 2)

    async def _rotate_endpoint(self) -> None:
        if len(self._endpoints) > 1:
            self._endpoint_index = (self._endpoint_index + 1) % len(self._endpoints)
            await self._close_client()
            self._client = self._new_client()

    async def _register(self) -> None:
        self._lease = await asyncio.wait_for(self._client.lease(self.ttl), self._op_timeout)
        await asyncio.wait_for(
            self._client.put(self.key.encode(), self._record or self.self_member.to_json(), lease=self._lease),
            self._op_timeout,
        )
        self._last_keepalive = time.monotonic()
        self._set_lease_valid(True)
        log.info("etcd: registered %s (lease %x, ttl %ss)", self.key, self._lease.id, self.ttl)

    async def _relist(self) -> int:
        result = await asyncio.wait_for(self._client.get_prefix(self.prefix.encode()), self._op_timeout)
        records: dict[str, Member] = {}
        for kv in result:
            member = member_from_record(kv.value)
            if member is not None:
                records[kv.key.decode()] = member
        self._records = records
        self._publish(list(records.values()))
        return int(result.header.revision)

    async def _keepalive_loop(self) -> None:
        interval = self.ttl / 3
        while True:
            await asyncio.sleep(interval)
            try:
                if self._lease is None:
                    await self._register()
                    continue
                reply = await asyncio.wait_for(self._client.refresh_lease(self._lease.id), interval)
                if reply is None or reply.TTL <= 0:
                    # The lease expired while we could not reach etcd: our record is gone, write it again.
                    log.warning("etcd: lease expired, registering again")
                    self._set_lease_valid(False)
                    await self._register()
                else:
                    self._last_keepalive = time.monotonic()
                    self._set_lease_valid(True)
                self._keepalive_ok = True
                self._update_health()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("etcd: keepalive failed: %s", exc)
                self._keepalive_ok = False
                self._update_health()
                if time.monotonic() - self._last_keepalive > self.ttl * 2 / 3:
                    self._set_lease_valid(False)

    async def _watch_loop(self, revision: int) -> None:
        backoff = 0.1
        while True:
            try:
                if revision == 0:
                    revision = await self._relist()
                watch = await self._client.watch_prefix(self.prefix.encode(), start_revision=revision + 1)
                self._watch_ok = True
                self._update_health()
                backoff = 0.1
                async for event in watch:
                    self._apply(event)
                    revision = max(revision, int(event.kv.mod_revision))
                # The iterator ends only when cancelled from elsewhere: treat like an error and re-watch.
                raise ConnectionError("watch ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("etcd: watch failed: %s", exc)
                self._watch_ok = False
                self._update_health()
                # Re-list after reconnecting: events missed (or compacted away) while disconnected.
                revision = 0
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                if backoff >= BACKOFF_MAX:
                    await self._rotate_endpoint()

    def _apply(self, event: Any) -> None:
        key = event.kv.key.decode()
        if str(event.kind).endswith("PUT"):
            member = member_from_record(event.kv.value)
            if member is None:
                return
            self._records[key] = member
        else:
            self._records.pop(key, None)
            if key == self.key and not self._stopping:
                # Someone (or lease expiry) removed our record: re-register on the next keepalive tick.
                self._lease = None
        self._publish(list(self._records.values()))

    def _update_health(self) -> None:
        self._set_healthy(self._keepalive_ok and self._watch_ok)

    def _set_lease_valid(self, value: bool) -> None:
        if value == self._lease_valid:
            return
        self._lease_valid = value
        if not value and self._stopping:
            log.info("etcd: left the cluster (lease revoked)")
        elif not value:
            log.warning("etcd: lease may have expired; this instance should stop acting as owner")
        for cb in list(self._lease_listeners):
            _call(cb, value)
