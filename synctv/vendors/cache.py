"""Resolved playback sources per (movie, sub path), reused until the vendor's URLs expire.

Dropped per movie when it is edited, deleted or set as current (on every instance, through the proxy-movie
invalidation), so a change never keeps serving a stale URL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Subtitle:
    name: str
    url: str
    type: str


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    url: str
    type: str


@dataclass(frozen=True, slots=True)
class Resolved:
    url: str
    type: str
    headers: dict[str, str] = field(default_factory=dict)
    subtitles: tuple[Subtitle, ...] = ()
    more_sources: tuple[Source, ...] = ()
    play_session_id: str = ""  # Emby: the transcode session to stop when the cache is dropped
    proxy_required: bool = False  # the URLs only answer the proxy (e.g. bound to the User-Agent that resolved them)
    max_age: float = 0.0  # the vendor's own expiry in seconds, when shorter than vendors.url_ttl (0: none)
    refreshed_ns: int = 0  # with a max_age: when it was resolved (ns since the epoch), the movie's expireId
    duration: float = 0.0  # seconds, from the vendor's metadata; 0 = unknown


class ResolvedCache:
    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._items: dict[tuple[str, str], tuple[float, Resolved]] = {}

    def get(self, movie_id: str, sub_path: str) -> Resolved | None:
        item = self._items.get((movie_id, sub_path))
        if item is None:
            return None
        if item[0] < time.monotonic():
            del self._items[(movie_id, sub_path)]
            return None
        return item[1]

    def put(self, movie_id: str, sub_path: str, value: Resolved, ttl: float) -> None:
        if len(self._items) >= self.limit:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            if len(self._items) >= self.limit:
                self._items.clear()
        self._items[(movie_id, sub_path)] = (time.monotonic() + ttl, value)

    def forget_movie(self, movie_id: str) -> int:
        keys = [k for k in self._items if k[0] == movie_id]
        for key in keys:
            del self._items[key]
        return len(keys)

    def __len__(self) -> int:
        return len(self._items)
