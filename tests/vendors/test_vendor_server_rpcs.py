"""The vendor gRPC server's Emby GetItems/GetItem and Alist FsOther, called over gRPC as an upstream SyncTV would
(its JWT convention), against the Emby and Alist emulations: answers, authorization and bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from synctv._generated import alist_pb2 as apb
from synctv._generated import alist_pb2_grpc, emby_pb2_grpc
from synctv._generated import emby_pb2 as epb
from synctv.vendors.remote.server import VendorServer, VendorServerConfig
from synctv.vendors.remote.wire import AUTH_METADATA, ERROR_TRAILER, mint
from tests.conftest_vendors import ALIST_PASSWORD, ALIST_USER, EMBY_PASSWORD, EMBY_USER
from tests.support.alist_emulator import AlistEmulator
from tests.support.emby_emulator import EmbyEmulator

SECRET = "vendor-rpc-secret-0123456789abcdef"


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = VendorServer(VendorServerConfig(listen="127.0.0.1:0", jwt_secret=SECRET, allow_local=True,
                                             timeout=2.0))
    await server.start()
    async with grpc.aio.insecure_channel(server.address) as ch:
        yield ch
    await server.stop()


def md(secret: str = SECRET) -> tuple[tuple[str, str], ...]:
    return ((AUTH_METADATA, mint(secret)),)


def trailer(err: grpc.aio.AioRpcError) -> str:
    return next((str(v) for k, v in err.trailing_metadata() or () if k == ERROR_TRAILER), "")


async def refused(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


async def test_emby_get_items_and_get_item(channel: grpc.aio.Channel, emby: EmbyEmulator) -> None:
    stub = emby_pb2_grpc.EmbyStub(channel)
    login = await stub.Login(epb.LoginReq(host=emby.base, username=EMBY_USER, password=EMBY_PASSWORD), metadata=md())
    token = login.token
    # no parent: the libraries
    top = await stub.GetItems(epb.GetItemsReq(host=emby.base, token=token), metadata=md())
    assert [(i.name, i.type, i.isFolder) for i in top.items] == [("Movies", "CollectionFolder", True),
                                                                 ("Shows", "CollectionFolder", True)]
    assert top.items[0].collectionType == "movies" and top.totalRecordCount == 2
    # a library's children, with their media sources
    movies = await stub.GetItems(epb.GetItemsReq(host=emby.base, token=token, parentId=emby.item_id("movies")),
                                 metadata=md())
    assert [i.name for i in movies.items] == ["Clip", "Other"]
    other = movies.items[1]
    assert [s.name for s in other.mediaSourceInfo] == ["1080p", "720p"]
    assert other.parentId == emby.item_id("movies")
    # a search is recursive below the parent (or everywhere without one)
    found = await stub.GetItems(epb.GetItemsReq(host=emby.base, token=token, searchTerm="pil"), metadata=md())
    assert [(i.name, i.seriesName, i.seasonName) for i in found.items] == [("Pilot", "Show", "Season 1")]
    below = await stub.GetItems(epb.GetItemsReq(host=emby.base, token=token, parentId=emby.item_id("movies"),
                                                searchTerm="pil"), metadata=md())
    assert list(below.items) == []
    # one item, with its sources and subtitle streams
    clip = await stub.GetItem(epb.GetItemReq(host=emby.base, token=token, itemId=emby.item_id("clip")),
                              metadata=md())
    assert (clip.name, clip.type, clip.isFolder) == ("Clip", "Movie", False)
    [source] = clip.mediaSourceInfo
    assert source.directPlayUrl.startswith(f"/Videos/{emby.item_id('clip')}/stream.mp4?")
    assert [(s.displayTitle, s.protocol) for s in source.mediaStreamInfo] == [("English (SRT)", "External"),
                                                                             ("French", "")]
    # bad input and refusals keep their meaning across the wire
    err = await refused(stub.GetItem(epb.GetItemReq(host=emby.base, token=token, itemId="nope"), metadata=md()))
    assert err.code() == grpc.StatusCode.NOT_FOUND and trailer(err) == "404"
    err = await refused(stub.GetItem(epb.GetItemReq(host=emby.base, token=token), metadata=md()))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and trailer(err) == "400"
    err = await refused(stub.GetItems(epb.GetItemsReq(host="ftp://x", token=token), metadata=md()))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    err = await refused(stub.GetItems(epb.GetItemsReq(host=emby.base, token="stale"), metadata=md()))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED and trailer(err) == "token"
    # without the server's JWT, or with another secret's: refused before the vendor is asked
    calls = len(emby.calls)
    for metadata in ((), md("another-secret-0123456789abcdefgh")):
        err = await refused(stub.GetItems(epb.GetItemsReq(host=emby.base, token=token), metadata=metadata))
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED and trailer(err) == ""
        err = await refused(stub.GetItem(epb.GetItemReq(host=emby.base, token=token, itemId="x"),
                                         metadata=metadata))
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert len(emby.calls) == calls
    # an Emby that does not answer in time: DEADLINE_EXCEEDED carrying 504, within the server's timeout
    emby.delay = 5
    err = await refused(stub.GetItems(epb.GetItemsReq(host=emby.base, token=token), metadata=md(), timeout=4))
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED and trailer(err) == "504"
    emby.delay = 0


@pytest.fixture
async def drives(tmp_path: Path) -> AsyncIterator[AlistEmulator]:
    root = tmp_path / "drives"
    for rel in ("ali/film.mp4", "ali/locked/film.mp4", "local/film.mp4"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"film")
    server = await AlistEmulator(root, {ALIST_USER: ALIST_PASSWORD}, {"/ali/locked": "pw"},
                                 providers={"/ali": "AliyundriveOpen"}).start()
    yield server
    await server.stop()


async def test_alist_fs_other_video_preview(channel: grpc.aio.Channel, drives: AlistEmulator) -> None:
    stub = alist_pb2_grpc.AlistStub(channel)
    token = (await stub.Login(apb.LoginReq(host=drives.base, username=ALIST_USER, password=ALIST_PASSWORD),
                              metadata=md())).token

    def req(path: str, method: str = "video_preview", **kw: Any) -> apb.FsOtherReq:
        return apb.FsOtherReq(host=drives.base, token=kw.pop("token", token), path=path, method=method, **kw)

    r = await stub.FsOther(req("/ali/film.mp4"), metadata=md())
    info = r.videoPreviewPlayInfo
    assert r.driveId == "1001" and info.category == "live_transcoding" and info.meta.height == 720
    assert [(t.templateId, t.templateWidth, t.templateHeight, t.status) for t in info.liveTranscodingTaskList] == [
        ("LD", 640, 360, "finished"), ("SD", 960, 540, "finished"), ("HD", 1280, 720, "finished")]
    assert all(t.url.startswith(f"{drives.base}/ali-hls/") for t in info.liveTranscodingTaskList)
    # Alist's refusals: a locked folder's wrong password, a storage without the operation, an unknown method,
    # a missing file, a bad token, a host that is not a URL
    assert (await stub.FsOther(req("/ali/locked/film.mp4", password="pw"), metadata=md())).driveId == "1001"
    for bad, code in ((req("/ali/locked/film.mp4", password="no"), "403"), (req("/local/film.mp4"), "502"),
                      (req("/ali/film.mp4", "rename"), "502"),
                      (req("/ali/none.mp4"), "404"), (req("/ali/film.mp4", token="stale"), "token"),
                      (apb.FsOtherReq(host="not a url", path="/ali/film.mp4"), "400")):
        err = await refused(stub.FsOther(bad, metadata=md()))
        assert trailer(err) == code, (bad, err.details())
    err = await refused(stub.FsOther(req("/local/film.mp4"), metadata=md()))
    assert "not implement" in (err.details() or "")
    err = await refused(stub.FsOther(req("/ali/film.mp4"), metadata=()))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED and trailer(err) == ""
