"""The Alist vendor interface. Methods and fields follow the `api.alist.Alist` gRPC service of synctv-org/vendors
(Login, Me, FsGet, FsList, FsOther, FsSearch), so a remote vendor server can stand behind the same interface."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

# Alist's object types (internal/model/obj.go upstream): what `type` means in list and get answers.
TYPE_UNKNOWN, TYPE_FOLDER, TYPE_VIDEO, TYPE_AUDIO, TYPE_TEXT, TYPE_IMAGE = range(6)
_HASH_SALT = "-https://github.com/alist-org/alist"
# Storage providers (Alist's driver names) whose files play differently.
ALIYUN_PROVIDERS = frozenset({"AliyundriveOpen"})  # transcoded HLS through `fs/other` `video_preview`
UA_BOUND_PROVIDERS = frozenset({"115 Cloud"})  # the raw URL only answers the User-Agent that resolved it
VIDEO_PREVIEW = "video_preview"


def hash_password(password: str) -> str:
    """What `/api/auth/login/hash` expects (and what upstream SyncTV stores instead of the password)."""
    return hashlib.sha256((password + _HASH_SALT).encode()).hexdigest()


def server_id(host: str) -> str:
    """Upstream's server id: hex of UUIDv3(URL namespace, host)."""
    return uuid.uuid3(uuid.NAMESPACE_URL, host).hex


@dataclass(frozen=True, slots=True)
class FsObject:
    name: str
    size: int = 0
    is_dir: bool = False
    modified: str = ""
    type: int = TYPE_UNKNOWN
    sign: str = ""
    thumb: str = ""


@dataclass(frozen=True, slots=True)
class FsListResult:
    content: list[FsObject]
    total: int
    provider: str = ""
    write: bool = False


@dataclass(frozen=True, slots=True)
class FsGetResult:
    name: str
    size: int
    is_dir: bool
    type: int
    raw_url: str
    provider: str = ""
    sign: str = ""
    related: list[FsObject] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchObject:
    parent: str
    name: str
    is_dir: bool
    size: int
    type: int


@dataclass(frozen=True, slots=True)
class FsSearchResult:
    content: list[SearchObject]
    total: int


@dataclass(frozen=True, slots=True)
class TranscodingTask:
    """One quality of an Aliyun drive's live transcode (`live_transcoding_task_list`)."""

    template_id: str
    template_name: str
    width: int
    height: int
    status: str
    stage: str
    url: str


@dataclass(frozen=True, slots=True)
class TranscodingSubtitle:
    language: str
    status: str
    url: str


@dataclass(frozen=True, slots=True)
class VideoPreview:
    """`fs/other` `video_preview`'s answer (the drive's `video_preview_play_info`)."""

    drive_id: str
    file_id: str
    category: str
    tasks: list[TranscodingTask]
    subtitles: list[TranscodingSubtitle]
    duration: float = 0.0
    width: int = 0
    height: int = 0


class AlistApi(Protocol):
    async def login(self, host: str, username: str, hashed_password: str) -> str: ...

    async def me(self, host: str, token: str) -> dict[str, Any]: ...

    async def fs_get(self, host: str, token: str, path: str, password: str,
                     user_agent: str = "") -> FsGetResult: ...

    async def fs_other(self, host: str, token: str, path: str, password: str, method: str) -> VideoPreview: ...

    async def fs_list(self, host: str, token: str, path: str, password: str, page: int, per_page: int,
                      refresh: bool) -> FsListResult: ...

    async def fs_search(self, host: str, token: str, parent: str, keywords: str, password: str, page: int,
                        per_page: int) -> FsSearchResult: ...
