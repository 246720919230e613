"""The vendors layer of one instance: users' bindings (sealed at rest), the vendor clients, resolved URLs.

A binding's vendor token is refreshed transparently: when the vendor rejects it, the stored credentials log in
again once and the call is retried with the new token, which is sealed back into the row.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from synctv.config import parse_duration
from synctv.core.movies import infer_type
from synctv.media.service import media_proxy
from synctv.services import Services
from synctv.store.models import Movie
from synctv.vendors.alist.api import TYPE_TEXT, AlistApi, TokenRejected, server_id
from synctv.vendors.alist.local import HttpAlist
from synctv.vendors.cache import Resolved, ResolvedCache, Subtitle
from synctv.vendors.errors import NotBound, VendorError
from synctv.vendors.http import VendorHttp
from synctv.vendors.secrets import SecretBox, SecretsError, parse_key

T = TypeVar("T")
ALIST = "alist"
MAX_SUBTITLES = 16


@dataclass(frozen=True, slots=True)
class AlistAccount:
    server_id: str
    backend: str
    host: str
    username: str
    hashed_password: str
    token: str


def _bound(vendor: str, user_id: str, sid: str) -> str:
    return f"{vendor}:{user_id}:{sid}"


def split_path(path: str) -> tuple[str, str]:
    """`<serverId>/<path inside the server>` -> (serverId, `/normalised/path`)."""
    sid, _, rest = path.partition("/")
    inner = posixpath.normpath("/" + rest.strip("/")) if rest.strip("/") else "/"
    return sid, "/" if inner in ("/", "//") else inner


def movie_password_binding(room_id: str) -> str:
    return f"alist-movie-password:{room_id}"


class Vendors:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.box = SecretBox(parse_key(svc.cfg.vendors.secret_key))
        self.timeout = parse_duration(svc.cfg.vendors.timeout, "vendors.timeout")
        self.url_ttl = parse_duration(svc.cfg.vendors.url_ttl, "vendors.url_ttl")
        self.alist: AlistApi = HttpAlist(VendorHttp(lambda: media_proxy(svc).fetcher, self.timeout, ALIST))
        self.resolved = ResolvedCache()
        self._resolving: dict[tuple[str, str], asyncio.Future[Resolved]] = {}

    # -- Alist bindings ------------------------------------------------------------------------------------

    async def alist_bind(self, user_id: str, host: str, username: str, hashed_password: str, backend: str) -> str:
        token = await self.alist.login(host, username, hashed_password)
        sid = server_id(host)
        sealed = self.box.seal_json({"host": host, "username": username, "password": hashed_password,
                                     "token": token}, _bound(ALIST, user_id, sid))
        await self.svc.store.vendor_accounts.put(user_id, ALIST, sid, backend, sealed)
        return sid

    def _open_alist(self, user_id: str, sid: str, backend: str, sealed: bytes) -> AlistAccount:
        try:
            data = self.box.open_json(sealed, _bound(ALIST, user_id, sid))
        except SecretsError:
            raise NotBound("this alist binding cannot be read with this server's vendors.secret_key; "
                           "log in to it again") from None
        return AlistAccount(sid, backend, str(data.get("host", "")), str(data.get("username", "")),
                            str(data.get("password", "")), str(data.get("token", "")))

    async def alist_accounts(self, user_id: str) -> list[AlistAccount]:
        rows = await self.svc.store.vendor_accounts.for_user(user_id, ALIST)
        out = []
        for row in rows:
            try:
                out.append(self._open_alist(user_id, row.server_id, row.backend, row.sealed))
            except NotBound:
                continue  # sealed under another key: shown nowhere until bound again
        return out

    async def alist_account(self, user_id: str, sid: str) -> AlistAccount:
        row = await self.svc.store.vendor_accounts.get(user_id, ALIST, sid) if sid else None
        if row is None:
            raise NotBound("not logged in to this alist server")
        return self._open_alist(user_id, sid, row.backend, row.sealed)

    async def with_alist(self, user_id: str, sid: str, call: Callable[[AlistAccount], Awaitable[T]]) -> T:
        account = await self.alist_account(user_id, sid)
        try:
            return await call(account)
        except TokenRejected:
            token = await self.alist.login(account.host, account.username, account.hashed_password)
            account = AlistAccount(account.server_id, account.backend, account.host, account.username,
                                   account.hashed_password, token)
            await self.svc.store.vendor_accounts.reseal(user_id, ALIST, sid, self.box.seal_json(
                {"host": account.host, "username": account.username, "password": account.hashed_password,
                 "token": token}, _bound(ALIST, user_id, sid)))
        try:
            return await call(account)
        except TokenRejected as exc:
            raise VendorError(f"alist keeps refusing a fresh token: {exc}") from None

    async def unbind(self, user_id: str, vendor: str, sid: str) -> bool:
        return await self.svc.store.vendor_accounts.delete(user_id, vendor, sid)

    # -- playback --------------------------------------------------------------------------------------------

    async def resolve(self, room_id: str, movie: Movie, base: dict[str, Any], sub_path: str = "") -> Resolved:
        """Fresh playback sources of a vendor movie, from the cache while they last (one lookup at a time)."""
        cached = self.resolved.get(movie.id, sub_path)
        if cached is not None:
            return cached
        key = (movie.id, sub_path)
        running = self._resolving.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Resolved] = asyncio.get_running_loop().create_future()
        self._resolving[key] = future
        try:
            value = await self._resolve(room_id, movie, base, sub_path)
            self.resolved.put(movie.id, sub_path, value, self.url_ttl)
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else has to
            raise
        finally:
            del self._resolving[key]

    async def _resolve(self, room_id: str, movie: Movie, base: dict[str, Any], sub_path: str) -> Resolved:
        info = base.get("vendorInfo") or {}
        if info.get("vendor") == ALIST:
            return await self._resolve_alist(room_id, movie, info.get("alist") or {})
        raise VendorError(f"vendor {str(info.get('vendor'))[:32]} is not available on this server", 400)

    def open_movie_password(self, room_id: str, sealed: str) -> str:
        if not sealed:
            return ""
        try:
            return self.box.open_text(sealed, movie_password_binding(room_id))
        except SecretsError:
            raise VendorError("this movie's alist folder password cannot be read with this server's "
                              "vendors.secret_key; edit the movie to set it again", 400) from None

    async def _resolve_alist(self, room_id: str, movie: Movie, info: dict[str, Any]) -> Resolved:
        sid, inner = split_path(str(info.get("path", "")))
        password = self.open_movie_password(room_id, str(info.get("password", "")))

        async def get(account: AlistAccount) -> Resolved:
            obj = await self.alist.fs_get(account.host, account.token, inner, password)
            if obj.is_dir:
                raise VendorError("this alist path is a folder, not a file", 400)
            if not obj.raw_url:
                raise VendorError("alist gave no raw url for this file")
            folder = posixpath.dirname(inner)
            subs = [r for r in obj.related
                    if r.type == TYPE_TEXT and not r.is_dir and not r.name.lower().endswith(".xml")][:MAX_SUBTITLES]
            found = await asyncio.gather(*(self.alist.fs_get(account.host, account.token,
                                                             posixpath.join(folder, r.name), password)
                                           for r in subs), return_exceptions=True)
            subtitles = tuple(Subtitle(r.name, f.raw_url, infer_type("/" + r.name, ""))
                              for r, f in zip(subs, found, strict=True)
                              if not isinstance(f, BaseException) and f.raw_url)
            return Resolved(url=obj.raw_url, type=infer_type("/" + obj.name, ""), subtitles=subtitles)

        return await self.with_alist(movie.creator_id, sid, get)


def vendors(svc: Services) -> Vendors:
    """This instance's vendors layer, created on first use."""
    if svc.vendors is None:
        svc.vendors = Vendors(svc)
    return svc.vendors


def forget_vendor_movie(svc: Services, movie_id: str) -> None:
    if svc.vendors is not None:
        svc.vendors.resolved.forget_movie(movie_id)
