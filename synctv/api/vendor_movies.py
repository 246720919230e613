"""Vendor movies in the playlist: checked and sealed when pushed or edited, resolved when played."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from synctv.api.routes_proxy import proxy_path
from synctv.api.views import movie_base
from synctv.core.movies import without_secrets
from synctv.services import Services
from synctv.store.models import Movie
from synctv.vendors.errors import VendorError
from synctv.vendors.service import ALIST, EMBY, movie_password_binding, split_path, vendors


def vendor_of(base: dict[str, Any]) -> str:
    return str((base.get("vendorInfo") or {}).get("vendor") or "")


async def prepare(svc: Services, room_id: str, creator_id: str, base: dict[str, Any],
                  old: dict[str, Any] | None = None) -> dict[str, Any]:
    """The creator's binding must exist (it is what plays the movie); a folder password is sealed at rest, and an
    edit that leaves it empty keeps the one already set for the same path (the API never shows it)."""
    vendor = vendor_of(base)
    if not vendor:
        return base
    vs = vendors(svc)
    if vendor == EMBY:
        await vs.account(creator_id, EMBY, base["vendorInfo"]["emby"]["path"].partition("/")[0])
        return base
    if vendor != ALIST:
        raise VendorError(f"vendor {vendor} is not available on this server", 400)
    info = base["vendorInfo"]["alist"]
    sid, _ = split_path(info["path"])
    await vs.account(creator_id, ALIST, sid)
    password = info.get("password", "")
    if password:
        sealed = vs.box.seal_text(password, movie_password_binding(room_id))
    else:
        old_info = ((old or {}).get("vendorInfo") or {}).get("alist") or {}
        sealed = old_info.get("password", "") if old_info.get("path") == info["path"] else ""
    return dict(base, vendorInfo=dict(base["vendorInfo"], alist=dict(info, password=sealed)))


async def playback(svc: Services, room_id: str, token: str, movie: Movie, base: dict[str, Any],
                   sub_path: str) -> dict[str, Any]:
    """The base `/current` hands out: fresh vendor URLs, or the proxy's URLs when the movie is proxied."""
    resolved = await vendors(svc).resolve(room_id, movie, base, sub_path)
    out = dict(base, url=resolved.url, type=base.get("type") or resolved.type, headers=dict(resolved.headers),
               subtitles={s.name: {"url": s.url, "type": s.type} for s in resolved.subtitles},
               moreSources=[{"name": s.name, "url": s.url, "type": s.type} for s in resolved.more_sources])
    if base.get("proxy"):
        url = proxy_path(movie.id, token, room_id)
        out["url"], out["headers"] = url, {}
        out["subtitles"] = {s.name: {"url": f"{url}&{urlencode({'t': 'subtitle', 'id': i})}", "type": s.type}
                            for i, s in enumerate(resolved.subtitles)}
        out["moreSources"] = [{"name": s.name, "type": s.type, "url": f"{url}&{urlencode({'source': i + 1})}"}
                              for i, s in enumerate(resolved.more_sources)]
    return without_secrets(out)


async def release_current(svc: Services, room_id: str, movie_id: str) -> None:
    """The current movie is about to change: a transcoded Emby movie's encode is stopped (upstream's ClearCache)."""
    if not movie_id or svc.vendors is None:
        return
    movie = await svc.store.movies.get(room_id, movie_id)
    if movie is not None and vendor_of(movie_base(movie)):
        await svc.vendors.release(movie, movie_base(movie))
