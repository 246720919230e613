"""An EMULATION of the Emby / Jellyfin HTTP API subset synctv uses -- not Emby, not Jellyfin.

Neither server is installable on these machines, so the Emby vendor is tested against this aiohttp app on
loopback, written from the public API documentation (Emby Server 4.8 REST API, dev.emby.media; Jellyfin 10.8
OpenAPI, api.jellyfin.org), on the routes both share (without Emby's optional `/emby` prefix):

- POST /Users/AuthenticateByName {Username, Pw} (an `Authorization`/`X-Emby-Authorization: MediaBrowser ...`
  header is required) -> {User{Id, Name, ServerId}, AccessToken, ServerId}; 401 "Invalid username or password
  entered." as text
- a token is read from `X-Emby-Token`, `Token="..."` in the MediaBrowser header, or `api_key`; a missing or
  unknown one is 401 "Access token is invalid or expired."
- GET /System/Info, GET /Users/{id}, GET /Users/{id}/Views, GET /Users/{id}/Items?ParentId&StartIndex&Limit&
  SearchTerm&Recursive (an unknown parent lists nothing), GET /Users/{id}/Items/{itemId} (404 when unknown)
- GET /Items?Ids|ParentId&SearchTerm&StartIndex&Limit&Fields (the token's user; no ParentId = the libraries;
  unknown Ids are left out, so an unknown item is an empty list; Fields=MediaSources adds the sources)
- POST /Items/{id}/PlaybackInfo?UserId -> {MediaSources[{Id, Name, Container, DirectStreamUrl, TranscodingUrl,
  MediaStreams[...]}], PlaySessionId}; a folder has no media sources (ErrorCode "NoCompatibleStream")
- GET /Videos/{id}/stream.{container}?Static=true&MediaSourceId&api_key (Range supported),
  GET /videos/{id}/master.m3u8 (a transcode: starts an "active encoding"),
  GET /Videos/{id}/{sourceId}/Subtitles/{index}/Stream.srt
- DELETE /Videos/ActiveEncodings?DeviceId&PlaySessionId (204), POST /Sessions/Logout (204, ends the token)

`flavour="jellyfin"` answers as Jellyfin does where they differ in what synctv reads (32-hex ids, ProductName).
Unfriendly switches: `expire_tokens()`, `delay` (every answer waits), `html_only` (a wrong host).
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

SRT = b"1\n00:00:00,000 --> 00:00:01,000\nbonjour\n"


@dataclass
class EmbyItem:
    id: str
    name: str
    type: str
    parent: str = ""
    is_folder: bool = False
    files: list[tuple[str, Path]] = field(default_factory=list)  # (source name, media file)
    subtitles: list[tuple[int, str, str]] = field(default_factory=list)  # (stream index, language, title)
    run_time_ticks: int = 0  # the length Emby reports (100 ns units); 0: none given


class EmbyEmulator:
    def __init__(self, media: Path, users: dict[str, str] | None = None, flavour: str = "emby") -> None:
        self.flavour = flavour
        self.users = dict(users or {"viewer": "emby-pass"})
        self.user_ids = {name: self._id(f"user-{name}") for name in self.users}
        self.server_id = self._id("server")
        self.tokens: dict[str, str] = {}
        self.active_encodings: set[str] = set()
        self.logged_out: list[str] = []
        self.delay = 0.0
        self.html_only = False
        self.logins = 0
        self.calls: list[str] = []
        self.items: dict[str, EmbyItem] = {}
        mkv = media.with_suffix(".mkv") if media.with_suffix(".mkv").exists() else media
        for item in (
            EmbyItem(self._id("movies"), "Movies", "CollectionFolder", is_folder=True),
            EmbyItem(self._id("shows"), "Shows", "CollectionFolder", is_folder=True),
            EmbyItem(self._id("clip"), "Clip", "Movie", self._id("movies"), files=[("clip", media)],
                     subtitles=[(2, "eng", "English (SRT)"), (3, "fre", "French")], run_time_ticks=125_000_000),
            EmbyItem(self._id("other"), "Other", "Movie", self._id("movies"),
                     files=[("1080p", media), ("720p", mkv)]),
            EmbyItem(self._id("show"), "Show", "Series", self._id("shows"), is_folder=True),
            EmbyItem(self._id("season"), "Season 1", "Season", self._id("show"), is_folder=True),
            EmbyItem(self._id("pilot"), "Pilot", "Episode", self._id("season"), files=[("pilot", media)]),
        ):
            self.items[item.id] = item
        self._runner: web.AppRunner | None = None
        self.port = 0

    def _id(self, name: str) -> str:
        if self.flavour == "jellyfin":
            return uuid.uuid5(uuid.NAMESPACE_DNS, name + ".jellyfin").hex
        return str(zlib.crc32(name.encode()) % 10_000_000 + 1)

    def item_id(self, name: str) -> str:
        return self._id(name)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> EmbyEmulator:
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/Users/AuthenticateByName", self._login)
        app.router.add_get("/System/Info", self._system_info)
        app.router.add_get("/Users/{uid}", self._user)
        app.router.add_get("/Users/{uid}/Views", self._views)
        app.router.add_get("/Users/{uid}/Items", self._items)
        app.router.add_get("/Users/{uid}/Items/{iid}", self._item)
        app.router.add_post("/Items/{iid}/PlaybackInfo", self._playback_info)
        app.router.add_get("/Videos/{iid}/stream.{container}", self._stream)
        app.router.add_get("/videos/{iid}/master.m3u8", self._transcode)
        app.router.add_get("/Items", self._all_items)
        app.router.add_get("/Videos/{iid}/{sid}/Subtitles/{index}/Stream.srt", self._subtitle)
        app.router.add_delete("/Videos/ActiveEncodings", self._stop_encoding)
        app.router.add_post("/Sessions/Logout", self._logout)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # -- plumbing --------------------------------------------------------------------------------------------------

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append(f"{request.method} {request.path}")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.html_only:
            return web.Response(text="<!doctype html><title>not emby</title>", content_type="text/html")
        result: web.StreamResponse = await handler(request)
        return result

    @staticmethod
    def _header_token(value: str) -> str:
        match = re.search(r'Token="([^"]*)"', value)
        return match.group(1) if match else ""

    def _token(self, request: web.Request) -> str:
        return (request.headers.get("X-Emby-Token") or self._header_token(request.headers.get("Authorization", ""))
                or self._header_token(request.headers.get("X-Emby-Authorization", ""))
                or request.query.get("api_key", "") or request.query.get("ApiKey", ""))

    def _who(self, request: web.Request) -> str:
        user = self.tokens.get(self._token(request))
        if user is None:
            raise web.HTTPUnauthorized(text="Access token is invalid or expired.")
        return user

    def _uid(self, request: web.Request) -> str:
        user = self._who(request)
        if request.match_info["uid"].lower() != self.user_ids[user].lower():
            raise web.HTTPForbidden(text="Access denied.")
        return user

    def _dto(self, item: EmbyItem) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": item.name, "ServerId": self.server_id, "Id": item.id, "Type": item.type,
                               "IsFolder": item.is_folder, "ParentId": item.parent}
        if item.type == "CollectionFolder":
            out["CollectionType"] = "movies" if item.name == "Movies" else "tvshows"
        if item.type == "Episode":
            out.update(SeriesName="Show", SeriesId=self._id("show"), SeasonName="Season 1",
                       SeasonId=self._id("season"))
        return out

    def _get(self, iid: str) -> EmbyItem:
        item = self.items.get(iid)
        if item is None:
            raise web.HTTPNotFound(text="Item not found.")
        return item

    # -- handlers --------------------------------------------------------------------------------------------------

    async def _login(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "") or request.headers.get("X-Emby-Authorization", "")
        if not auth.startswith("MediaBrowser") or "DeviceId=" not in auth:
            raise web.HTTPBadRequest(text="Authorization header with a MediaBrowser client is required.")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="Invalid JSON.") from None
        self.logins += 1
        name, pw = str(body.get("Username", "")), str(body.get("Pw", ""))
        if name not in self.users or not hmac.compare_digest(self.users[name], pw):
            raise web.HTTPUnauthorized(text="Invalid username or password entered.")
        token = secrets.token_hex(16)
        self.tokens[token] = name
        user = {"Name": name, "ServerId": self.server_id, "Id": self.user_ids[name], "HasPassword": True}
        return web.json_response({"User": user, "AccessToken": token, "ServerId": self.server_id,
                                  "SessionInfo": {"DeviceId": "x", "UserId": self.user_ids[name]}})

    async def _system_info(self, request: web.Request) -> web.Response:
        self._who(request)
        product = "Jellyfin Server" if self.flavour == "jellyfin" else "Emby Server"
        return web.json_response({"ServerName": "living-room", "Version": "10.8.13" if self.flavour == "jellyfin"
                                  else "4.8.8.0", "Id": self.server_id, "OperatingSystem": "Linux",
                                  "ProductName": product, "HasPendingRestart": False, "IsShuttingDown": False,
                                  "LocalAddress": self.base, "HttpServerPortNumber": self.port,
                                  "SupportsHttps": False, "CachePath": "/var/cache/x", "SomethingElse": [1]})

    async def _user(self, request: web.Request) -> web.Response:
        user = self._uid(request)
        return web.json_response({"Name": user, "Id": self.user_ids[user], "ServerId": self.server_id})

    async def _views(self, request: web.Request) -> web.Response:
        self._uid(request)
        views = [self._dto(i) for i in self.items.values() if i.type == "CollectionFolder"]
        return web.json_response({"Items": views, "TotalRecordCount": len(views)})

    async def _items(self, request: web.Request) -> web.Response:
        self._uid(request)
        q = request.query
        parent, term = q.get("ParentId", ""), q.get("SearchTerm", "").lower()
        recursive = q.get("Recursive", "").lower() == "true"

        def under(item: EmbyItem) -> bool:
            if not parent:
                return True
            cur = item.parent
            while cur:
                if cur == parent:
                    return True
                if not recursive:
                    return False
                cur = self.items[cur].parent if cur in self.items else ""
            return False

        found = [i for i in self.items.values() if i.type != "CollectionFolder" and under(i)
                 and (not term or term in i.name.lower())]
        start, limit = int(q.get("StartIndex", "0") or 0), int(q.get("Limit", "0") or 0)
        chosen = found[start:start + limit] if limit else found[start:]
        return web.json_response({"Items": [self._dto(i) for i in chosen], "TotalRecordCount": len(found)})

    async def _item(self, request: web.Request) -> web.Response:
        self._uid(request)
        return web.json_response(self._dto(self._get(request.match_info["iid"])))

    async def _playback_info(self, request: web.Request) -> web.Response:
        user = self._who(request)
        item = self._get(request.match_info["iid"])
        if not item.files:
            return web.json_response({"MediaSources": [], "ErrorCode": "NoCompatibleStream"})
        session = secrets.token_hex(8)
        del user
        return web.json_response({"MediaSources": self._sources(item, self._token(request), session),
                                  "PlaySessionId": session})

    def _sources(self, item: EmbyItem, token: str, session: str) -> list[dict[str, Any]]:
        sources = []
        for n, (name, path) in enumerate(item.files):
            msid = f"{item.id}-{n}"
            container = path.suffix.lstrip(".") or "mp4"
            streams: list[dict[str, Any]] = [{"Type": "Video", "Index": 0, "Codec": "h264"},
                                             {"Type": "Audio", "Index": 1, "Codec": "aac"}]
            for index, lang, title in item.subtitles if n == 0 else []:
                streams.append({"Type": "Subtitle", "Index": index, "Codec": "srt" if index == 2 else "subrip",
                                "Language": lang, "DisplayTitle": title, "IsExternal": index == 2})
            sources.append({
                "Id": msid, "Name": name, "Container": container, "Protocol": "File", "Path": str(path),
                "SupportsDirectPlay": True, "SupportsDirectStream": True, "SupportsTranscoding": True,
                "DirectStreamUrl": f"/Videos/{item.id}/stream.{container}?MediaSourceId={msid}&Static=true"
                                   f"&api_key={token}",
                "TranscodingUrl": f"/videos/{item.id}/master.m3u8?DeviceId=x&MediaSourceId={msid}"
                                  f"&PlaySessionId={session}&api_key={token}",
                "MediaStreams": streams, **({"RunTimeTicks": item.run_time_ticks} if item.run_time_ticks else {})})
        return sources

    async def _all_items(self, request: web.Request) -> web.Response:
        """`/Items` for the token's user: `Ids` picks items (unknown ones are left out); otherwise the children of
        `ParentId` (the libraries without one), or with `SearchTerm` a recursive search below it. `Fields`
        containing `MediaSources` adds each playable item's sources."""
        self._who(request)
        q = request.query
        fields = {f.strip() for f in q.get("Fields", "").split(",")}
        if "Ids" in q:
            found = [self.items[i] for i in q["Ids"].split(",") if i in self.items]
        else:
            parent, term = q.get("ParentId", ""), q.get("SearchTerm", "").lower()
            if term:
                found = [i for i in self.items.values() if term in i.name.lower()
                         and (not parent or self._below(i, parent))]
            else:
                found = [i for i in self.items.values() if i.parent == parent]
        start, limit = int(q.get("StartIndex", "0") or 0), int(q.get("Limit", "0") or 0)
        chosen = found[start:start + limit] if limit else found[start:]
        out = []
        for item in chosen:
            dto = self._dto(item)
            if "MediaSources" in fields and item.files:
                dto["MediaSources"] = self._sources(item, self._token(request), "")
            out.append(dto)
        return web.json_response({"Items": out, "TotalRecordCount": len(found)})

    def _below(self, item: EmbyItem, ancestor: str) -> bool:
        cur = item.parent
        while cur:
            if cur == ancestor:
                return True
            cur = self.items[cur].parent if cur in self.items else ""
        return False

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        self._who(request)
        item = self._get(request.match_info["iid"])
        msid = request.query.get("MediaSourceId", "")
        for n, (_, path) in enumerate(item.files):
            if msid in ("", f"{item.id}-{n}"):
                return web.FileResponse(path, headers={"Content-Type": "video/mp4"})
        raise web.HTTPNotFound(text="Media source not found.")

    async def _transcode(self, request: web.Request) -> web.Response:
        self._who(request)
        self._get(request.match_info["iid"])
        self.active_encodings.add(request.query.get("PlaySessionId", ""))
        return web.Response(text="#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n",
                            content_type="application/vnd.apple.mpegurl")

    async def _subtitle(self, request: web.Request) -> web.Response:
        self._who(request)
        item = self._get(request.match_info["iid"])
        if not any(str(i) == request.match_info["index"] for i, _, _ in item.subtitles):
            raise web.HTTPNotFound(text="Subtitle not found.")
        return web.Response(body=SRT, content_type="text/plain")

    async def _stop_encoding(self, request: web.Request) -> web.Response:
        self._who(request)
        self.active_encodings.discard(request.query.get("PlaySessionId", ""))
        return web.Response(status=204)

    async def _logout(self, request: web.Request) -> web.Response:
        self._who(request)
        token = self._token(request)
        self.logged_out.append(token)
        self.tokens.pop(token, None)
        return web.Response(status=204)
