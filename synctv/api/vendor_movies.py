"""Vendor movies in the playlist: checked and sealed when pushed or edited, resolved when played."""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urlencode

from synctv.api.responses import forbidden
from synctv.api.routes_proxy import proxy_path
from synctv.api.views import movie_base
from synctv.core import commands as c
from synctv.core.commands import UserRef
from synctv.core.movies import infer_type, without_secrets
from synctv.services import Services
from synctv.store.ids import to_ms
from synctv.store.models import Movie
from synctv.store.pagination import ListQuery
from synctv.vendors.emby.api import EmbyApi
from synctv.vendors.errors import VendorError
from synctv.vendors.service import (
    ALIST,
    EMBY,
    SERVER_ID,
    Account,
    below,
    movie_password_binding,
    split_path,
    vendors,
)


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
                   sub_path: str, viewer: UserRef) -> tuple[dict[str, Any], int]:
    """The base `/current` hands out (fresh vendor URLs, or the proxy's URLs when the movie is proxied), and the
    expiry token of sources that die on their own (0: the movie's usual one). A length the vendor knows (Emby's
    RunTimeTicks) tells the room where its clock stops."""
    resolved = await vendors(svc).resolve(room_id, movie, base, sub_path)
    if resolved.duration > 0:
        await svc.router.submit(room_id, c.ReportDuration(viewer, movie.id, resolved.duration, from_metadata=True))
    out = dict(base, url=resolved.url, type=base.get("type") or resolved.type, headers=dict(resolved.headers),
               subtitles={s.name: {"url": s.url, "type": s.type} for s in resolved.subtitles},
               moreSources=[{"name": s.name, "url": s.url, "type": s.type} for s in resolved.more_sources])
    if base.get("proxy") or resolved.proxy_required:
        url = proxy_path(movie.id, token, room_id)
        if sub_path:
            url += "&" + urlencode({"subPath": sub_path})
        out["url"], out["headers"] = url, {}
        out["subtitles"] = {s.name: {"url": f"{url}&{urlencode({'t': 'subtitle', 'id': i})}", "type": s.type}
                            for i, s in enumerate(resolved.subtitles)}
        out["moreSources"] = [{"name": s.name, "type": s.type, "url": f"{url}&{urlencode({'source': i + 1})}"}
                              for i, s in enumerate(resolved.more_sources)]
    return without_secrets(out), resolved.refreshed_ns


async def release_current(svc: Services, room_id: str, movie_id: str) -> None:
    """The current movie is about to change: a transcoded Emby movie's encode is stopped (upstream's ClearCache)."""
    if not movie_id or svc.vendors is None:
        return
    movie = await svc.store.movies.get(room_id, movie_id)
    if movie is not None and vendor_of(movie_base(movie)):
        await svc.vendors.release(movie, movie_base(movie))


async def list_dynamic(svc: Services, viewer_id: str, folder: Movie, sub_path: str, q: ListQuery,
                       paths: list[dict[str, str]]) -> dict[str, Any]:
    """A dynamic folder's page, from the vendor with its creator's binding (only the creator may browse it)."""
    if viewer_id != folder.creator_id:
        raise forbidden("only the creator of a dynamic folder can browse it")
    base = movie_base(folder)
    info = base["vendorInfo"]
    vs = vendors(svc)
    creator = await svc.store.users.get(folder.creator_id)
    entries: list[tuple[str, str, bool]]  # (name, sub path, is folder)
    if info["vendor"] == ALIST:
        sid, inner = split_path(info["alist"]["path"])
        here = below(inner, sub_path) if sub_path else inner
        password = vs.open_movie_password(folder.room_id, info["alist"].get("password", ""))
        if q.keyword:
            found = await vs.with_alist(folder.creator_id, sid, lambda a, acc: a.fs_search(
                acc.host, acc.token, here, q.keyword, password, q.page, q.max))
            entries = [(o.name, posixpath.relpath(posixpath.join(o.parent or "/", o.name), inner), o.is_dir)
                       for o in found.content]
            total = found.total
        else:
            listing = await vs.with_alist(folder.creator_id, sid, lambda a, acc: a.fs_list(
                acc.host, acc.token, here, password, q.page, q.max, False))
            entries = [(o.name, posixpath.relpath(posixpath.join(here, o.name), inner), o.is_dir)
                       for o in listing.content]
            total = listing.total
        walked = ""
        crumbs = [{"name": folder.name, "id": folder.id, "subPath": ""}]
        for part in [p for p in posixpath.relpath(here, inner).split("/") if p not in ("", ".")]:
            walked = f"{walked}/{part}" if walked else part
            crumbs.append({"name": part, "id": folder.id, "subPath": walked})
    elif info["vendor"] == EMBY:
        sid, _, root_item = info["emby"]["path"].partition("/")
        if sub_path and not SERVER_ID.fullmatch(sub_path):
            raise VendorError("invalid emby item id in subPath", 400)
        parent = sub_path or root_item

        async def browse(emby: EmbyApi, acc: Account) -> tuple[Any, Any]:
            found = await emby.get_items(acc.host, acc.token, acc.user_id, parent, q.keyword,
                                         (q.page - 1) * q.max, q.max)
            here = await emby.get_item(acc.host, acc.token, acc.user_id, sub_path) if sub_path else None
            return found, here

        children, current = await vs.with_emby(folder.creator_id, sid, browse)
        entries = [(i.name, i.id, i.is_folder) for i in children.items]
        total = children.total
        crumbs = [{"name": folder.name, "id": folder.id, "subPath": ""}]
        if current is not None:
            crumbs.append({"name": current.name, "id": folder.id, "subPath": sub_path})
    else:
        raise VendorError(f"vendor {info['vendor']} is not available on this server", 400)
    public = without_secrets(base)
    movies = [{"id": folder.id, "creator": creator.username if creator else "", "creatorId": folder.creator_id,
               "subPath": child, "createAt": to_ms(folder.created_at),
               "base": dict(public, name=name, isFolder=is_dir, url="", parentId=folder.id,
                            type="" if is_dir else infer_type("/" + name, ""))}
              for name, child, is_dir in entries]
    return {"paths": paths + crumbs[1:] if paths and paths[-1].get("id") == folder.id else paths + crumbs,
            "movies": movies, "total": total, "dynamic": True}
