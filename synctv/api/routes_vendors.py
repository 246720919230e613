"""`/api/vendor`: users bind their Alist and Emby/Jellyfin servers and browse them (upstream §2.6). Bilibili
answers a clear 400: not supported yet."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from aiohttp import web

from synctv.api.auth import UserCtx, require_user
from synctv.api.context import services
from synctv.api.requests import field_bool, field_str, json_object, paging
from synctv.api.responses import bad_request, forbidden, no_content, not_found, ok
from synctv.api.routing import Routes
from synctv.core.movies import BILIBILI_UNSUPPORTED
from synctv.vendors.alist.api import hash_password
from synctv.vendors.emby.api import EmbyApi
from synctv.vendors.errors import NotBound, TokenRejected, VendorError
from synctv.vendors.http import normalize_host
from synctv.vendors.service import ALIST, EMBY, Account, split_path, vendors

routes = Routes("vendors")
VENDOR_NAMES = ("bilibili", "alist", "emby")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SERVER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def _user(request: web.Request) -> UserCtx:
    user = await require_user(request)
    if user.is_guest:
        raise forbidden("guests cannot use vendor accounts")
    return user


def _server_id(value: str, key: str = "serverId") -> str:
    if not _SERVER_ID.fullmatch(value):
        raise bad_request(f"{key} is required" if not value else f"invalid {key}")
    return value


def _backend(request: web.Request) -> str:
    """The `?backend=` a login asks for (upstream: an empty or unknown name is the in-process implementation)."""
    backend = request.query.get("backend", "")
    if len(backend) > 64:
        raise bad_request("backend is too long")
    return backend


@routes.get("/api/vendor/backends/{vendor}", "Enabled vendor backend names for a vendor", auth="user")
async def backends(request: web.Request) -> web.Response:
    await _user(request)
    vendor = request.match_info["vendor"]
    if vendor not in VENDOR_NAMES:
        raise bad_request(f"unknown vendor {vendor[:32]!r}; one of {', '.join(VENDOR_NAMES)}")
    backends = vendors(services(request)).backends
    await backends.ensure_loaded()
    return ok(backends.names(vendor))


@routes.post("/api/vendor/alist/login", "Bind an Alist server (log in to it)", auth="user",
             body={"host": "string", "username": "string", "password": "string", "hashedPassword": "string"},
             query=("backend",))
async def alist_login(request: web.Request) -> web.Response:
    user = await _user(request)
    body = await json_object(request)
    host = normalize_host(field_str(body, "host"), ALIST)
    username = field_str(body, "username")
    if not username or len(username) > 256:
        raise bad_request("username is required" if not username else "username is too long")
    password = field_str(body, "password", required=False)
    hashed = field_str(body, "hashedPassword", required=False)
    if hashed:
        if not _HEX64.fullmatch(hashed):
            raise bad_request("hashedPassword must be 64 lowercase hex digits (sha256)")
    elif password:
        if len(password) > 1024:
            raise bad_request("password is too long")
        hashed = hash_password(password)
    else:
        raise bad_request("password or hashedPassword is required")
    await vendors(services(request)).alist_bind(user.id, host, username, hashed, _backend(request))
    return no_content()


@routes.post("/api/vendor/alist/logout", "Unbind an Alist server", auth="user", body={"serverId": "string"})
async def alist_logout(request: web.Request) -> web.Response:
    user = await _user(request)
    sid = _server_id(field_str(await json_object(request), "serverId", required=False))
    if not await vendors(services(request)).unbind(user.id, ALIST, sid):
        raise not_found("not logged in to this alist server")
    return no_content()


@routes.get("/api/vendor/alist/binds", "The Alist servers I am bound to", auth="user")
async def alist_binds(request: web.Request) -> web.Response:
    user = await _user(request)
    accounts = await vendors(services(request)).accounts(user.id, ALIST)
    return ok([{"serverId": a.server_id, "host": a.host} for a in accounts])


@routes.get("/api/vendor/alist/me", "My account on one bound Alist server", auth="user", query=("serverID",))
async def alist_me(request: web.Request) -> web.Response:
    user = await _user(request)
    sid = _server_id(request.query.get("serverID", ""), "serverID")
    vs = vendors(services(request))
    me = await vs.with_alist(user.id, sid, lambda alist, a: alist.me(a.host, a.token))
    info = {"id": me.get("id", 0), "username": me.get("username", ""), "password": "",
            "basePath": me.get("base_path", ""), "role": me.get("role", 0), "disabled": me.get("disabled", False),
            "permission": me.get("permission", 0), "ssoId": me.get("sso_id", ""), "otp": me.get("otp", False)}
    return ok({"isLogin": True, "info": info})


def _crumbs(sid: str, inner: str) -> list[dict[str, str]]:
    crumbs = [{"name": "", "path": f"{sid}/"}]
    walked = ""
    for part in [p for p in inner.split("/") if p]:
        walked += "/" + part
        crumbs.append({"name": part, "path": f"{sid}{walked}"})
    return crumbs


def _servers_page(accounts: list[Account], page: int, size: int) -> dict[str, Any]:
    chosen = accounts[(page - 1) * size:page * size]
    return {"paths": [{"name": "", "path": ""}], "total": len(accounts),
            "items": [{"name": a.host, "path": f"{a.server_id}/", "isDir": True, "size": 0} for a in chosen]}


@routes.post("/api/vendor/alist/list", "Browse (or search) a bound Alist server", auth="user",
             body={"path": "string", "password": "string", "keyword": "string", "refresh": "boolean"},
             query=("page", "max", "backend"))
async def alist_list(request: web.Request) -> web.Response:
    user = await _user(request)
    body = await json_object(request)
    path = field_str(body, "path", required=False)
    password = field_str(body, "password", required=False)
    keyword = field_str(body, "keyword", required=False)
    refresh = field_bool(body, "refresh")
    if len(path) > 4096 or len(password) > 1024 or len(keyword) > 256:
        raise bad_request("path, password or keyword is too long")
    page, size = paging(request)
    vs = vendors(services(request))
    if not path:
        accounts = await vs.accounts(user.id, ALIST)
        if not accounts:
            raise NotBound("not logged in to any alist server")
        if len(accounts) > 1:
            return ok(_servers_page(accounts, page, size))
        path = f"{accounts[0].server_id}/"
    sid, inner = split_path(path)
    _server_id(sid, "path's serverId")
    if keyword:
        found = await vs.with_alist(user.id, sid, lambda alist, a: alist.fs_search(a.host, a.token, inner, keyword,
                                                                                   password, page, size))
        items = [{"name": o.name, "path": f"{sid}{posixpath.join(o.parent or '/', o.name)}", "isDir": o.is_dir,
                  "size": o.size} for o in found.content]
        return ok({"paths": _crumbs(sid, inner), "items": items, "total": found.total})
    listing = await vs.with_alist(user.id, sid, lambda alist, a: alist.fs_list(a.host, a.token, inner, password,
                                                                               page, size, refresh))
    items = [{"name": o.name, "path": f"{sid}{posixpath.join(inner, o.name)}", "isDir": o.is_dir, "size": o.size}
             for o in listing.content]
    return ok({"paths": _crumbs(sid, inner), "items": items, "total": listing.total})


@routes.any("/api/vendor/bilibili/{tail:.*}", "Bilibili: not supported yet (a clear 400)")
async def bilibili(request: web.Request) -> web.Response:
    raise bad_request(BILIBILI_UNSUPPORTED)


# -- Emby / Jellyfin ------------------------------------------------------------------------------------------

@routes.post("/api/vendor/emby/login", "Bind an Emby or Jellyfin server (log in to it)", auth="user",
             body={"host": "string", "username": "string", "password": "string"}, query=("backend",))
async def emby_login(request: web.Request) -> web.Response:
    user = await _user(request)
    body = await json_object(request)
    host = normalize_host(field_str(body, "host"), EMBY)
    username = field_str(body, "username")
    password = field_str(body, "password", required=False)
    if not username or len(username) > 256:
        raise bad_request("username is required" if not username else "username is too long")
    if len(password) > 1024:
        raise bad_request("password is too long")
    await vendors(services(request)).emby_bind(user.id, host, username, password, _backend(request))
    return no_content()


@routes.post("/api/vendor/emby/logout", "Unbind an Emby server (and end its session there)", auth="user",
             body={"serverId": "string"})
async def emby_logout(request: web.Request) -> web.Response:
    user = await _user(request)
    sid = _server_id(field_str(await json_object(request), "serverId", required=False))
    vs = vendors(services(request))
    account = await vs.account(user.id, EMBY, sid)
    emby, _ = await vs.emby_for(account.backend)
    try:
        await emby.logout(account.host, account.token)
    except (VendorError, TokenRejected):
        pass  # the binding goes away here whatever the server says (it may be gone for good)
    await vs.unbind(user.id, EMBY, sid)
    return no_content()


@routes.get("/api/vendor/emby/binds", "The Emby servers I am bound to", auth="user")
async def emby_binds(request: web.Request) -> web.Response:
    user = await _user(request)
    accounts = await vendors(services(request)).accounts(user.id, EMBY)
    return ok([{"serverId": a.server_id, "host": a.host} for a in accounts])


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


@routes.get("/api/vendor/emby/me", "System info of one bound Emby server", auth="user", query=("serverID",))
async def emby_me(request: web.Request) -> web.Response:
    user = await _user(request)
    sid = _server_id(request.query.get("serverID", ""), "serverID")
    vs = vendors(services(request))
    info = await vs.with_emby(user.id, sid, lambda emby, a: emby.system_info(a.host, a.token))
    return ok({"isLogin": True, "info": {_camel(k): v for k, v in info.items()
                                         if isinstance(v, (str, int, bool)) and _camel(k) in SYSTEM_INFO_FIELDS}})


# The `SystemInfoResp` fields of upstream's emby.proto.
SYSTEM_INFO_FIELDS = frozenset({
    "systemUpdateLevel", "operatingSystemDisplayName", "packageName", "hasPendingRestart", "isShuttingDown",
    "supportsLibraryMonitor", "webSocketPortNumber", "canSelfRestart", "canSelfUpdate", "canLaunchWebBrowser",
    "programDataPath", "itemsByNamePath", "cachePath", "logPath", "internalMetadataPath", "transcodingTempPath",
    "httpServerPortNumber", "supportsHttps", "httpsPortNumber", "hasUpdateAvailable", "supportsAutoRunAtStartup",
    "hardwareAccelerationRequiresPremiere", "localAddress", "wanAddress", "serverName", "version",
    "operatingSystem", "id"})


@routes.post("/api/vendor/emby/list", "Browse (or search) a bound Emby server's libraries", auth="user",
             body={"path": "string", "keyword": "string"}, query=("page", "max", "backend"))
async def emby_list(request: web.Request) -> web.Response:
    user = await _user(request)
    body = await json_object(request)
    path = field_str(body, "path", required=False)
    keyword = field_str(body, "keyword", required=False)
    if len(path) > 512 or len(keyword) > 256:
        raise bad_request("path or keyword is too long")
    page, size = paging(request)
    vs = vendors(services(request))
    if not path:
        accounts = await vs.accounts(user.id, EMBY)
        if not accounts:
            raise NotBound("not logged in to any emby server")
        if len(accounts) > 1:
            servers = _servers_page(accounts, page, size)
            for item in servers["items"]:
                item.pop("size")
                item["type"] = "server"
            return ok(servers)
        path = f"{accounts[0].server_id}/"
    sid, _, item_id = path.partition("/")
    _server_id(sid, "path's serverId")
    if item_id and not _SERVER_ID.fullmatch(item_id):
        raise bad_request("invalid item id")

    async def browse(emby: EmbyApi, a: Account) -> tuple[Any, Any]:
        found = await emby.get_items(a.host, a.token, a.user_id, item_id, keyword, (page - 1) * size, size)
        here = await emby.get_item(a.host, a.token, a.user_id, item_id) if item_id else None
        return found, here

    found, here = await vs.with_emby(user.id, sid, browse)
    paths = [{"name": "", "path": f"{sid}/"}]
    if here is not None:
        paths.append({"name": here.name, "path": f"{sid}/{here.id}"})
    items = [{"name": i.name, "path": f"{sid}/{i.id}", "isDir": i.is_folder, "type": i.type} for i in found.items]
    return ok({"paths": paths, "items": items, "total": found.total})
