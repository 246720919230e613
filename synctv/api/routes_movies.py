"""`/api/room/movie`: the playlist and the current movie. Every successful change is announced over the room."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from synctv.api import vendor_movies
from synctv.api.auth import RoomCtx, request_token, room_access
from synctv.api.context import services
from synctv.api.requests import field_id, field_str, json_body, json_object, page_query, validated
from synctv.api.responses import bad_request, forbidden, no_content, not_found, ok, room_error
from synctv.api.routes_live import playback_urls as live_playback_urls
from synctv.api.routes_proxy import proxy_path
from synctv.api.routing import Routes
from synctv.api.views import EMPTY_BASE, api_movie, movie_base
from synctv.core import commands as c
from synctv.core import movies as movie_rules
from synctv.core import playback
from synctv.core.permissions import Perm
from synctv.core.playback import CurrentMovie
from synctv.core.room import expire_id
from synctv.core.validation import is_id
from synctv.live.pull import check_rtmp_target, is_pull_source
from synctv.media.errors import ProxyError
from synctv.media.service import media_proxy
from synctv.services import Services
from synctv.store.models import Movie

routes = Routes("movies")
MAX_BATCH = 100


async def _current_state(svc: Services, room_id: str) -> playback.Current:
    return (await svc.router.state(room_id)).current


async def _protected_ids(svc: Services, room_id: str) -> set[str]:
    """The current movie and its ancestor folders: they cannot be edited or deleted."""
    current = await _current_state(svc, room_id)
    if not current.movie.id:
        return set()
    return set(await svc.store.movies.ancestors(room_id, current.movie.id))


async def _notify_movies(svc: Services, ctx: RoomCtx) -> None:
    await svc.router.submit(ctx.room_id, c.NotifyMovies(ctx.user.ref))


async def _play_if_idle(svc: Services, ctx: RoomCtx, movies: list[Movie]) -> None:
    """The first movie added to a room with nothing playing starts at once (for someone allowed to start it)."""
    first = next((m for m in movies if not m.is_folder), None)
    if first is None or not ctx.can(Perm.SET_CURRENT_MOVIE):
        return
    if (await _current_state(svc, ctx.room_id)).movie.id:
        return
    live = bool(movie_base(first).get("live"))
    await svc.router.submit(ctx.room_id, c.SetCurrentMovie(ctx.user.ref, CurrentMovie(id=first.id, is_live=live)))


def _proxy_rules(svc: Services) -> movie_rules.ProxyRules:
    settings = svc.store.settings
    return movie_rules.ProxyRules(movie_proxy=settings.bool("movie_proxy"), live_proxy=settings.bool("live_proxy"),
                                  rtmp=svc.cfg.server.rtmp.enable)


async def _validated_base(svc: Services, body: Any) -> dict[str, Any]:
    """Upstream's validation, plus the proxy target's address (resolved now; re-checked on every fetch)."""
    base: dict[str, Any] = validated(movie_rules.normalize, body, proxy=_proxy_rules(svc))
    if base.get("proxy") and not base.get("isFolder") and not vendor_movies.vendor_of(base):
        try:
            if urlsplit(base["url"]).scheme.lower() == "rtmp":
                await check_rtmp_target(media_proxy(svc).fetcher, base["url"])
            else:
                await media_proxy(svc).fetcher.check_target(base["url"])
        except ProxyError as exc:
            raise bad_request(exc.message) from None
    return base


def _streamed(base: dict[str, Any]) -> bool:
    return bool(base.get("proxy") or base.get("rtmpSource"))


async def _stop_proxy_streams(svc: Services, movies: list[Movie]) -> None:
    """A changed or deleted proxied, vendor or live movie stops streaming on every instance (and its access
    grants end)."""
    ids = [m.id for m in movies if (not m.is_folder and _streamed(movie_base(m)))
           or vendor_movies.vendor_of(movie_base(m))]
    if ids:
        await svc.invalidate("proxy_movies", ",".join(ids))


@routes.get("/api/room/movie/current", "The current movie and playback status (extrapolated to now)", auth="room")
async def get_current(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    current = (await svc.router.state(ctx.room_id)).current
    expires = expire_id(current.movie.id)
    movie_json: dict[str, Any] = {"id": "", "creator": "", "creatorId": "", "subPath": "", "base": EMPTY_BASE,
                                  "createAt": 0}
    if current.movie.id:
        movie = await svc.store.movies.get(ctx.room_id, current.movie.id)
        if movie is not None:
            creator = await svc.store.users.get(movie.creator_id)
            movie_json = api_movie(movie, creator.username if creator else "", viewer_id=ctx.user.id,
                                   sub_path=current.movie.sub_path, for_playback=True)
            base = movie_json["base"]
            if vendor_movies.vendor_of(base):
                movie_json["base"], refreshed = await vendor_movies.playback(
                    svc, ctx.room_id, request_token(request), movie, movie_base(movie), current.movie.sub_path,
                    ctx.user.ref)
                expires = refreshed or expires
            elif base.get("rtmpSource") or is_pull_source(base):
                hls_url, flv_url = live_playback_urls(movie.id, request_token(request), ctx.room_id)
                base.update(url=hls_url, type="m3u8", headers={},
                            moreSources=[{"name": "flv", "type": "flv", "url": flv_url}])
            elif base.get("proxy"):
                # The type was inferred from the origin URL above; the URL itself stays private.
                base["url"] = proxy_path(movie.id, request_token(request), ctx.room_id)
                base["headers"] = {}
    return ok({"movie": movie_json, "status": playback.status_to_json(current.status),
               "expireId": expires})


@routes.post("/api/room/movie/current", "Set the current movie (empty id stops playback)", auth="room",
             body={"id": "string", "subPath": "string"})
async def set_current(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.SET_CURRENT_MOVIE)
    body = await json_object(request)
    movie_id = field_str(body, "id", required=False)
    sub_path = field_str(body, "subPath", required=False)
    if len(sub_path) > 4096:
        raise bad_request("subPath is too long")
    previous = (await _current_state(svc, ctx.room_id)).movie.id
    if not movie_id:
        reply = await svc.router.submit(ctx.room_id, c.SetCurrentMovie(ctx.user.ref, CurrentMovie()))
    else:
        if not is_id(movie_id):
            raise bad_request("invalid movie id")
        movie = await svc.store.movies.get(ctx.room_id, movie_id)
        if movie is None:
            raise not_found("movie not found")
        if movie.is_folder and not (sub_path and movie_rules.is_dynamic_folder(movie_base(movie))):
            raise bad_request("cannot set a folder as the current movie")
        live = bool(movie_base(movie).get("live"))
        if vendor_movies.vendor_of(movie_base(movie)):
            await svc.invalidate("proxy_movies", movie_id)  # fresh vendor URLs on every instance
        reply = await svc.router.submit(ctx.room_id, c.SetCurrentMovie(
            ctx.user.ref, CurrentMovie(id=movie_id, is_live=live, sub_path=sub_path)))
    if reply.error:
        raise room_error(reply.error)
    if previous and previous != movie_id:
        await vendor_movies.release_current(svc, ctx.room_id, previous)
        await _stop_pull(svc, ctx.room_id, previous)
    return no_content()


@routes.post("/api/room/movie/duration", "Report the current movie's length (seconds) as your player measured it",
             auth="room", body={"id": "string", "duration": "number"})
async def report_duration(request: web.Request) -> web.Response:
    """The room's clock stops at the longest length reported, once the clock itself gets there."""
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.SET_CURRENT_STATUS)
    body = await json_object(request)
    movie_id = field_id(body, "id", "movie id")
    duration = body.get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        raise bad_request("duration must be a number of seconds")
    reply = await svc.router.submit(ctx.room_id, c.ReportDuration(ctx.user.ref, movie_id, float(duration)))
    if reply.error:
        raise room_error(reply.error)
    return no_content()


