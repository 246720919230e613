"""The media proxy's per-instance objects, created on first use and closed with the application."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from synctv.config import parse_duration, parse_size
from synctv.media.cache import DiskStore, MemoryStore, SliceCache, SliceStore
from synctv.media.fetcher import DEFAULT_USER_AGENT, Fetcher, FetcherSettings
from synctv.media.ssrf import AddressPolicy
from synctv.media.streams import StreamRegistry
from synctv.media.tokens import TargetTokens
from synctv.services import Services


class Grants:
    """Recently checked (credentials, room, movie) -> what the check found, for a few seconds.

    A player fetches a segment every few seconds per viewer; re-running authentication, room access and the movie
    lookup (three database reads) for each one dominated the proxy's cost. A grant lives `ttl` seconds at most,
    and every grant of a movie is dropped at once when the movie is edited or deleted.
    """

    def __init__(self, ttl: float = 10.0, limit: int = 20_000) -> None:
        self.ttl = ttl
        self.limit = limit
        self._items: dict[tuple[str, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[str, ...]) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            del self._items[key]
            return None
        return item[1]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        if len(self._items) >= self.limit:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            if len(self._items) >= self.limit:
                self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl, value)

    def forget_movie(self, movie_id: str) -> None:
        for key in [k for k in self._items if movie_id in k]:
            del self._items[key]


@dataclass
class MediaProxy:
    fetcher: Fetcher
    tokens: TargetTokens
    streams: StreamRegistry
    playlist_max_bytes: int
    cache: SliceCache | None = None
    grants: Grants = field(default_factory=Grants)

    async def close(self) -> None:
        await self.streams.close()
        await self.fetcher.close()


def _policy_source(svc: Services) -> AddressPolicy:
    settings = svc.store.settings
    key = (settings.bool("allow_proxy_to_local"), str(settings.get("proxy_allowlist") or ""))
    cached = _POLICIES.get(key)
    if cached is None:
        if len(_POLICIES) > 64:
            _POLICIES.clear()
        cached = _POLICIES[key] = AddressPolicy.parse(*key)
    return cached


_POLICIES: dict[tuple[bool, str], AddressPolicy] = {}


def fetcher_settings(svc: Services) -> FetcherSettings:
    px = svc.cfg.proxy
    return FetcherSettings(user_agent=px.user_agent or DEFAULT_USER_AGENT,
                           connect_timeout=parse_duration(px.connect_timeout, "proxy.connect_timeout"),
                           read_timeout=parse_duration(px.read_timeout, "proxy.read_timeout"),
                           max_redirects=px.max_redirects, max_streams=px.max_streams,
                           max_streams_per_user=px.max_streams_per_user)


def media_proxy(svc: Services) -> MediaProxy:
    """This instance's media proxy (the shared fetcher lives in it), created on first use."""
    if svc.media is None:
        svc.media = MediaProxy(
            fetcher=Fetcher(lambda: _policy_source(svc), fetcher_settings(svc)),
            tokens=TargetTokens(svc.cfg.jwt.secret, parse_duration(svc.cfg.proxy.target_token_ttl,
                                                                   "proxy.target_token_ttl")),
            streams=StreamRegistry(),
            playlist_max_bytes=svc.cfg.proxy.playlist_max_bytes)
    return svc.media


def slice_cache(svc: Services) -> SliceCache | None:
    """The slice cache when the site setting `proxy_cache_enable` is on (memory, or `server.proxy_cache_path`)."""
    if not svc.store.settings.bool("proxy_cache_enable"):
        return None
    mp = media_proxy(svc)
    if mp.cache is None:
        size = parse_size(svc.cfg.server.proxy_cache_size, "server.proxy_cache_size")
        store: SliceStore = (DiskStore(svc.cfg.resolve_path(svc.cfg.server.proxy_cache_path), size)
                             if svc.cfg.server.proxy_cache_path else MemoryStore(size))
        mp.cache = SliceCache(store)
    return mp.cache


def cancel_proxy_streams(svc: Services, movie_id: str) -> int:
    """Stop every proxy stream of `movie_id` on this instance; the cluster's invalidation path calls this too."""
    if svc.media is None:
        return 0
    svc.media.grants.forget_movie(movie_id)
    return svc.media.streams.cancel_movie(movie_id)
