"""The vendor interfaces over a backend's gRPC endpoints (`api.alist.Alist`, `api.emby.Emby`)."""

from __future__ import annotations

import posixpath
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from synctv._generated import alist_pb2 as apb
from synctv._generated import alist_pb2_grpc, emby_pb2_grpc
from synctv._generated import emby_pb2 as epb
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
from synctv.vendors.emby.api import Item, ItemsResult, LoginResult, MediaSource, PlaybackInfoResult, SubtitleStream
from synctv.vendors.remote.pool import BackendPool
from synctv.vendors.remote.wire import USER_AGENT_METADATA

Meta = tuple[tuple[str, str], ...]


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


class RemoteAlist:
    def __init__(self, pool: BackendPool) -> None:
        self.pool = pool

    async def login(self, host: str, username: str, hashed_password: str) -> str:
        async def go(ch: grpc.aio.Channel, md: Meta, timeout: float) -> str:
            r = await alist_pb2_grpc.AlistStub(ch).Login(
                apb.LoginReq(host=host, username=username, password=hashed_password, hashed=True),
                metadata=md, timeout=timeout)
            return str(r.token)
        return await self.pool.call(go)

    async def me(self, host: str, token: str) -> dict[str, Any]:
        async def go(ch: grpc.aio.Channel, md: Meta, timeout: float) -> dict[str, Any]:
            r = await alist_pb2_grpc.AlistStub(ch).Me(apb.MeReq(host=host, token=token), metadata=md,
                                                     timeout=timeout)
            return {"id": r.id, "username": r.username, "base_path": r.basePath, "role": r.role,
                    "disabled": r.disabled, "permission": r.permission, "sso_id": r.ssoId, "otp": r.otp}
        return await self.pool.call(go)

    async def fs_get(self, host: str, token: str, path: str, password: str, user_agent: str = "") -> FsGetResult:
        extra: Meta = ((USER_AGENT_METADATA, user_agent),) if user_agent else ()

        async def go(ch: grpc.aio.Channel, md: Meta, timeout: float) -> Any:
            return await alist_pb2_grpc.AlistStub(ch).FsGet(
                apb.FsGetReq(host=host, token=token, path=path, password=password), metadata=md + extra,
                timeout=timeout)
        r = await self.pool.call(go)
        related: list[FsObject] = []
        if not r.isDir:
            # The gRPC answer has no `related`: the siblings sharing the file's stem are the same set.
            folder = posixpath.dirname(path) or "/"
            siblings = await self.fs_list(host, token, folder, password, 1, 0, False)
            related = [o for o in siblings.content if o.name != r.name and not o.is_dir
                       and o.name.startswith(_stem(r.name))]
        return FsGetResult(name=r.name, size=r.size, is_dir=r.isDir, type=r.type, raw_url=r.rawUrl,
                           provider=r.provider, sign=r.sign, related=related)

    async def fs_list(self, host: str, token: str, path: str, password: str, page: int, per_page: int,
                      refresh: bool) -> FsListResult:
        async def go(ch: grpc.aio.Channel, md: Meta, timeout: float) -> Any:
            return await alist_pb2_grpc.AlistStub(ch).FsList(
                apb.FsListReq(host=host, token=token, path=path, password=password, page=page, perPage=per_page,
                              refresh=refresh), metadata=md, timeout=timeout)
        r = await self.pool.call(go)
        return FsListResult(content=[FsObject(name=c.name, size=c.size, is_dir=c.isDir, type=c.type, sign=c.sign,
                                              thumb=c.thumb) for c in r.content],
                            total=r.total, provider=r.provider, write=r.write)

    async def fs_other(self, host: str, token: str, path: str, password: str, method: str) -> VideoPreview:
        async def go(ch: grpc.aio.Channel, md: Meta, timeout: float) -> Any:
            return await alist_pb2_grpc.AlistStub(ch).FsOther(
                apb.FsOtherReq(host=host, token=token, path=path, password=password, method=method), metadata=md,
                timeout=timeout)
        r = await self.pool.call(go)
        info = r.videoPreviewPlayInfo
        return VideoPreview(
            drive_id=r.driveId, file_id=r.fileId, category=info.category,
            tasks=[TranscodingTask(template_id=t.templateId, template_name=t.templateName, width=t.templateWidth,
                                   height=t.templateHeight, status=t.status, stage=t.stage, url=t.url)
                   for t in info.liveTranscodingTaskList],
            subtitles=[TranscodingSubtitle(language=t.language, status=t.status, url=t.url)
                       for t in info.liveTranscodingSubtitleTaskList],
            duration=info.meta.duration, width=info.meta.width, height=info.meta.height)

    async def fs_search(self, host: str, token: str, parent: str, keywords: str, password: str, page: int,
                        per_page: int) -> FsSearchResult:
        async def go(ch: grpc.aio.Channel, md: Meta, timeout: float) -> Any:
            return await alist_pb2_grpc.AlistStub(ch).FsSearch(
                apb.FsSearchReq(host=host, token=token, parent=parent, keywords=keywords, page=page,
                                perPage=per_page, password=password), metadata=md, timeout=timeout)
        r = await self.pool.call(go)
        return FsSearchResult(content=[SearchObject(parent=c.parent, name=c.name, is_dir=c.isDir, size=c.size,
                                                    type=c.type) for c in r.content], total=r.total)