async def _stop_pull(svc: Services, room_id: str, movie_id: str) -> None:
    """A pulled live movie that stops being current stops being pulled, on every instance (as upstream)."""
    movie = await svc.store.movies.get(room_id, movie_id)
    if movie is not None and is_pull_source(movie_base(movie)):
        await svc.invalidate("proxy_movies", movie_id)


async def _folder_paths(svc: Services, room_id: str, folder_id: str) -> list[dict[str, str]]:
    paths = [{"name": "Home", "id": "", "subPath": ""}]
    if not folder_id:
        return paths
    chain = await svc.store.movies.ancestors(room_id, folder_id)
    folders = {m.id: m for m in await svc.store.movies.get_many(room_id, chain)}
    for fid in reversed(chain):
        if fid in folders:
            paths.append({"name": folders[fid].name, "id": fid, "subPath": ""})
    return paths


@routes.get("/api/room/movie/movies", "The playlist (one folder, paginated)", auth="room",
            query=("id", "subPath", "keyword", "page", "max"))
async def list_movies(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.GET_MOVIE_LIST)
    folder_id = request.query.get("id", "")
    if folder_id:
        if not is_id(folder_id):
            raise bad_request("invalid folder id")
        folder = await svc.store.movies.get(ctx.room_id, folder_id)
        if folder is None or not folder.is_folder:
            raise not_found("folder not found")
        if movie_rules.is_dynamic_folder(movie_base(folder)):
            sub_path = request.query.get("subPath", "")
            if len(sub_path) > 4096:
                raise bad_request("subPath is too long")
            paths = await _folder_paths(svc, ctx.room_id, folder_id)
            return ok(await vendor_movies.list_dynamic(svc, ctx.user.id, folder, sub_path, page_query(request),
                                                       paths))
    q = page_query(request)
    total, rows = await svc.store.movies.list(ctx.room_id, folder_id, q)
    return ok({"paths": await _folder_paths(svc, ctx.room_id, folder_id),
               "movies": [api_movie(m, name, viewer_id=ctx.user.id) for m, name in rows],
               "total": total, "dynamic": False})


