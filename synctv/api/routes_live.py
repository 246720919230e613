"""`/api/room/movie/live`: publish keys, HTTP-FLV and HLS from this instance's live channels (upstream §1.14)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from synctv.api.auth import RoomCtx, room_access
from synctv.api.context import services
from synctv.api.requests import field_id, json_object
from synctv.api.responses import bad_request, forbidden, not_found, ok
from synctv.api.routing import Routes
from synctv.api.views import movie_base
from synctv.core.validation import is_id
from synctv.live import flv
from synctv.live.channel import Channel, ChannelClosed
from synctv.live.hls import PNG_PREFIX, Segment
from synctv.live.pull import is_pull_source
from synctv.live.service import live_service
from synctv.services import Services
from synctv.store.models import Movie

routes = Routes("live")
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
FLV_KEEPALIVE_S = 15.0
SEGMENT_WAIT_S = 3.0


def live_query(token: str, room_id: str) -> str:
    return urlencode({"token": token, "roomId": room_id} if token else {"roomId": room_id})


def playback_urls(movie_id: str, token: str, room_id: str) -> tuple[str, str]:
    """The HLS playlist and FLV URLs `GET /api/room/movie/current` hands out (upstream §1.6)."""
    query = live_query(token, room_id)
    return (f"/api/room/movie/live/hls/list/{movie_id}.m3u8?{query}",
            f"/api/room/movie/live/flv/{movie_id}.flv?{query}")


def _check_enabled(svc: Services) -> None:
    if not svc.cfg.server.rtmp.enable:
        raise bad_request("rtmp is disabled on this server")


async def _live_movie(svc: Services, ctx: RoomCtx, raw_id: str, suffix: str) -> tuple[Movie, dict[str, Any]]:
    movie_id = raw_id[:-len(suffix)] if raw_id.endswith(suffix) else raw_id
    if not is_id(movie_id):
        raise bad_request("invalid movie id")
    movie = await svc.store.movies.get(ctx.room_id, movie_id)
    if movie is None:
        raise not_found("movie not found")
    base = movie_base(movie)
    if is_pull_source(base):
        if not svc.store.settings.bool("live_proxy"):
            raise bad_request("live proxy is disabled on this server")
        return movie, base
    if not base.get("rtmpSource"):
        raise bad_request("this movie is not a live RTMP source")
    _check_enabled(svc)
    return movie, base


def _publish_host(request: web.Request, svc: Services) -> str:
    settings = svc.store.settings
    host = settings.text("custom_publish_host").strip()
    if not host:
        site = settings.text("host").strip()
        host = urlsplit(site).netloc if "://" in site else site.rstrip("/")
    if not host:
        host = request.host
    port = svc.cfg.server.rtmp.port
    if port:
        name = urlsplit(f"//{host}").hostname or host
        host = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
    return host


@routes.post("/api/room/movie/live/publishKey", "A new RTMP publish key for a movie (its creator only; the "
             "previous key stops working)", auth="room", body={"id": "string"}, status=200)
async def publish_key(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request, allow_guest=False)
    body = await json_object(request)
    movie_id = field_id(body, "id", "movie id")
    movie = await svc.store.movies.get(ctx.room_id, movie_id)
    if movie is None:
        raise not_found("movie not found")
    if movie.creator_id != ctx.user.id:
        raise forbidden("only the movie's creator can get its publish key")
    if not movie_base(movie).get("rtmpSource"):
        raise bad_request("this movie is not a live RTMP source")
    _check_enabled(svc)
    token = await live_service(svc).issue_key(ctx.room_id, movie.id)
    return ok({"host": _publish_host(request, svc), "app": ctx.room_id, "token": token})


@routes.get("/api/room/movie/live/flv/{movieId}", "HTTP-FLV stream of a live movie (from its last keyframe)",
            auth="room")
async def flv_stream(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    ctx = await room_access(request)
    movie, base = await _live_movie(svc, ctx, request.match_info["movieId"], ".flv")
    live = live_service(svc)
    channel = await live.viewer_channel(ctx.room_id, movie.id, base)
    try:
        viewer = channel.subscribe()
    except ChannelClosed:
        raise not_found("the live channel is closed") from None
    resp = web.StreamResponse(headers={"Content-Type": "video/x-flv", "Cache-Control": "no-store",
                                       "X-Content-Type-Options": "nosniff"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    counters = live.counters
    live.flv_viewers += 1
    try:
        await resp.write(flv.FILE_HEADER)
        while True:
            try:
                batch = await asyncio.wait_for(viewer.next_batch(), FLV_KEEPALIVE_S)
            except TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    break
                continue
            if batch is None:
                break
            data = b"".join(tag.encoded for tag in batch)
            counters.bytes_out_flv += len(data)
            await resp.write(data)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        live.flv_viewers -= 1
        channel.unsubscribe(viewer)
    with contextlib.suppress(ConnectionError, RuntimeError):
        await resp.write_eof()
    return resp


@routes.get("/api/room/movie/live/hls/list/{movieId}", "HLS playlist of a live movie", auth="room")
async def hls_playlist(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    movie, base = await _live_movie(svc, ctx, request.match_info["movieId"], ".m3u8")
    live = live_service(svc)
    live.counters.hls_requests += 1
    channel = await live.viewer_channel(ctx.room_id, movie.id, base)
    channel.last_hls_access = time.monotonic()
    ext = "png" if svc.store.settings.bool("ts_disguised_as_png") else "ts"
    text = channel.segmenter.playlist(
        f"/api/room/movie/live/hls/data/{ctx.room_id}/{movie.id}/{{id}}.{ext}")
    if text is None:
        raise not_found("the live stream has not started")
    return web.Response(text=text, content_type=PLAYLIST_TYPE, headers={"Cache-Control": "no-store"})


async def _wait_segment(channel: Channel, seg_id: str) -> Segment | None:
    deadline = time.monotonic() + SEGMENT_WAIT_S
    while (seg := channel.segmenter.segments.get(seg_id)) is None and not channel.closed:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(channel.changed.wait(), remaining)
    return seg


@routes.get("/api/room/movie/live/hls/data/{roomId}/{movieId}/{dataId}", "One HLS segment (no auth: the id is "
            "unguessable and scoped to the room and movie)")
async def hls_segment(request: web.Request) -> web.Response:
    svc = services(request)
    room_id, movie_id, data_id = (request.match_info[k] for k in ("roomId", "movieId", "dataId"))
    if not is_id(room_id) or not is_id(movie_id):
        raise bad_request("invalid room or movie id")
    seg_id, _, ext = data_id.partition(".")
    want = "png" if svc.store.settings.bool("ts_disguised_as_png") else "ts"
    if ext != want or len(seg_id) != 32:
        raise not_found("segment not found")
    live = live_service(svc)
    channel = live.find(room_id, movie_id)
    seg = None if channel is None else channel.segmenter.segments.get(seg_id)
    if seg is None and live.cluster is not None and await svc.store.movies.get(room_id, movie_id) is not None:
        # Behind a round-robin balancer the playlist may have come from another instance: relay and wait.
        channel = await live.viewer_channel(room_id, movie_id)
        seg = await _wait_segment(channel, seg_id)
    if seg is None or channel is None:
        raise not_found("segment not found")
    channel.last_hls_access = time.monotonic()
    body = PNG_PREFIX + seg.data if ext == "png" else seg.data
    live.counters.bytes_out_hls += len(body)
    return web.Response(body=body, content_type="image/png" if ext == "png" else "video/mp2t",
                        headers={"Cache-Control": "public, max-age=90", "X-Content-Type-Options": "nosniff"})
