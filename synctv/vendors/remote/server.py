"""`synctv vendor serve`: the Alist and Emby services over gRPC, backed by the in-process implementations.

JWT-authenticated (HS256 bearer tokens in `authorization`, go-kratos' convention), gRPC health and reflection
open, optional TLS; registered in etcd (go-kratos' `/microservices/<name>/<id>` record, so upstream SyncTV finds
it too) or Consul (a service with a gRPC health check) through `synctv/discovery`, and deregistered on shutdown.
The server fetches vendor hosts itself, so the SSRF guard runs here: private addresses only with `allow_local`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from synctv._generated import alist_pb2 as apb
from synctv._generated import alist_pb2_grpc, emby_pb2_grpc
from synctv._generated import emby_pb2 as epb
from synctv.discovery.base import Discovery, Member
from synctv.media.fetcher import Fetcher
from synctv.media.ssrf import AddressPolicy
from synctv.vendors.alist.api import hash_password
from synctv.vendors.alist.local import HttpAlist
from synctv.vendors.emby.api import Item, MediaSource
from synctv.vendors.emby.local import HttpEmby
from synctv.vendors.errors import TokenRejected, VendorError
from synctv.vendors.http import VendorHttp, normalize_host
from synctv.vendors.remote.wire import AUTH_METADATA, EXEMPT_PREFIXES, USER_AGENT_METADATA, encode_error, verify

log = logging.getLogger(__name__)
T = TypeVar("T")
SERVICES = ("api.alist.Alist", "api.emby.Emby")


@dataclass
class VendorServerConfig:
    listen: str = "0.0.0.0:9000"
    advertise: str = ""  # the address registered (default: the bound one, 127.0.0.1 for a wildcard listen)
    jwt_secret: str = ""  # empty = no authentication (only behind a trusted network)
    service_name: str = "synctv-vendors"
    instance_id: str = ""
    etcd_endpoints: tuple[str, ...] = ()
    consul_address: str = ""
    consul_token: str = ""
    ttl: float = 5.0
    allow_local: bool = False
    timeout: float = 10.0
    tls_cert: bytes | None = None
    tls_key: bytes | None = None


class _Auth(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.rejected = 0

    async def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails],
                                                             Awaitable[grpc.RpcMethodHandler]],
                                details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or not self.secret or details.method.startswith(EXEMPT_PREFIXES):
            return handler
        value = ""
        for key, val in details.invocation_metadata or ():
            if key == AUTH_METADATA:
                value = val if isinstance(val, str) else val.decode()
        reason = verify(value, self.secret)
        if reason is None:
            return handler
        self.rejected += 1
        log.warning("vendor server: rejected a call to %s: %s", details.method, reason)

        async def deny(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or missing vendor server token")

        return grpc.unary_unary_rpc_method_handler(deny, handler.request_deserializer, handler.response_serializer)


async def _run(context: grpc.aio.ServicerContext, call: Awaitable[T]) -> T:
    try:
        return await call
    except (VendorError, TokenRejected) as exc:
        code, details, trailer = encode_error(exc)
        context.set_trailing_metadata(trailer)
        await context.abort(code, details)
        raise  # unreachable: abort raises


def _host(host: str, vendor: str) -> str:
    return normalize_host(host, vendor)


class AlistServicer(alist_pb2_grpc.AlistServicer):  # type: ignore[misc]
    def __init__(self, alist: HttpAlist) -> None:
        self.alist = alist

    async def Login(self, req: apb.LoginReq, context: grpc.aio.ServicerContext) -> apb.LoginResp:
        hashed = req.password if req.hashed else hash_password(req.password)

        async def go() -> apb.LoginResp:
            return apb.LoginResp(token=await self.alist.login(_host(req.host, "alist"), req.username, hashed))
        return await _run(context, go())

    async def Me(self, req: apb.MeReq, context: grpc.aio.ServicerContext) -> apb.MeResp:
        async def go() -> apb.MeResp:
            me = await self.alist.me(_host(req.host, "alist"), req.token)
            return apb.MeResp(id=int(me.get("id") or 0), username=str(me.get("username", "")),
                              basePath=str(me.get("base_path", "")), role=int(me.get("role") or 0),
                              disabled=bool(me.get("disabled")), permission=int(me.get("permission") or 0),
                              ssoId=str(me.get("sso_id", "")), otp=bool(me.get("otp")))
        return await _run(context, go())

    async def FsGet(self, req: apb.FsGetReq, context: grpc.aio.ServicerContext) -> apb.FsGetResp:
        user_agent = ""
        for key, value in context.invocation_metadata() or ():
            if key == USER_AGENT_METADATA and isinstance(value, str) and len(value) <= 512:
                user_agent = value

        async def go() -> apb.FsGetResp:
            o = await self.alist.fs_get(_host(req.host, "alist"), req.token, req.path, req.password, user_agent)
            return apb.FsGetResp(name=o.name, size=o.size, isDir=o.is_dir, type=o.type, rawUrl=o.raw_url,
                                 provider=o.provider, sign=o.sign)
        return await _run(context, go())

    async def FsList(self, req: apb.FsListReq, context: grpc.aio.ServicerContext) -> apb.FsListResp:
        async def go() -> apb.FsListResp:
            r = await self.alist.fs_list(_host(req.host, "alist"), req.token, req.path, req.password,
                                         int(req.page), int(req.perPage), req.refresh)
            return apb.FsListResp(total=r.total, provider=r.provider, write=r.write, content=[
                apb.FsListResp.FsListContent(name=c.name, size=c.size, isDir=c.is_dir, type=c.type, sign=c.sign,
                                             thumb=c.thumb) for c in r.content])
        return await _run(context, go())

    async def FsSearch(self, req: apb.FsSearchReq,
                       context: grpc.aio.ServicerContext) -> apb.FsSearchResp:
        async def go() -> apb.FsSearchResp:
            r = await self.alist.fs_search(_host(req.host, "alist"), req.token, req.parent, req.keywords,
                                           req.password, int(req.page), int(req.perPage))
            return apb.FsSearchResp(total=r.total, content=[
                apb.FsSearchResp.FsSearchContent(parent=c.parent, name=c.name, isDir=c.is_dir, size=c.size,
                                                 type=c.type) for c in r.content])
        return await _run(context, go())

    async def FsOther(self, req: apb.FsOtherReq, context: grpc.aio.ServicerContext) -> apb.FsOtherResp:
        async def go() -> apb.FsOtherResp:
            v = await self.alist.fs_other(_host(req.host, "alist"), req.token, req.path, req.password, req.method)
            info = apb.FsOtherResp.VideoPreviewPlayInfo
            return apb.FsOtherResp(driveId=v.drive_id, fileId=v.file_id, videoPreviewPlayInfo=info(
                category=v.category,
                liveTranscodingTaskList=[info.LiveTranscodingTaskList(
                    stage=t.stage, status=t.status, templateHeight=t.height, templateId=t.template_id,
                    templateName=t.template_name, templateWidth=t.width, url=t.url) for t in v.tasks],
                liveTranscodingSubtitleTaskList=[info.LiveTranscodingSubtitleTaskList(
                    language=t.language, status=t.status, url=t.url) for t in v.subtitles],
                meta=info.Meta(duration=v.duration, height=v.height, width=v.width)))
        return await _run(context, go())


class EmbyServicer(emby_pb2_grpc.EmbyServicer):  # type: ignore[misc]
    def __init__(self, emby: HttpEmby) -> None:
        self.emby = emby

    async def Login(self, req: epb.LoginReq, context: grpc.aio.ServicerContext) -> epb.LoginResp:
        async def go() -> epb.LoginResp:
            r = await self.emby.login(_host(req.host, "emby"), req.username, req.password)
            return epb.LoginResp(token=r.token, userId=r.user_id, serverId=r.server_id)
        return await _run(context, go())

    async def Me(self, req: epb.MeReq, context: grpc.aio.ServicerContext) -> epb.MeResp:
        async def go() -> epb.MeResp:
            me = await self.emby.me(_host(req.host, "emby"), req.token, req.userId)
            return epb.MeResp(id=str(me.get("Id", "")), name=str(me.get("Name", "")),
                              serverId=str(me.get("ServerId", "")))
        return await _run(context, go())

    async def GetSystemInfo(self, req: epb.SystemInfoReq,
                            context: grpc.aio.ServicerContext) -> epb.SystemInfoResp:
        async def go() -> epb.SystemInfoResp:
            info = await self.emby.system_info(_host(req.host, "emby"), req.token)
            fields = epb.SystemInfoResp.DESCRIPTOR.fields_by_name
            out = epb.SystemInfoResp()
            for key, value in info.items():
                name = key[:1].lower() + key[1:]
                field = fields.get(name)
                if field is None:
                    continue
                kind = {field.TYPE_STRING: str, field.TYPE_BOOL: bool, field.TYPE_INT32: int}.get(field.type)
                if kind is not None and isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                    setattr(out, name, value)
            return out
        return await _run(context, go())

    async def FsList(self, req: epb.FsListReq, context: grpc.aio.ServicerContext) -> epb.FsListResp:
        async def go() -> epb.FsListResp:
            host = _host(req.host, "emby")
            found = await self.emby.get_items(host, req.token, req.userId, req.path, req.searchTerm,
                                              int(req.startIndex), int(req.limit) or 50)
            paths = []
            if req.path:
                here = await self.emby.get_item(host, req.token, req.userId, req.path)
                paths.append(epb.Path(name=here.name, path=here.id))
            return epb.FsListResp(total=found.total, paths=paths, items=[_item_pb(i) for i in found.items])
        return await _run(context, go())

    async def PlaybackInfo(self, req: epb.PlaybackInfoReq,
                           context: grpc.aio.ServicerContext) -> epb.PlaybackInfoResp:
        async def go() -> epb.PlaybackInfoResp:
            r = await self.emby.playback_info(_host(req.host, "emby"), req.token, req.userId, req.itemId)
            return epb.PlaybackInfoResp(playSessionID=r.play_session_id,
                                        mediaSourceInfo=[_source_pb(s) for s in r.sources])
        return await _run(context, go())

    async def Logout(self, req: epb.LogoutReq, context: grpc.aio.ServicerContext) -> epb.Empty:
        async def go() -> epb.Empty:
            await self.emby.logout(_host(req.host, "emby"), req.token)
            return epb.Empty()
        return await _run(context, go())

    async def DeleteActiveEncodeings(self, req: epb.DeleteActiveEncodeingsReq,
                                     context: grpc.aio.ServicerContext) -> epb.Empty:
        async def go() -> epb.Empty:
            await self.emby.delete_active_encodings(_host(req.host, "emby"), req.token, req.palySessionId)
            return epb.Empty()
        return await _run(context, go())

    async def GetItems(self, req: epb.GetItemsReq, context: grpc.aio.ServicerContext) -> epb.GetItemsResp:
        async def go() -> epb.GetItemsResp:
            r = await self.emby.items(_host(req.host, "emby"), req.token, req.parentId, req.searchTerm)
            return epb.GetItemsResp(items=[_item_pb(i) for i in r.items], totalRecordCount=r.total)
        return await _run(context, go())

    async def GetItem(self, req: epb.GetItemReq, context: grpc.aio.ServicerContext) -> epb.Item:
        async def go() -> epb.Item:
            return _item_pb(await self.emby.item(_host(req.host, "emby"), req.token, req.itemId))
        return await _run(context, go())


def _source_pb(s: MediaSource) -> epb.MediaSourceInfo:
    return epb.MediaSourceInfo(id=s.id, name=s.name, container=s.container, directPlayUrl=s.direct_play_url,
                               transcodingUrl=s.transcoding_url, mediaStreamInfo=[
                                   epb.MediaStreamInfo(type="Subtitle", index=t.index, codec=t.codec,
                                                       language=t.language, title=t.title, displayTitle=t.title,
                                                       protocol="External" if t.is_external else "")
                                   for t in s.subtitles])


def _item_pb(i: Item) -> epb.Item:
    return epb.Item(id=i.id, name=i.name, type=i.type, isFolder=i.is_folder, parentId=i.parent_id,
                    seriesName=i.series_name, seriesId=i.series_id, seasonName=i.season_name, seasonId=i.season_id,
                    collectionType=i.collection_type, mediaSourceInfo=[_source_pb(s) for s in i.sources])


def kratos_record(cfg: VendorServerConfig, instance_id: str, address: str, version: str) -> bytes:
    """go-kratos' registry.ServiceInstance, as its etcd registrar writes it."""
    return json.dumps({"id": instance_id, "name": cfg.service_name, "version": version,
                       "metadata": {"services": ",".join(SERVICES)},
                       "endpoints": [f"grpc://{address}"]}, separators=(",", ":")).encode()


