"""The in-process Emby/Jellyfin implementation over their shared HTTP API (Emby 4.x, Jellyfin 10.x):
`/Users/AuthenticateByName`, `/Users/{id}`, `/System/Info`, `/Users/{id}/Views|Items`, `/Items` (the token's
user), `/Items/{id}/PlaybackInfo`, `/Sessions/Logout`, `/Videos/ActiveEncodings`.

Unlike Alist these speak HTTP statuses: 401 a bad login or token, 404 an unknown item, 400 a bad request.
The client authorises with the `MediaBrowser` scheme in `Authorization` (what Jellyfin wants) and the same value
in `X-Emby-Authorization` plus `X-Emby-Token` (what Emby reads).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from synctv.vendors.emby.api import Item, ItemsResult, LoginResult, MediaSource, PlaybackInfoResult, SubtitleStream
from synctv.vendors.errors import (
    TokenRejected,
    VendorBadCredentials,
    VendorError,
    VendorNotFound,
    VendorRefused,
    VendorUnreachable,
)
from synctv.vendors.http import VendorHttp

DEVICE_ID = "synctv-server"
ITEM_FIELDS = "MediaSources,ParentId,Container"
_CLIENT = f'MediaBrowser Client="SyncTV", Device="SyncTV", DeviceId="{DEVICE_ID}", Version="1.0"'


def _auth(token: str = "") -> dict[str, str]:
    value = f'{_CLIENT}, Token="{token}"' if token else _CLIENT
    headers = {"Authorization": value, "X-Emby-Authorization": value}
    if token:
        headers["X-Emby-Token"] = token
    return headers


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _source(src: dict[str, Any]) -> MediaSource:
    subs = [SubtitleStream(index=s.get("Index", 0) if isinstance(s.get("Index"), int) else 0,
                           codec=_s(s.get("Codec")), language=_s(s.get("Language")),
                           title=_s(s.get("DisplayTitle")) or _s(s.get("Title")),
                           is_external=s.get("IsExternal") is True)
            for s in src.get("MediaStreams") or [] if isinstance(s, dict) and s.get("Type") == "Subtitle"]
    return MediaSource(id=_s(src.get("Id")), name=_s(src.get("Name")), container=_s(src.get("Container")),
                       direct_play_url=_s(src.get("DirectStreamUrl")), transcoding_url=_s(src.get("TranscodingUrl")),
                       subtitles=subs, duration_s=_run_time_s(src.get("RunTimeTicks")))


def _sources(value: Any) -> list[MediaSource]:
    return [_source(src) for src in value if isinstance(src, dict)] if isinstance(value, list) else []


def _item(data: Any) -> Item:
    if not isinstance(data, dict):
        return Item(id="", name="", type="", is_folder=False)
    return Item(id=_s(data.get("Id")), name=_s(data.get("Name")), type=_s(data.get("Type")),
                is_folder=data.get("IsFolder") is True, parent_id=_s(data.get("ParentId")),
                series_name=_s(data.get("SeriesName")), series_id=_s(data.get("SeriesId")),
                season_name=_s(data.get("SeasonName")), season_id=_s(data.get("SeasonId")),
                collection_type=_s(data.get("CollectionType")), sources=_sources(data.get("MediaSources")))


def _run_time_s(ticks: Any) -> float:
    """Emby's RunTimeTicks (100 ns units) in seconds; 0 for anything but a positive integer."""
    if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks <= 0:
        return 0.0
    return ticks / 10_000_000


def _q(value: str) -> str:
    return quote(value, safe="")