async def alist_probe(ch: grpc.aio.Channel, md: Meta, timeout: float) -> object:
    """An authenticated call any vendor server refuses on its own terms (no host): see `pool.probe`."""
    return await alist_pb2_grpc.AlistStub(ch).Me(apb.MeReq(), metadata=md, timeout=timeout)


def _item(i: Any) -> Item:
    return Item(id=i.id, name=i.name, type=i.type, is_folder=i.isFolder, parent_id=i.parentId,
                series_name=i.seriesName)


class RemoteEmby:
    def __init__(self, pool: BackendPool) -> None:
        self.pool = pool

    async def _stub_call(self, method: str, request: Any) -> Any:
        async def go(ch: grpc.aio.Channel, md: Meta, timeout: float) -> Any:
            return await getattr(emby_pb2_grpc.EmbyStub(ch), method)(request, metadata=md, timeout=timeout)
        return await self.pool.call(go)

    async def login(self, host: str, username: str, password: str) -> LoginResult:
        r = await self._stub_call("Login", epb.LoginReq(host=host, username=username, password=password))
        return LoginResult(token=r.token, user_id=r.userId, server_id=r.serverId)

    async def me(self, host: str, token: str, user_id: str) -> dict[str, Any]:
        r = await self._stub_call("Me", epb.MeReq(host=host, token=token, userId=user_id))
        return {"Id": r.id, "Name": r.name, "ServerId": r.serverId}

    async def system_info(self, host: str, token: str) -> dict[str, Any]:
        r = await self._stub_call("GetSystemInfo", epb.SystemInfoReq(host=host, token=token))
        out: dict[str, Any] = MessageToDict(r, preserving_proto_field_name=True)
        return out

    async def get_item(self, host: str, token: str, user_id: str, item_id: str) -> Item:
        r = await self._stub_call("FsList", epb.FsListReq(host=host, token=token, path=item_id, limit=1,
                                                          userId=user_id))
        here = r.paths[-1] if r.paths else None
        return Item(id=here.path if here else item_id, name=here.name if here else "", type="", is_folder=True)

    async def get_items(self, host: str, token: str, user_id: str, parent_id: str, search: str, start: int,
                        limit: int) -> ItemsResult:
        r = await self._stub_call("FsList", epb.FsListReq(host=host, token=token, path=parent_id, startIndex=start,
                                                          limit=limit, searchTerm=search, userId=user_id))
        return ItemsResult(items=[_item(i) for i in r.items], total=r.total)

    async def playback_info(self, host: str, token: str, user_id: str, item_id: str) -> PlaybackInfoResult:
        r = await self._stub_call("PlaybackInfo", epb.PlaybackInfoReq(host=host, token=token, userId=user_id,
                                                                      itemId=item_id))
        return PlaybackInfoResult(play_session_id=r.playSessionID, sources=[
            MediaSource(id=s.id, name=s.name, container=s.container, direct_play_url=s.directPlayUrl,
                        transcoding_url=s.transcodingUrl, subtitles=[
                            SubtitleStream(index=t.index, codec=t.codec, language=t.language,
                                           title=t.displayTitle or t.title, is_external=t.protocol == "External")
                            for t in s.mediaStreamInfo if t.type == "Subtitle"])
            for s in r.mediaSourceInfo])

    async def logout(self, host: str, token: str) -> None:
        await self._stub_call("Logout", epb.LogoutReq(host=host, token=token))

    async def delete_active_encodings(self, host: str, token: str, play_session_id: str) -> None:
        await self._stub_call("DeleteActiveEncodeings", epb.DeleteActiveEncodeingsReq(
            host=host, token=token, deviceId="synctv-server", palySessionId=play_session_id))
