"""The vendors layer of one instance: users' bindings (sealed at rest), the vendor clients, resolved URLs.

A binding's vendor token is refreshed transparently: when the vendor rejects it, the stored credentials log in
again once and the call is retried with the new token, which is sealed back into the row.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from synctv.config import parse_duration
from synctv.core.movies import infer_type
from synctv.core.room import SOURCE_MAX_AGE_S
from synctv.media.service import media_proxy
from synctv.services import Services
from synctv.store.models import Movie
from synctv.vendors.alist.api import (
    ALIYUN_PROVIDERS,
    TYPE_TEXT,
    UA_BOUND_PROVIDERS,
    VIDEO_PREVIEW,
    AlistApi,
    server_id,
)
from synctv.vendors.alist.local import HttpAlist
from synctv.vendors.backends import Backends
from synctv.vendors.cache import Resolved, ResolvedCache, Source, Subtitle
from synctv.vendors.emby.api import EmbyApi, MediaSource
from synctv.vendors.emby.local import HttpEmby
from synctv.vendors.errors import NotBound, TokenRejected, VendorError
from synctv.vendors.http import VendorHttp
from synctv.vendors.remote.client import RemoteAlist, RemoteEmby
from synctv.vendors.secrets import SecretBox, SecretsError, parse_key

T = TypeVar("T")
ALIST = "alist"
EMBY = "emby"
SERVER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_SUBTITLES = 16
ALIYUN_MAX_AGE = float(SOURCE_MAX_AGE_S)  # an Aliyun drive's transcode URLs live about 15 minutes


@dataclass(frozen=True, slots=True)
class Account:
    """A binding, opened: everything in it was sealed at rest."""

    vendor: str
    server_id: str
    backend: str
    host: str
    username: str
    password: str  # Alist: the sha256 form; Emby: the password itself (to log in again when a token dies)
    token: str
    user_id: str = ""  # Emby's user id

    def sealed_fields(self) -> dict[str, str]:
        return {"host": self.host, "username": self.username, "password": self.password, "token": self.token,
                "userId": self.user_id}


def _bound(vendor: str, user_id: str, sid: str) -> str:
    return f"{vendor}:{user_id}:{sid}"


def split_path(path: str) -> tuple[str, str]:
    """`<serverId>/<path inside the server>` -> (serverId, `/normalised/path`)."""
    sid, _, rest = path.partition("/")
    inner = posixpath.normpath("/" + rest.strip("/")) if rest.strip("/") else "/"
    return sid, "/" if inner in ("/", "//") else inner


def below(folder: str, sub_path: str) -> str:
    """`sub_path` inside `folder`, never above it (a dynamic folder shows its own subtree only)."""
    joined = posixpath.normpath(posixpath.join(folder, sub_path.strip("/")))
    if joined != folder and not joined.startswith(folder.rstrip("/") + "/"):
        raise VendorError("subPath leaves the folder", 400)
    return joined


def movie_password_binding(room_id: str) -> str:
    return f"alist-movie-password:{room_id}"


class Vendors:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.box = SecretBox(parse_key(svc.cfg.vendors.secret_key))
        self.timeout = parse_duration(svc.cfg.vendors.timeout, "vendors.timeout")
        self.url_ttl = parse_duration(svc.cfg.vendors.url_ttl, "vendors.url_ttl")
        self.alist: AlistApi = HttpAlist(VendorHttp(lambda: media_proxy(svc).fetcher, self.timeout, ALIST))
        self.emby: EmbyApi = HttpEmby(VendorHttp(lambda: media_proxy(svc).fetcher, self.timeout, EMBY))
        self.backends = Backends(svc.store, self.box)
        self.resolved = ResolvedCache()
        self._resolving: dict[tuple[str, str], asyncio.Future[Resolved]] = {}

    async def close(self) -> None:
        await self.backends.close()

    # -- which implementation --------------------------------------------------------------------------------

    async def alist_for(self, backend: str) -> tuple[AlistApi, str]:
        """The backend's Alist (and the name to store), or the in-process one for an empty or unknown name."""
        await self.backends.ensure_loaded()
        pool = self.backends.pool_for(ALIST, backend)
        return (RemoteAlist(pool), backend) if pool is not None else (self.alist, "")

    async def emby_for(self, backend: str) -> tuple[EmbyApi, str]:
        await self.backends.ensure_loaded()
        pool = self.backends.pool_for(EMBY, backend)
        return (RemoteEmby(pool), backend) if pool is not None else (self.emby, "")

    # -- bindings ------------------------------------------------------------------------------------------

    async def _store(self, user_id: str, account: Account) -> None:
        sealed = self.box.seal_json(account.sealed_fields(), _bound(account.vendor, user_id, account.server_id))
        await self.svc.store.vendor_accounts.put(user_id, account.vendor, account.server_id, account.backend, sealed)

    async def alist_bind(self, user_id: str, host: str, username: str, hashed_password: str, backend: str) -> str:
        api, backend = await self.alist_for(backend)
        token = await api.login(host, username, hashed_password)
        account = Account(ALIST, server_id(host), backend, host, username, hashed_password, token)
        await self._store(user_id, account)
        return account.server_id

    async def emby_bind(self, user_id: str, host: str, username: str, password: str, backend: str) -> str:
        api, backend = await self.emby_for(backend)
        login = await api.login(host, username, password)
        if not login.server_id or not SERVER_ID.fullmatch(login.server_id):
            raise VendorError("emby login answered no usable server id")
        account = Account(EMBY, login.server_id, backend, host, username, password, login.token, login.user_id)
        await self._store(user_id, account)
        return account.server_id

    def _open(self, user_id: str, vendor: str, sid: str, backend: str, sealed: bytes) -> Account:
        try:
            data = self.box.open_json(sealed, _bound(vendor, user_id, sid))
        except SecretsError:
            raise NotBound(f"this {vendor} binding cannot be read with this server's vendors.secret_key; "
                           "log in to it again") from None
        return Account(vendor, sid, backend, str(data.get("host", "")), str(data.get("username", "")),
                       str(data.get("password", "")), str(data.get("token", "")), str(data.get("userId", "")))

    async def accounts(self, user_id: str, vendor: str) -> list[Account]:
        out = []
        for row in await self.svc.store.vendor_accounts.for_user(user_id, vendor):
            try:
                out.append(self._open(user_id, vendor, row.server_id, row.backend, row.sealed))
            except NotBound:
                continue  # sealed under another key: shown nowhere until bound again
        return out

    async def account(self, user_id: str, vendor: str, sid: str) -> Account:
        row = await self.svc.store.vendor_accounts.get(user_id, vendor, sid) if sid else None
        if row is None:
            raise NotBound(f"not logged in to this {vendor} server")
        return self._open(user_id, vendor, sid, row.backend, row.sealed)

    async def _relogin(self, user_id: str, account: Account) -> Account:
        if account.vendor == ALIST:
            alist, _ = await self.alist_for(account.backend)
            token, emby_user = await alist.login(account.host, account.username, account.password), ""
        else:
            emby, _ = await self.emby_for(account.backend)
            login = await emby.login(account.host, account.username, account.password)
            token, emby_user = login.token, login.user_id
        fresh = Account(account.vendor, account.server_id, account.backend, account.host, account.username,
                        account.password, token, emby_user or account.user_id)
        await self.svc.store.vendor_accounts.reseal(user_id, account.vendor, account.server_id, self.box.seal_json(
            fresh.sealed_fields(), _bound(account.vendor, user_id, account.server_id)))
        return fresh

    async def with_alist(self, user_id: str, sid: str, call: Callable[[AlistApi, Account], Awaitable[T]]) -> T:
        """Run `call` with the binding's Alist implementation (its backend's, or in-process)."""
        async def run(account: Account) -> T:
            api, _ = await self.alist_for(account.backend)
            return await call(api, account)
        return await self.with_account(user_id, ALIST, sid, run)

    async def with_emby(self, user_id: str, sid: str, call: Callable[[EmbyApi, Account], Awaitable[T]]) -> T:
        async def run(account: Account) -> T:
            api, _ = await self.emby_for(account.backend)
            return await call(api, account)
        return await self.with_account(user_id, EMBY, sid, run)

    async def with_account(self, user_id: str, vendor: str, sid: str,
                           call: Callable[[Account], Awaitable[T]]) -> T:
        account = await self.account(user_id, vendor, sid)
        try:
            return await call(account)
        except TokenRejected:
            account = await self._relogin(user_id, account)
        try:
            return await call(account)
        except TokenRejected as exc:
            raise VendorError(f"{vendor} keeps refusing a fresh token: {exc}") from None

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
            self.resolved.put(movie.id, sub_path, value,
                              min(self.url_ttl, value.max_age) if value.max_age > 0 else self.url_ttl)
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
        folder = bool(base.get("isFolder"))
        if folder and not sub_path:
            raise VendorError("a dynamic folder plays one of its files: give its subPath", 400)
        if info.get("vendor") == ALIST:
            return await self._resolve_alist(room_id, movie, info.get("alist") or {}, sub_path if folder else "")
        if info.get("vendor") == EMBY:
            return await self._resolve_emby(movie, info.get("emby") or {}, sub_path if folder else "")
        raise VendorError(f"vendor {str(info.get('vendor'))[:32]} is not available on this server", 400)

    def open_movie_password(self, room_id: str, sealed: str) -> str:
        if not sealed:
            return ""
        try:
            return self.box.open_text(sealed, movie_password_binding(room_id))
        except SecretsError:
            raise VendorError("this movie's alist folder password cannot be read with this server's "
                              "vendors.secret_key; edit the movie to set it again", 400) from None

    async def _resolve_alist(self, room_id: str, movie: Movie, info: dict[str, Any], sub_path: str) -> Resolved:
        sid, inner = split_path(str(info.get("path", "")))
        if sub_path:
            inner = below(inner, sub_path)
        password = self.open_movie_password(room_id, str(info.get("password", "")))

        # Alist resolves a raw URL for the User-Agent of the request; some providers' links only answer that one,
        # so it is the proxy's, and such a movie plays through the proxy.
        user_agent = media_proxy(self.svc).fetcher.settings.user_agent

        async def get(alist: AlistApi, account: Account) -> Resolved:
            obj = await alist.fs_get(account.host, account.token, inner, password, user_agent)
            if obj.is_dir:
                raise VendorError("this alist path is a folder, not a file", 400)
            if not obj.raw_url:
                raise VendorError("alist gave no raw url for this file")
            folder = posixpath.dirname(inner)
            subs = [r for r in obj.related
                    if r.type == TYPE_TEXT and not r.is_dir and not r.name.lower().endswith(".xml")][:MAX_SUBTITLES]
            found = await asyncio.gather(*(alist.fs_get(account.host, account.token,
                                                             posixpath.join(folder, r.name), password)
                                           for r in subs), return_exceptions=True)
            subtitles = tuple(Subtitle(r.name, f.raw_url, infer_type("/" + r.name, ""))
                              for r, f in zip(subs, found, strict=True)
                              if not isinstance(f, BaseException) and f.raw_url)
            raw_type = infer_type("/" + obj.name, "")
            if obj.provider in ALIYUN_PROVIDERS:
                transcoded = await self._aliyun_transcodes(alist, account, inner, password, obj.raw_url, raw_type)
                if transcoded is not None:
                    main, more, ali_subs = transcoded
                    return Resolved(url=main.url, type=main.type, subtitles=ali_subs + subtitles,
                                    more_sources=more, max_age=ALIYUN_MAX_AGE, refreshed_ns=time.time_ns())
            if obj.provider in UA_BOUND_PROVIDERS:
                return Resolved(url=obj.raw_url, type=raw_type, headers={"User-Agent": user_agent},
                                subtitles=subtitles, proxy_required=True)
            return Resolved(url=obj.raw_url, type=raw_type, subtitles=subtitles)

        return await self.with_alist(movie.creator_id, sid, get)

    @staticmethod
    async def _aliyun_transcodes(alist: AlistApi, account: Account, path: str, password: str, raw_url: str,
                                 raw_type: str) -> tuple[Source, tuple[Source, ...], tuple[Subtitle, ...]] | None:
        """An Aliyun drive's transcoded HLS qualities (best first, the raw file last as `raw`), or None when the
        drive has none ready (the raw file then plays alone)."""
        try:
            preview = await alist.fs_other(account.host, account.token, path, password, VIDEO_PREVIEW)
        except VendorError:
            return None  # no transcode (yet): the raw file still plays
        ready = sorted((t for t in preview.tasks if t.url and t.status == "finished"),
                       key=lambda t: (t.height, t.width), reverse=True)
        if not ready:
            return None
        sources = [Source(t.template_name or t.template_id or f"{t.height}p", t.url, "m3u8") for t in ready]
        subtitles = tuple(Subtitle(s.language or f"subtitle {n}", s.url, infer_type("/x.vtt", ""))
                          for n, s in enumerate(preview.subtitles) if s.url and s.status == "finished")
        return sources[0], (*sources[1:], Source("raw", raw_url, raw_type)), subtitles

    async def _resolve_emby(self, movie: Movie, info: dict[str, Any], sub_path: str) -> Resolved:
        sid, _, item_id = str(info.get("path", "")).partition("/")
        if sub_path:
            if not SERVER_ID.fullmatch(sub_path):
                raise VendorError("invalid emby item id in subPath", 400)
            item_id = sub_path
        transcode = info.get("transcode") is True

        async def get(emby: EmbyApi, account: Account) -> Resolved:
            played = await emby.playback_info(account.host, account.token, account.user_id, item_id)
            if not played.sources:
                raise VendorError("emby has no playable source for this item", 404)
            sources = [self._emby_source(account, item_id, src, transcode) for src in played.sources]
            first = played.sources[0]
            subtitles = tuple(
                Subtitle(sub.title or sub.language or f"subtitle {sub.index}",
                         f"{account.host}/Videos/{quote(item_id)}/{quote(first.id)}/Subtitles/{sub.index}/Stream.srt"
                         f"?{urlencode({'api_key': account.token})}", "srt")
                for sub in first.subtitles)
            main = sources[0]
            return Resolved(url=main.url, type=main.type, subtitles=subtitles, more_sources=tuple(sources[1:]),
                            play_session_id=played.play_session_id if transcode else "",
                            duration=first.duration_s)

        return await self.with_emby(movie.creator_id, sid, get)

    @staticmethod
    def _emby_source(account: Account, item_id: str, src: MediaSource, transcode: bool) -> Source:
        if transcode and src.transcoding_url:
            url, kind = account.host + src.transcoding_url, "m3u8"
        else:
            query = urlencode({"api_key": account.token, "Static": "true", "MediaSourceId": src.id})
            url = f"{account.host}/Videos/{quote(item_id)}/stream.{src.container or 'mp4'}?{query}"
            kind = infer_type("/x." + (src.container or "mp4").split(",")[0], "")
        return Source(src.name or src.container, url, kind)

    async def release(self, movie: Movie, base: dict[str, Any]) -> None:
        """A movie stops being current: drop its sources here, and stop a transcoded Emby movie's encode on the
        Emby server (best effort: the encode also ends by itself when nobody fetches it)."""
        resolved = self.resolved.get(movie.id, "")
        self.resolved.forget_movie(movie.id)
        info = base.get("vendorInfo") or {}
        if info.get("vendor") != EMBY or resolved is None or not resolved.play_session_id:
            return
        sid = str((info.get("emby") or {}).get("path", "")).partition("/")[0]
        session = resolved.play_session_id
        try:
            await self.with_emby(movie.creator_id, sid,
                                 lambda emby, a: emby.delete_active_encodings(a.host, a.token, session))
        except VendorError:
            pass


def vendors(svc: Services) -> Vendors:
    """This instance's vendors layer, created on first use."""
    if svc.vendors is None:
        svc.vendors = Vendors(svc)
    return svc.vendors


async def reload_vendor_backends(svc: Services) -> None:
    """Another instance (or this one) changed the backends: rebuild the pools here (if any were built)."""
    if svc.vendors is not None and svc.vendors.backends.loaded:
        await svc.vendors.backends.reload()


def forget_vendor_movie(svc: Services, movie_id: str) -> None:
    if svc.vendors is not None:
        svc.vendors.resolved.forget_movie(movie_id)
