"""The objects request handlers work with, stored on the aiohttp application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from synctv.auth.tokens import TokenCodec
from synctv.config import Config
from synctv.rooms.hub import LocalHub
from synctv.rooms.router import RoomRouter
from synctv.store import Store


@dataclass
class Services:
    cfg: Config
    store: Store
    router: RoomRouter
    hub: LocalHub
    tokens: TokenCodec
    instance_id: str
    version: str
    started_at_ms: int
    draining: bool = False
    # Cluster-wide notifications (settings reloaded, user changed); a no-op on a single node.
    broadcast_invalidation: Callable[[str, str], Awaitable[None]] | None = None
    # Extra readiness checks contributed by other layers: name -> (ok, detail).
    health_checks: dict[str, Callable[[], Awaitable[tuple[bool, str]]]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    async def invalidate(self, kind: str, key: str = "") -> None:
        if self.broadcast_invalidation is not None:
            await self.broadcast_invalidation(kind, key)


SERVICES: web.AppKey[Services] = web.AppKey("services", Services)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]