async def _check_parent(svc: Services, room_id: str, base: dict[str, Any]) -> None:
    parent = base.get("parentId")
    if parent:
        folder = await svc.store.movies.get(room_id, parent)
        if folder is None or not folder.is_folder:
            raise bad_request("parent folder not found")
        if movie_rules.is_dynamic_folder(movie_base(folder)):
            raise bad_request("a dynamic folder cannot contain other movies")


def _created(movie: Movie) -> dict[str, Any]:
    return {"id": movie.id, "creatorId": movie.creator_id, "base": movie_rules.without_secrets(movie_base(movie))}


@routes.post("/api/room/movie/push", "Add a movie or folder", auth="room", body={"url": "string", "name": "string",
                                                                               "type": "string", "live": "boolean",
                                                                               "isFolder": "boolean",
                                                                               "parentId": "string"}, status=200)
async def push(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.ADD_MOVIE)
    base = await _validated_base(svc, await json_object(request))
    base = await vendor_movies.prepare(svc, ctx.room_id, ctx.user.id, base)
    await _check_parent(svc, ctx.room_id, base)
    (movie,) = await svc.store.movies.add(ctx.room_id, ctx.user.id, [base])
    await _notify_movies(svc, ctx)
    await _play_if_idle(svc, ctx, [movie])
    return ok(_created(movie))


@routes.post("/api/room/movie/pushs", "Add several movies (all or nothing)", auth="room", body={"[]": "array"},
             status=200)
