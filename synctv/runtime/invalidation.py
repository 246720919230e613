"""Changes that every instance must see at once: settings, ended sessions, users' roles and bans.

The instance that makes a change applies it locally and sends it to every peer as a typed control message,
waiting for each to acknowledge (no cache timeouts); a single node just applies it.
"""

from __future__ import annotations

import asyncio
import logging

from synctv._generated import mesh_pb2 as pb
from synctv.auth.passwords import user_version
from synctv.core import commands as c
from synctv.core.permissions import GUEST_USER_ID, Role
from synctv.media.service import cancel_proxy_streams
from synctv.rooms.hub import CLOSE_KICKED
from synctv.services import Services
from synctv.vendors.service import forget_vendor_movie, reload_vendor_backends

log = logging.getLogger(__name__)

# The kinds callers name (`Services.invalidate(kind, key)`), and their mesh form.
KINDS = {"settings": pb.INVALIDATE_SETTINGS, "sessions": pb.INVALIDATE_SESSIONS, "user": pb.INVALIDATE_USER,
         "proxy_movies": pb.INVALIDATE_PROXY_MOVIES, "vendor_backends": pb.INVALIDATE_VENDOR_BACKENDS,
         "live_key": pb.INVALIDATE_LIVE_KEY}
_NAMES = {v: k for k, v in KINDS.items()}


class Invalidator:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        svc.router.queries.on_control = self.on_control
        svc.store.settings.on_change = self.on_store_change

    async def broadcast(self, kind: str, key: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown invalidation kind {kind!r}")
        await self.apply(kind, key)
        if self.svc.router.mesh is not None:
            await self.svc.router.queries.control_all(
                pb.Control(invalidation=pb.Invalidation(kind=KINDS[kind], key=key)))

    async def on_control(self, control: pb.Control) -> None:
        if control.WhichOneof("body") != "invalidation":
            return
        kind = _NAMES.get(control.invalidation.kind)
        if kind is None:
            log.warning("ignoring an invalidation of unknown kind %d", control.invalidation.kind)
            return
        await self.apply(kind, control.invalidation.key)

    async def apply(self, kind: str, key: str) -> None:
        svc = self.svc
        store = svc.store
        if kind == "settings":
            await store.settings.reload()
            if not store.settings.bool("enable_guest"):
                svc.hub.close_where(lambda conn: conn.user_id == GUEST_USER_ID, CLOSE_KICKED, "guests are disabled")
        elif kind == "proxy_movies":
            for movie_id in filter(None, key.split(",")):
                cancel_proxy_streams(svc, movie_id)
                forget_vendor_movie(svc, movie_id)
                if svc.live is not None:
                    svc.live.close_movie(movie_id, "movie changed")
        elif kind == "vendor_backends":
            await reload_vendor_backends(svc)
        elif kind == "live_key":
            if svc.live is not None:
                svc.live.on_key_replaced(key)
        elif kind == "sessions":
            await store.sessions.load()
            closed = svc.hub.close_where(lambda conn: store.sessions.is_revoked(conn.session_id), CLOSE_KICKED,
                                         "session ended")
            if closed:
                log.info("closed connections of ended sessions", extra={"count": closed})
        elif kind == "user" and key:
            await self._drop_roles(key)
            await self._close_stale_sockets(key)

    async def on_store_change(self, what: str) -> None:
        """Another writer of the database (the CLI, mostly) changed settings or users: act as if told."""
        if what == "settings":
            await self.apply("settings", "")
        elif what == "users":  # which users is not recorded: recheck every one connected here
            await self._drop_roles("")
            users = {conn.user_id for conn in self.svc.hub.connections() if conn.user_id != GUEST_USER_ID}
            await asyncio.gather(*(self._close_stale_sockets(u) for u in users))

    async def _drop_roles(self, user_id: str) -> None:
        """Owners resolve roles themselves: drop the cached role ("" = every role) in every room loaded here."""
        for room_id in self.svc.router.owned_rooms():
            actor = self.svc.router.local_actor(room_id)
            if actor is not None:
                await actor.submit(c.Invalidate(c.CacheKind.USER, user_id))

    async def _close_stale_sockets(self, key: str) -> None:
        hub = self.svc.hub
        user = await self.svc.store.users.get(key)
        if user is None or user.role in (Role.BANNED, Role.PENDING):
            closed = hub.close_user(key, CLOSE_KICKED, "account disabled")
            if closed:
                log.info("closed connections of a disabled account", extra={"user_id": key, "count": closed})
        else:
            # A password change ends every session opened with the old password.
            version = user_version(user.hashed_password)
            hub.close_where(lambda conn: conn.user_id == key and conn.user_version != version,
                            CLOSE_KICKED, "password changed")