class HttpEmby:
    def __init__(self, http: VendorHttp) -> None:
        self.http = http

    async def _call(self, method: str, host: str, path: str, token: str, body: Any = None,
                    expect_json: bool = True) -> Any:
        status, data = await self.http.call(method, f"{host}{path}", body=body, headers=_auth(token),
                                            expect_json=expect_json)
        if status < 300:
            return data
        message = data if isinstance(data, str) and data else f"HTTP {status}"
        if status == 401:
            raise TokenRejected(message)
        if status == 404:
            raise VendorNotFound(f"emby: {message}")
        if status in (400, 403):
            raise VendorRefused(f"emby: {message}", status)
        raise VendorRefused(f"emby: {message}")

    async def login(self, host: str, username: str, password: str) -> LoginResult:
        try:
            data = await self._call("POST", host, "/Users/AuthenticateByName", "",
                                    {"Username": username, "Pw": password})
        except TokenRejected as exc:
            raise VendorBadCredentials(f"emby login failed: {exc}") from None
        if not isinstance(data, dict) or not _s(data.get("AccessToken")):
            raise VendorUnreachable("emby login answered no access token (is this an Emby or Jellyfin host?)")
        user = data.get("User") if isinstance(data.get("User"), dict) else {}
        assert isinstance(user, dict)
        return LoginResult(token=_s(data.get("AccessToken")), user_id=_s(user.get("Id")),
                           server_id=_s(data.get("ServerId")) or _s(user.get("ServerId")))

    async def me(self, host: str, token: str, user_id: str) -> dict[str, Any]:
        data = await self._call("GET", host, f"/Users/{_q(user_id)}", token)
        if not isinstance(data, dict):
            raise VendorUnreachable("emby answered no user")
        return data

    async def system_info(self, host: str, token: str) -> dict[str, Any]:
        data = await self._call("GET", host, "/System/Info", token)
        if not isinstance(data, dict):
            raise VendorUnreachable("emby answered no system info")
        return data

    async def get_item(self, host: str, token: str, user_id: str, item_id: str) -> Item:
        return _item(await self._call("GET", host, f"/Users/{_q(user_id)}/Items/{_q(item_id)}", token))

    async def get_items(self, host: str, token: str, user_id: str, parent_id: str, search: str, start: int,
                        limit: int) -> ItemsResult:
        if not parent_id and not search:
            path = f"/Users/{_q(user_id)}/Views"
        else:
            query: dict[str, Any] = {"StartIndex": start, "Limit": limit, "SortBy": "SortName",
                                     "Fields": "ParentId"}
            if parent_id:
                query["ParentId"] = parent_id
            if search:
                query.update(SearchTerm=search, Recursive="true", IncludeItemTypes="Movie,Episode,Video,Series")
            path = f"/Users/{_q(user_id)}/Items?{urlencode(query)}"
        data = await self._call("GET", host, path, token)
        if not isinstance(data, dict):
            raise VendorUnreachable("emby answered no items")
        items = data.get("Items")
        total = data.get("TotalRecordCount")
        listed = [_item(i) for i in items] if isinstance(items, list) else []
        if not parent_id and not search:
            listed = listed[start:start + limit]
        return ItemsResult(items=listed, total=total if isinstance(total, int) else len(listed))

    async def playback_info(self, host: str, token: str, user_id: str, item_id: str) -> PlaybackInfoResult:
        data = await self._call("POST", host, f"/Items/{_q(item_id)}/PlaybackInfo?{urlencode({'UserId': user_id})}",
                                token, {"UserId": user_id, "DeviceProfile": {"MaxStreamingBitrate": 120_000_000}})
        if not isinstance(data, dict):
            raise VendorUnreachable("emby answered no playback info")
        return PlaybackInfoResult(sources=_sources(data.get("MediaSources")),
                                  play_session_id=_s(data.get("PlaySessionId")))

    # The user-less lookups of the gRPC service's GetItems/GetItem: `/Items` answers for the token's user.

    async def items(self, host: str, token: str, parent_id: str, search: str, start: int = 0,
                    limit: int = 0) -> ItemsResult:
        """Children of `parent_id` (the top level when empty), or a recursive search below it, with their media
        sources."""
        query: dict[str, Any] = {"Fields": ITEM_FIELDS, "SortBy": "SortName"}
        if parent_id:
            query["ParentId"] = parent_id
        if search:
            query.update(SearchTerm=search, Recursive="true")
        if limit:
            query.update(StartIndex=start, Limit=limit)
        data = await self._call("GET", host, f"/Items?{urlencode(query)}", token)
        if not isinstance(data, dict):
            raise VendorUnreachable("emby answered no items")
        items = data.get("Items")
        listed = [_item(i) for i in items] if isinstance(items, list) else []
        total = data.get("TotalRecordCount")
        return ItemsResult(items=listed, total=total if isinstance(total, int) else len(listed))

    async def item(self, host: str, token: str, item_id: str) -> Item:
        """One item by id, with its media sources; an unknown id is a 404."""
        if not item_id:
            raise VendorError("itemId is required", 400)
        data = await self._call("GET", host, f"/Items?{urlencode({'Ids': item_id, 'Fields': ITEM_FIELDS})}", token)
        items = data.get("Items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise VendorUnreachable("emby answered no items")
        if not items:
            raise VendorNotFound("emby: item not found")
        if len(items) > 1:
            raise VendorRefused("emby: item id is not unique")
        return _item(items[0])

    async def logout(self, host: str, token: str) -> None:
        await self._call("POST", host, "/Sessions/Logout", token, expect_json=False)

    async def delete_active_encodings(self, host: str, token: str, play_session_id: str) -> None:
        query = urlencode({"DeviceId": DEVICE_ID, "PlaySessionId": play_session_id})
        await self._call("DELETE", host, f"/Videos/ActiveEncodings?{query}", token, expect_json=False)