async def push_many(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.ADD_MOVIE)
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        raise bad_request("request body must be a non-empty JSON array")
    if len(body) > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} movies at once")
    bases = [await vendor_movies.prepare(svc, ctx.room_id, ctx.user.id, await _validated_base(svc, item))
             for item in body]
    for base in bases:
        await _check_parent(svc, ctx.room_id, base)
    movies = await svc.store.movies.add(ctx.room_id, ctx.user.id, bases)
    await _notify_movies(svc, ctx)
    await _play_if_idle(svc, ctx, movies)
    return ok([_created(m) for m in movies])


@routes.post("/api/room/movie/edit", "Replace a movie's fields", auth="room", body={"id": "string", "...": "object"})
async def edit(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.EDIT_MOVIE)
    body = await json_object(request)
    movie_id = field_id(body, "id", "movie id")
    movie = await svc.store.movies.get(ctx.room_id, movie_id)
    if movie is None:
        raise not_found("movie not found")
    base = await _validated_base(svc, body)
    base = await vendor_movies.prepare(svc, ctx.room_id, movie.creator_id, base, movie_base(movie))
    if base["isFolder"] != movie.is_folder:
        raise bad_request("cannot turn a movie into a folder or back")
    if base.get("parentId") == movie_id:
        raise bad_request("a folder cannot contain itself")
    await _check_parent(svc, ctx.room_id, base)
    if movie_id in await _protected_ids(svc, ctx.room_id):
        raise bad_request("cannot edit the current movie or a folder containing it")
    await svc.store.movies.update_base(ctx.room_id, movie_id, base)
    await _stop_proxy_streams(svc, [movie])
    await _notify_movies(svc, ctx)
    return no_content()


@routes.post("/api/room/movie/swap", "Swap two movies' positions", auth="room", body={"id1": "string",
                                                                                    "id2": "string"})
async def swap(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.EDIT_MOVIE)
    body = await json_object(request)
    id1, id2 = field_id(body, "id1", "movie id"), field_id(body, "id2", "movie id")
    if not await svc.store.movies.swap(ctx.room_id, id1, id2):
        raise not_found("movie not found")
    await _notify_movies(svc, ctx)
    return no_content()


@routes.post("/api/room/movie/delete", "Delete movies (your own, or any with DeleteMovie)", auth="room",
             body={"ids": "array"})
async def delete(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    body = await json_object(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_BATCH * 10:
        raise bad_request("ids must be a non-empty list")
    if not all(is_id(i) for i in ids):
        raise bad_request("invalid movie id")
    movies = await svc.store.movies.get_many(ctx.room_id, list(set(ids)))
    if len(movies) != len(set(ids)):
        raise not_found("movie not found")
    if not ctx.can(Perm.DELETE_MOVIE) and any(m.creator_id != ctx.user.id for m in movies):
        raise forbidden("no permission")
    if set(ids) & await _protected_ids(svc, ctx.room_id):
        raise bad_request("cannot delete the current movie or a folder containing it")
    doomed = await svc.store.movies.subtree(ctx.room_id, list(set(ids)))
    await svc.store.movies.delete(ctx.room_id, list(set(ids)))
    await _stop_proxy_streams(svc, doomed)
    await _notify_movies(svc, ctx)
    return no_content()


@routes.post("/api/room/movie/clear", "Delete everything in a folder (empty = the whole list)", auth="room",
             body={"parentId": "string"})
async def clear(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    ctx.require(Perm.DELETE_MOVIE)
    body = await json_object(request)
    parent = field_str(body, "parentId", required=False)
    if parent and not is_id(parent):
        raise bad_request("invalid parent id")
    protected = await _protected_ids(svc, ctx.room_id)
    if protected and (not parent or parent in protected):
        raise bad_request("cannot clear while the current movie is in it; stop playback first")
    doomed = await svc.store.movies.subtree(ctx.room_id, [parent] if parent else None)
    await svc.store.movies.clear(ctx.room_id, parent)
    await _stop_proxy_streams(svc, [m for m in doomed if m.id != parent])
    await _notify_movies(svc, ctx)
    return no_content()
