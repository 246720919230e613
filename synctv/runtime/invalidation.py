"""Changes that every instance must see at once: settings, ended sessions, users' roles and bans.

The instance that makes a change applies it locally and broadcasts it over the mesh; the others apply it
when the message arrives (no cache timeouts).
"""

from __future__ import annotations

import json
import logging

from synctv.core.permissions import Role
from synctv.rooms.cluster import ClusterRouter
from synctv.rooms.hub import CLOSE_KICKED
from synctv.services import Services

log = logging.getLogger(__name__)

CONTROL_KIND = "invalidate"


class Invalidator:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        if isinstance(svc.router, ClusterRouter):
            svc.router.on_control = self.on_control

    async def broadcast(self, kind: str, key: str) -> None:
        await self.apply(kind, key)
        router = self.svc.router
        if isinstance(router, ClusterRouter):
            await router.control_all(CONTROL_KIND, json.dumps({"kind": kind, "key": key}).encode())

    async def on_control(self, kind: str, payload: bytes) -> None:
        if kind != CONTROL_KIND:
            return
        data = json.loads(payload)
        await self.apply(str(data.get("kind", "")), str(data.get("key", "")))

    async def apply(self, kind: str, key: str) -> None:
        store = self.svc.store
        if kind == "settings":
            await store.settings.reload()
        elif kind == "sessions":
            await store.sessions.load()
        elif kind == "user" and key:
            user = await store.users.get(key)
            if user is None or user.role in (Role.BANNED, Role.PENDING):
                closed = self.svc.hub.close_user(key, CLOSE_KICKED, "account disabled")
                if closed:
                    log.info("closed connections of a disabled account", extra={"user_id": key, "count": closed})
