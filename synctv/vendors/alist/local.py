"""The in-process Alist implementation over Alist v3's HTTP API (`/api/auth/login/hash`, `/api/me`,
`/api/fs/list|get|search|other`).

Alist answers HTTP 200 with a `{code, message, data}` envelope whatever happened; `code` carries the outcome
(200 ok, 401 bad token, 403 no permission or wrong folder password, 400 bad login, 500 everything else,
including a missing path).
"""

from __future__ import annotations

from typing import Any

from synctv.vendors.alist.api import (
    FsGetResult,
    FsListResult,
    FsObject,
    FsSearchResult,
    SearchObject,
    TranscodingSubtitle,
    TranscodingTask,
    VideoPreview,
)
from synctv.vendors.errors import (
    TokenRejected,
    VendorBadCredentials,
    VendorNotFound,
    VendorRefused,
    VendorUnreachable,
)
from synctv.vendors.http import VendorHttp


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(item: Any) -> FsObject:
    if not isinstance(item, dict):
        return FsObject(name="")
    return FsObject(name=_str(item.get("name")), size=_int(item.get("size")), is_dir=item.get("is_dir") is True,
                    modified=_str(item.get("modified")), type=_int(item.get("type")), sign=_str(item.get("sign")),
                    thumb=_str(item.get("thumb")))


class HttpAlist:
    def __init__(self, http: VendorHttp) -> None:
        self.http = http

    async def _call(self, host: str, path: str, body: Any = None, token: str = "", method: str = "POST",
                    user_agent: str = "") -> Any:
        headers = {"Authorization": token} if token else {}
        if user_agent:
            headers["User-Agent"] = user_agent
        status, envelope = await self.http.call(method, f"{host}{path}", body=body, headers=headers)
        if not isinstance(envelope, dict) or "code" not in envelope:
            raise VendorUnreachable(f"alist answered HTTP {status} without its envelope (is this an Alist host?)")
        code, message = envelope.get("code"), _str(envelope.get("message")) or f"code {envelope.get('code')}"
        if code == 200:
            return envelope.get("data")
        if code == 401 and token:
            raise TokenRejected(message)
        if code == 403:
            raise VendorRefused(f"alist: {message}", 403)
        # Alist reports a missing object as a 500 whose message says so; there is no other signal.
        if code in (404, 500) and "not found" in message.lower():
            raise VendorNotFound(f"alist: {message}")
        raise VendorRefused(f"alist: {message}")

    async def login(self, host: str, username: str, hashed_password: str) -> str:
        status, envelope = await self.http.call("POST", f"{host}/api/auth/login/hash",
                                                body={"username": username, "password": hashed_password})
        if not isinstance(envelope, dict) or "code" not in envelope:
            raise VendorUnreachable(f"alist answered HTTP {status} without its envelope (is this an Alist host?)")
        if envelope.get("code") != 200:
            raise VendorBadCredentials(f"alist login failed: {_str(envelope.get('message')) or 'refused'}")
        data = envelope.get("data")
        token = _str(data.get("token")) if isinstance(data, dict) else ""
        if not token:
            raise VendorUnreachable("alist login answered no token")
        return token

    async def me(self, host: str, token: str) -> dict[str, Any]:
        data = await self._call(host, "/api/me", token=token, method="GET")
        if not isinstance(data, dict):
            raise VendorUnreachable("alist /api/me answered no user")
        return data

    async def fs_get(self, host: str, token: str, path: str, password: str, user_agent: str = "") -> FsGetResult:
        """`user_agent`: what Alist resolves the raw URL for (a UA-bound provider's link only answers it)."""
        data = await self._call(host, "/api/fs/get", {"path": path, "password": password}, token,
                                user_agent=user_agent)
        if not isinstance(data, dict):
            raise VendorUnreachable("alist /api/fs/get answered no object")
        related = data.get("related")
        return FsGetResult(name=_str(data.get("name")), size=_int(data.get("size")), is_dir=data.get("is_dir") is True,
                           type=_int(data.get("type")), raw_url=_str(data.get("raw_url")),
                           provider=_str(data.get("provider")), sign=_str(data.get("sign")),
                           related=[_obj(r) for r in related] if isinstance(related, list) else [])

    async def fs_list(self, host: str, token: str, path: str, password: str, page: int, per_page: int,
                      refresh: bool) -> FsListResult:
        data = await self._call(host, "/api/fs/list", {"path": path, "password": password, "page": page,
                                                       "per_page": per_page, "refresh": refresh}, token)
        if not isinstance(data, dict):
            raise VendorUnreachable("alist /api/fs/list answered no listing")
        content = data.get("content")
        return FsListResult(content=[_obj(c) for c in content] if isinstance(content, list) else [],
                            total=_int(data.get("total")), provider=_str(data.get("provider")),
                            write=data.get("write") is True)

    async def fs_search(self, host: str, token: str, parent: str, keywords: str, password: str, page: int,
                        per_page: int) -> FsSearchResult:
        data = await self._call(host, "/api/fs/search", {"parent": parent, "keywords": keywords, "scope": 0,
                                                         "page": page, "per_page": per_page,
                                                         "password": password}, token)
        if not isinstance(data, dict):
            raise VendorUnreachable("alist /api/fs/search answered no result")
        content = data.get("content")
        items = [SearchObject(parent=_str(c.get("parent")), name=_str(c.get("name")), is_dir=c.get("is_dir") is True,
                              size=_int(c.get("size")), type=_int(c.get("type")))
                 for c in content if isinstance(c, dict)] if isinstance(content, list) else []
        return FsSearchResult(content=items, total=_int(data.get("total")))

    async def fs_other(self, host: str, token: str, path: str, password: str, method: str) -> VideoPreview:
        """`/api/fs/other`: a storage driver's extra operation; `video_preview` is an Aliyun drive's transcodes."""
        data = await self._call(host, "/api/fs/other", {"path": path, "password": password, "method": method},
                                token)
        if not isinstance(data, dict):
            raise VendorUnreachable("alist /api/fs/other answered nothing")
        info = data.get("video_preview_play_info")
        info = info if isinstance(info, dict) else {}
        meta = info.get("meta") if isinstance(info.get("meta"), dict) else {}
        assert isinstance(meta, dict)
        tasks = info.get("live_transcoding_task_list")
        subs = info.get("live_transcoding_subtitle_task_list")
        duration = meta.get("duration")
        return VideoPreview(
            drive_id=_str(data.get("drive_id")), file_id=_str(data.get("file_id")),
            category=_str(info.get("category")),
            tasks=[TranscodingTask(template_id=_str(t.get("template_id")), template_name=_str(t.get("template_name")),
                                   width=_int(t.get("template_width")), height=_int(t.get("template_height")),
                                   status=_str(t.get("status")), stage=_str(t.get("stage")), url=_str(t.get("url")))
                   for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else [],
            subtitles=[TranscodingSubtitle(language=_str(t.get("language")), status=_str(t.get("status")),
                                           url=_str(t.get("url")))
                       for t in subs if isinstance(t, dict)] if isinstance(subs, list) else [],
            duration=float(duration) if isinstance(duration, (int, float)) and not isinstance(duration, bool)
            else 0.0, width=_int(meta.get("width")), height=_int(meta.get("height")))
