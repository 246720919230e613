"""`/api/room/movie/proxy`: the media proxy. Any instance serves any room: the room token and the database are
enough, no room ownership is involved, so viewers stay on the instance they are connected to."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import hdrs, web

from synctv.api.auth import RoomCtx, request_room_id, request_token, room_access
from synctv.api.context import services
from synctv.api.responses import bad_request, error, not_found
from synctv.api.routing import Routes
from synctv.api.views import movie_base
from synctv.core import commands as c
from synctv.core.movies import is_dynamic_folder
from synctv.core.validation import is_id
from synctv.media import hls
from synctv.media.cache import NotCacheable, SliceCache, SourceInfo, parse_content_range, source_key
from synctv.media.errors import ProxyError, UpstreamRefused
from synctv.media.service import MediaProxy, media_proxy, slice_cache
from synctv.media.streams import StreamScope
from synctv.media.tokens import source_version
from synctv.services import Services
from synctv.store.models import Movie
from synctv.vendors.service import vendors

routes = Routes("proxy")
CHUNK = 64 * 1024
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
COPIED_HEADERS = ("Accept-Ranges", "Cache-Control", "Content-Length", "Content-Range", "Content-Type", "ETag",
                  "Last-Modified")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# Proxied bytes are served from this server's origin: whatever the upstream claims they are, a browser must never
# run them as a page here (an origin serving HTML or SVG would otherwise get script access to users' tokens).
HARDENING = {"Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff"}


def proxy_path(movie_id: str, token: str, room_id: str) -> str:
    """What `GET /api/room/movie/current` hands out for a proxied movie (upstream's shape)."""
    query = {"token": token, "roomId": room_id} if token else {"roomId": room_id}
    return f"/api/room/movie/proxy/{movie_id}?{urlencode(query)}"


def client_range(request: web.Request) -> str | None:
    """One well-formed byte range, normalised; anything else is ignored (a full 200, as RFC 9110 allows)."""
    raw = request.headers.get(hdrs.RANGE, "").strip().replace(" ", "")
    match = _RANGE.fullmatch(raw)
    if not match or (not match.group(1) and not match.group(2)):
        return None
    start, end = match.group(1), match.group(2)
    if start and end and int(end) < int(start):
        return None
    if len(start) > 18 or len(end) > 18:
        return None
    return f"bytes={int(start) if start else ''}-{int(end) if end else ''}"


async def _proxied_movie(svc: Services, ctx: RoomCtx, movie_id: str) -> tuple[Movie, dict[str, Any]]:
    if not is_id(movie_id):
        raise bad_request("invalid movie id")
    movie = await svc.store.movies.get_shared(ctx.room_id, movie_id)
    if movie is None:
        raise not_found("movie not found")
    base = movie_base(movie)
    # A vendor movie may need the proxy whatever its flag says (its resolved sources tell: `_vendor_source`).
    vendor = bool((base.get("vendorInfo") or {}).get("vendor"))
    if (base.get("isFolder") and not is_dynamic_folder(base)) or not (base.get("proxy") or vendor):
        raise bad_request("this movie is not proxied")
    if base.get("rtmpSource"):
        raise bad_request("rtmp sources are not available on this server")
    _check_enabled(svc, base)
    return movie, base


def _check_enabled(svc: Services, base: dict[str, Any]) -> None:
    setting = "live_proxy" if base.get("live") else "movie_proxy"
    if not svc.store.settings.bool(setting):
        raise bad_request(f"{setting.replace('_', ' ')} is disabled on this server")


def _user_key(request: web.Request, ctx: RoomCtx) -> str:
    return f"guest@{request.remote}" if ctx.user.is_guest else ctx.user.id


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _run_scoped(request: web.Request, mp: MediaProxy, ctx: RoomCtx, movie_id: str,
                      body: Any) -> web.StreamResponse:
    """Run `body(scope)` bounded (per user and instance), tracked by movie, cancelled when the client leaves."""
    with mp.fetcher.limiter.slot(_user_key(request, ctx)), \
            mp.streams.track(movie_id, lambda: _gone(request)) as scope:
        try:
            async with scope.running():
                result: web.StreamResponse = await body(scope)
                return result
        except TimeoutError:
            if not scope.cancelled:
                raise
            if request.transport is not None:
                request.transport.close()  # a half-sent body must not look complete
            raise ProxyError(f"proxy stream stopped: {scope.reason}", 410) from None


async def _serve_playlist(request: web.Request, mp: MediaProxy, ctx: RoomCtx, movie: Movie,
                          base: dict[str, Any], url: str, version: str) -> web.StreamResponse:
    token = request_token(request)
    query = urlencode({"token": token, "roomId": ctx.room_id} if token else {"roomId": ctx.room_id})

    def make(target: str, playlist: bool) -> str:
        signed = mp.tokens.mint(ctx.room_id, movie.id, version, target, playlist)
        return f"/api/room/movie/proxy/{movie.id}/m3u8/{signed}?{query}"

    async def body(scope: StreamScope) -> web.StreamResponse:
        text, final_url, _ = await mp.fetcher.fetch_text(url, headers=base.get("headers") or {},
                                                         limit=mp.playlist_max_bytes)
        if not text.lstrip("\ufeff \r\n").startswith("#EXTM3U"):
            raise ProxyError("upstream did not return an HLS playlist")
        rewritten = hls.rewrite_playlist(text, final_url, make)
        await _learn_duration(services(request), ctx, movie.id, text)
        # Live playlists change with every fetch, and each carries fresh tokens: never cache.
        return web.Response(text=rewritten, content_type=PLAYLIST_TYPE,
                            headers={"Cache-Control": "no-store", **HARDENING})

    return await _run_scoped(request, mp, ctx, movie.id, body)


async def _learn_duration(svc: Services, ctx: RoomCtx, movie_id: str, text: str) -> None:
    """A complete VOD playlist says how long the movie is: the room's clock stops there without waiting for a
    client's report. Not the current movie, a closed room: the owner refuses and nothing changes."""
    seconds = hls.vod_duration(text)
    if seconds is not None:
        await svc.router.submit(ctx.room_id, c.ReportDuration(ctx.user.ref, movie_id, seconds, from_metadata=True))


async def _serve_bytes(request: web.Request, mp: MediaProxy, ctx: RoomCtx, movie: Movie, base: dict[str, Any],
                       url: str) -> web.StreamResponse:
    movie_headers = base.get("headers") or {}
    range_header = client_range(request)
    head = request.method == hdrs.METH_HEAD

    cache = None if head else slice_cache(services(request))

    async def body(scope: StreamScope) -> web.StreamResponse:
        method = "HEAD" if head else "GET"
        if cache is not None:
            try:
                return await _serve_cached(request, mp, cache, url, movie_headers, range_header)
            except NotCacheable:
                pass  # an origin without usable ranges: pass through
            except UpstreamRefused as exc:
                if exc.upstream_status != 416:
                    raise
        try:
            return await _relay(request, mp, url, movie_headers, method, range_header)
        except UpstreamRefused as exc:
            if not head or exc.upstream_status not in (405, 501):
                raise
        return await _relay(request, mp, url, movie_headers, "GET", range_header)  # origins that refuse HEAD

    return await _run_scoped(request, mp, ctx, movie.id, body)


class _Unsatisfiable(Exception):
    pass


def resolve_range(range_header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte span a normalised Range asks of a `size`-byte source (None: the whole source)."""
    if range_header is None:
        return None
    first, _, last = range_header.removeprefix("bytes=").partition("-")
    if not first:  # a suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise _Unsatisfiable
        return max(0, size - n), size - 1
    start = int(first)
    if start >= size:
        raise _Unsatisfiable
    return start, min(int(last), size - 1) if last else size - 1


async def _serve_cached(request: web.Request, mp: MediaProxy, cache: SliceCache, url: str,
                        movie_headers: dict[str, str], range_header: str | None) -> web.StreamResponse:
    source = source_key(url, movie_headers)
    size_s = cache.slice_size

    async def fetch(start: int, end: int) -> tuple[bytes, SourceInfo]:
        async with mp.fetcher.open(url, headers=movie_headers, range_header=f"bytes={start}-{end}") as up:
            if up.status != 206:
                raise NotCacheable("origin does not serve byte ranges")
            got_start, _, total = parse_content_range(up.headers.get("Content-Range", ""))
            if got_start != start:
                raise NotCacheable("origin answered another range")
            want = end - start + 1
            body = bytearray()
            async for chunk in up.content.iter_chunked(CHUNK):
                body += chunk
                if len(body) > want:
                    raise NotCacheable("origin sent more than the range asked for")
            data = bytes(body)
            return data, SourceInfo(total, up.headers.get("Content-Type", ""), up.headers.get("ETag", ""),
                                    up.headers.get("Last-Modified", ""))

    info = await cache.info(source)
    hit = info is not None
    if info is None:
        first = range_header.removeprefix("bytes=").partition("-")[0] if range_header else ""
        await cache.slice(source, int(first) // size_s if first else 0, fetch)
        info = await cache.info(source)
        assert info is not None
    try:
        span = resolve_range(range_header, info.size)
    except _Unsatisfiable:
        refusal = error(416, "requested range not satisfiable")
        refusal.headers["Content-Range"] = f"bytes */{info.size}"
        return refusal
    start, end = span if span is not None else (0, info.size - 1)
    first_slice, last_slice = start // size_s, end // size_s
    hit = hit and cache.cached(source, first_slice, last_slice)
    resp = web.StreamResponse(status=206 if span is not None else 200, headers=HARDENING)
    resp.headers["Accept-Ranges"] = "bytes"
    resp.headers["Content-Length"] = str(max(0, end - start + 1))
    if span is not None:
        resp.headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    for name, value in (("Content-Type", info.content_type), ("ETag", info.etag),
                        ("Last-Modified", info.last_modified)):
        if value:
            resp.headers[name] = value
    resp.headers["X-Cache-Status"] = "HIT" if hit else "MISS"
    await resp.prepare(request)
    if info.size == 0:
        await resp.write_eof()
        return resp
    try:
        for index in range(first_slice, last_slice + 1):
            data = await cache.slice(source, index, fetch)
            base = index * size_s
            await resp.write(data[max(start - base, 0):end - base + 1])
    except (ProxyError, NotCacheable, ConnectionResetError):
        if request.transport is not None:
            request.transport.close()
        return resp
    await resp.write_eof()
    return resp


async def _relay(request: web.Request, mp: MediaProxy, url: str, movie_headers: dict[str, str], method: str,
                 range_header: str | None) -> web.StreamResponse:
    async with mp.fetcher.open(url, headers=movie_headers, method=method, range_header=range_header,
                               accept_errors=(416,)) as up:
        if up.status == 416:
            refusal = error(416, "requested range not satisfiable")
            if "Content-Range" in up.headers:
                refusal.headers["Content-Range"] = up.headers["Content-Range"]
            return refusal
        status = up.status if up.status in (200, 206) else 200
        resp = web.StreamResponse(status=status, headers=HARDENING)
        for name in COPIED_HEADERS:
            if name in up.headers:
                resp.headers[name] = up.headers[name]
        if up.status == 206 and "Accept-Ranges" not in resp.headers:
            resp.headers["Accept-Ranges"] = "bytes"
        await resp.prepare(request)
        if request.method == hdrs.METH_HEAD:
            await resp.write_eof()
            return resp
        try:
            async for chunk in up.content.iter_any():
                await resp.write(chunk)
        except (aiohttp.ClientPayloadError, aiohttp.ServerTimeoutError, aiohttp.ClientConnectionError,
                ConnectionResetError):
            # Too late for an error status: cut the connection so the player sees a short body, not a whole one.
            if request.transport is not None:
                request.transport.close()
            return resp
        await resp.write_eof()
        return resp


async def _proxy(request: web.Request, token: str | None) -> web.StreamResponse:
    svc = services(request)
    mp = media_proxy(svc)
    movie_id = request.match_info["movieId"]
    key = (request_token(request), request_room_id(request), movie_id)
    granted = mp.grants.get(key)
    if granted is None:
        ctx = await room_access(request)
        movie, base = await _proxied_movie(svc, ctx, movie_id)
        version = source_version(base["url"], base.get("headers") or {})
        mp.grants.put(key, (ctx, movie, base, version))
    else:
        ctx, movie, base, version = granted
        _check_enabled(svc, base)  # settings are in memory: always current
    if (base.get("vendorInfo") or {}).get("vendor"):
        base = await _vendor_source(request, svc, ctx, movie, base)
    if token is None:
        url = base["url"]
        playlist = hls.is_playlist(base.get("type", ""), url)
    else:
        target = mp.tokens.verify(token, ctx.room_id, movie.id, version)
        url, playlist = target.url, target.playlist
    if playlist:
        return await _serve_playlist(request, mp, ctx, movie, base, url, version)
    return await _serve_bytes(request, mp, ctx, movie, base, url)


async def _vendor_source(request: web.Request, svc: Services, ctx: RoomCtx, movie: Movie,
                         base: dict[str, Any]) -> dict[str, Any]:
    """A vendor movie's source of the moment (resolved, cached), one of its subtitles (`?t=subtitle&id=n`) or
    another of its sources (`?source=n`, 1-based as `moreSources`; 0 is the main one)."""
    sub_path = request.query.get("subPath", "")
    if len(sub_path) > 4096:
        raise bad_request("subPath is too long")
    resolved = await vendors(svc).resolve(ctx.room_id, movie, base, sub_path)
    if not base.get("proxy") and not resolved.proxy_required:
        raise bad_request("this movie is not proxied")
    if request.query.get("t") == "subtitle":
        raw = request.query.get("id", "")
        index = int(raw) if raw.isdigit() and len(raw) < 4 else -1
        if not 0 <= index < len(resolved.subtitles):
            raise not_found("subtitle not found")
        sub = resolved.subtitles[index]
        return dict(base, url=sub.url, headers={}, type=sub.type)
    raw = request.query.get("source", "")
    if raw and raw != "0":
        index = int(raw) if raw.isdigit() and len(raw) < 4 else 0
        if not 1 <= index <= len(resolved.more_sources):
            raise not_found("source not found")
        src = resolved.more_sources[index - 1]
        return dict(base, url=src.url, headers={}, type=src.type)
    return dict(base, url=resolved.url, headers=dict(resolved.headers), type=base.get("type") or resolved.type)


# GET routes answer HEAD too (aiohttp registers it): headers only, and HEAD upstream, never the body.
@routes.get("/api/room/movie/proxy/{movieId}", "A proxied movie's media (GET|HEAD; bytes with Range, or a "
            "rewritten HLS playlist)", auth="room", query=("token", "roomId"))
async def proxy_movie(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, None)


@routes.get("/api/room/movie/proxy/{movieId}/m3u8/{targetToken}", "An entry of a proxied HLS playlist (GET|HEAD; "
            "a nested playlist, a segment, a key or an init section)", auth="room", query=("token", "roomId"))
async def proxy_target(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, request.match_info["targetToken"])
