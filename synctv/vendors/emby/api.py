"""The Emby vendor interface (also Jellyfin). Methods follow the `api.emby.Emby` gRPC service of
synctv-org/vendors (Login, Me, GetItems, GetItem, GetSystemInfo, FsList, Logout, PlaybackInfo,
DeleteActiveEncodeings), so a remote vendor server can stand behind the same interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    user_id: str
    server_id: str


@dataclass(frozen=True, slots=True)
class SubtitleStream:
    index: int
    codec: str
    language: str
    title: str
    is_external: bool


@dataclass(frozen=True, slots=True)
class MediaSource:
    id: str
    name: str
    container: str
    direct_play_url: str = ""
    transcoding_url: str = ""
    subtitles: list[SubtitleStream] = field(default_factory=list)
    duration_s: float = 0.0  # the source's RunTimeTicks (100 ns units) in seconds; 0 when Emby doesn't say


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    name: str
    type: str
    is_folder: bool
    parent_id: str = ""
    series_name: str = ""
    series_id: str = ""
    season_name: str = ""
    season_id: str = ""
    collection_type: str = ""
    sources: list[MediaSource] = field(default_factory=list)  # only where the media sources were asked for


@dataclass(frozen=True, slots=True)
class ItemsResult:
    items: list[Item]
    total: int


@dataclass(frozen=True, slots=True)
class PlaybackInfoResult:
    sources: list[MediaSource]
    play_session_id: str = ""


class EmbyApi(Protocol):
    async def login(self, host: str, username: str, password: str) -> LoginResult: ...

    async def me(self, host: str, token: str, user_id: str) -> dict[str, Any]: ...

    async def system_info(self, host: str, token: str) -> dict[str, Any]: ...

    async def get_item(self, host: str, token: str, user_id: str, item_id: str) -> Item: ...

    async def get_items(self, host: str, token: str, user_id: str, parent_id: str, search: str, start: int,
                        limit: int) -> ItemsResult: ...

    async def playback_info(self, host: str, token: str, user_id: str, item_id: str) -> PlaybackInfoResult: ...

    async def logout(self, host: str, token: str) -> None: ...

    async def delete_active_encodings(self, host: str, token: str, play_session_id: str) -> None: ...
