"""Resolve-only lookups of other services (vendor backends) in an etcd or Consul that is not necessarily the
cluster's own: no registration, one client per backend, the same record parsers as the membership backends."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

from synctv.discovery.base import Member
from synctv.discovery.consul import member_from_entry, parse_address
from synctv.discovery.etcd import KRATOS_PREFIX, parse_endpoint
from synctv.discovery.records import member_from_record

LOOKUP_TIMEOUT_S = 3.0


class ServiceLookup(Protocol):
    async def resolve(self) -> list[Member]: ...

    async def close(self) -> None: ...


class EtcdLookup:
    """go-kratos records under `/microservices/<service>/` (what upstream and `synctv vendor serve` write)."""

    def __init__(self, endpoint: str, service_name: str, username: str = "", password: str = "") -> None:
        import aetcd

        host, port = parse_endpoint(endpoint)
        self.prefix = f"{KRATOS_PREFIX}{service_name}/"
        self._client: Any = aetcd.Client(host=host, port=port, username=username or None, password=password or None)

    async def resolve(self) -> list[Member]:
        result = await asyncio.wait_for(self._client.get_prefix(self.prefix.encode()), LOOKUP_TIMEOUT_S)
        members = [member_from_record(kv.value) for kv in result]
        return sorted((m for m in members if m is not None and m.grpc_address), key=lambda m: m.instance_id)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._client.close(), 2)


class ConsulLookup:
    """Passing instances of a Consul service (`/v1/health/service/<name>?passing`)."""

    def __init__(self, address: str, service_name: str, token: str = "", scheme: str = "http") -> None:
        import consul.aio

        host, port = parse_address(address)
        self.service_name = service_name
        self._client: Any = consul.aio.Consul(host=host, port=port, scheme=scheme, token=token or None)

    async def resolve(self) -> list[Member]:
        _, entries = await asyncio.wait_for(self._client.health.service(self.service_name, passing=True),
                                            LOOKUP_TIMEOUT_S)
        members = [member_from_entry(e) for e in entries or []]
        return sorted((m for m in members if m is not None and m.grpc_address), key=lambda m: m.instance_id)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.close()
