"""The service container: what one instance's layers share once `app.py` has wired them.

It lives outside `api/` so that the runtime and observability code can use it without importing the web layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synctv.auth.tokens import TokenCodec
from synctv.config import Config
from synctv.rooms.hub import LocalHub
from synctv.rooms.router import RoomRouter
from synctv.store import Store

if TYPE_CHECKING:
    from synctv.auth.email.mailer import Mailer
    from synctv.auth.oauth2.registry import OAuth2Registry
    from synctv.discovery import Discovery
    from synctv.live.service import LiveService
    from synctv.media.service import MediaProxy
    from synctv.mesh import MeshNode
    from synctv.vendors.service import Vendors

HealthCheck = Callable[[], Awaitable[tuple[bool, str]]]


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
    # Extra checks contributed by other layers: name -> (ok, detail). Health checks report shared
    # dependencies (shown by /health and the metrics); readiness checks are this instance's own state (/ready).
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    readiness_checks: dict[str, HealthCheck] = field(default_factory=dict)
    # The last evaluation's components (the metrics read it).
    health: dict[str, Any] = field(default_factory=dict)
    # Cluster parts (None on a single node).
    mesh: MeshNode | None = None
    discovery: Discovery | None = None
    discovery_errors: int = 0
    # The media proxy and its outbound fetcher (`synctv.media.service.media_proxy` creates it on first use).
    media: MediaProxy | None = None
    # Vendor libraries: accounts, clients, resolved URLs (`synctv.vendors.service.vendors` creates it on first use).
    vendors: Vendors | None = None
    # Live channels and the RTMP authorization (`synctv.live.service.live_service` creates it on first use).
    live: LiveService | None = None
    # Login providers and the mailer, made on first use (tests may put their own in first).
    oauth2: OAuth2Registry | None = None
    mailer: Mailer | None = None

    def oauth2_registry(self) -> OAuth2Registry:
        if self.oauth2 is None:
            from synctv.auth.oauth2.registry import OAuth2Registry

            self.oauth2 = OAuth2Registry()
        return self.oauth2

    def email_sender(self) -> Mailer:
        if self.mailer is None:
            from synctv.auth.email.mailer import Mailer

            self.mailer = Mailer(self.store.settings)
        return self.mailer

    async def invalidate(self, kind: str, key: str = "") -> None:
        if self.broadcast_invalidation is not None:
            await self.broadcast_invalidation(kind, key)