class VendorServer:
    def __init__(self, cfg: VendorServerConfig, version: str = "") -> None:
        self.cfg = cfg
        self.version = version
        self.instance_id = cfg.instance_id or f"{cfg.service_name}-{uuid.uuid4().hex[:12]}"
        policy = AddressPolicy(allow_local=cfg.allow_local)
        self.fetcher = Fetcher(lambda: policy)
        self.auth = _Auth(cfg.jwt_secret)
        self._health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self.discovery: Discovery | None = None
        self.port = 0

    @property
    def address(self) -> str:
        if self.cfg.advertise:
            return self.cfg.advertise
        host = self.cfg.listen.rpartition(":")[0] or "127.0.0.1"
        return f"{'127.0.0.1' if host in ('0.0.0.0', '::', '[::]') else host}:{self.port}"

    async def start(self) -> None:
        server = grpc.aio.server(interceptors=[self.auth])
        alist_pb2_grpc.add_AlistServicer_to_server(
            AlistServicer(HttpAlist(VendorHttp(lambda: self.fetcher, self.cfg.timeout, "alist"))), server)
        emby_pb2_grpc.add_EmbyServicer_to_server(
            EmbyServicer(HttpEmby(VendorHttp(lambda: self.fetcher, self.cfg.timeout, "emby"))), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (*SERVICES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server)
        if self.cfg.tls_cert and self.cfg.tls_key:
            self.port = server.add_secure_port(self.cfg.listen, grpc.ssl_server_credentials(
                [(self.cfg.tls_key, self.cfg.tls_cert)]))
        else:
            self.port = server.add_insecure_port(self.cfg.listen)
        if not self.port:
            raise OSError(f"cannot listen on {self.cfg.listen}")
        await server.start()
        self._server = server
        for name in ("", *SERVICES):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.discovery = self._discovery()
        if self.discovery is not None:
            await self.discovery.start()
        log.info("vendor server %s listening on %s (registered as %s)", self.instance_id, self.address,
                 self.cfg.service_name if self.discovery else "-")

    def _discovery(self) -> Discovery | None:
        member = Member(instance_id=self.instance_id, grpc_address=self.address, version=self.version,
                        meta={"services": ",".join(SERVICES)})
        if self.cfg.etcd_endpoints:
            from synctv.discovery.etcd import KRATOS_PREFIX, EtcdDiscovery

            return EtcdDiscovery(member, endpoints=self.cfg.etcd_endpoints,
                                 prefix=f"{KRATOS_PREFIX}{self.cfg.service_name}/", ttl=self.cfg.ttl,
                                 record=kratos_record(self.cfg, self.instance_id, self.address, self.version))
        if self.cfg.consul_address:
            from synctv.discovery.consul import ConsulDiscovery

            return ConsulDiscovery(member, address=self.cfg.consul_address, token=self.cfg.consul_token or None,
                                   service_name=self.cfg.service_name, ttl=self.cfg.ttl)
        return None

    async def stop(self) -> None:
        for name in ("", *SERVICES):
            await self._health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        if self.discovery is not None:
            await self.discovery.stop()
            self.discovery = None
        if self._server is not None:
            await self._server.stop(1.0)
            self._server = None
        await self.fetcher.close()


async def serve_forever(cfg: VendorServerConfig, version: str = "") -> None:
    server = VendorServer(cfg, version)
    await server.start()
    print(f"synctv vendor server listening on {server.address}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
