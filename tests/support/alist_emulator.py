"""An EMULATION of the Alist v3 HTTP API subset synctv uses -- not Alist.

Alist is not installable on these machines, so the Alist vendor is tested against this aiohttp app on loopback,
written from Alist v3's public API documentation (alist.nn.ci, "API" section; v3.x, the `/api/...` routes):

- POST /api/auth/login {username, password} and /api/auth/login/hash {username, password: sha256 hex of
  `password + "-https://github.com/alist-org/alist"`} -> data {token}
- GET  /api/me (Authorization: <token>) -> data {id, username, password, base_path, role, disabled, permission,
  sso_id, otp}
- POST /api/fs/list {path, password, page, per_page, refresh} -> data {content, total, readme, header, write,
  provider}
- POST /api/fs/get {path, password} -> data {name, size, is_dir, ..., raw_url, provider, related}
- POST /api/fs/search {parent, keywords, scope, page, per_page, password} -> data {content, total}
- POST /api/fs/other {path, password, method} -> a storage driver's extra operation; for an Aliyun drive
  ("AliyundriveOpen") `video_preview` answers the drive's `getVideoPreviewPlayInfo`: data {drive_id, file_id,
  video_preview_play_info {category: "live_transcoding", meta {duration, width, height},
  live_transcoding_task_list [{template_id, template_name, template_width, template_height, status, stage, url}],
  live_transcoding_subtitle_task_list [{language, status, url}]}}
- GET  /p/<path>?sign=<sign> -> the file's bytes (the "raw url" of local storage; Range supported; CORS open)

Storages: everything is "Local" unless `providers` mounts another driver at a folder (path -> driver name):
- "AliyundriveOpen": `fs/other` `video_preview` lists three finished qualities (LD 640x360, SD 960x540,
  HD 1280x720) whose URLs are HLS playlists served here (`/ali-hls/...`, one segment each, `/ali-seg/...`);
  `transcoding = False` makes them "running" without URLs, as a drive does while it still transcodes.
- "115 Cloud": the raw URL (`/115/<path>?ua=...`) only answers the User-Agent that called `fs/get`; any other
  gets 403 (as 115's CDN does), which is why such a file must be fetched by whoever resolved it.

Every API answer is HTTP 200 with Alist's envelope `{code, message, data}`; the outcome is in `code`:
200 success; 400 a failed login ("password is incorrect"); 401 a missing, unknown or expired token ("that's not
even a token", "token is expired"); 403 a protected folder's password is wrong ("password is incorrect or you
have no permission"); 500 anything else, a missing path included ("failed get objs: object not found"),
search when the index is off ("search not available"), `fs/other` on a driver without extra operations ("not
implement") and an unknown method ("not support").

The unfriendly behaviours tests switch on: `expire_tokens()` (every issued token answers 401 from then on),
`delay` (seconds every API answer waits: a vendor that times out), `search_enabled = False`, `html_only`
(answers an HTML page, as a wrong host would).
Files come from a directory on disk; folder passwords come from `passwords` (path -> password, as Alist's
"meta" settings), which also protect everything below the folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import mimetypes
import posixpath
import secrets
import time
from pathlib import Path
from typing import Any

from aiohttp import web

SALT = "-https://github.com/alist-org/alist"
VIDEO = {"mp4", "mkv", "avi", "mov", "rmvb", "webm", "flv", "m3u8", "ts"}
AUDIO = {"mp3", "flac", "ogg", "m4a", "wav", "opus", "aac"}
TEXT = {"txt", "htm", "html", "xml", "java", "properties", "sql", "js", "md", "json", "conf", "ini", "vue",
        "php", "py", "bat", "gitignore", "yml", "go", "sh", "c", "cpp", "h", "hpp", "tsx", "vtt", "srt", "ass",
        "rs", "lrc"}
IMAGE = {"jpg", "tiff", "jpeg", "png", "gif", "bmp", "svg", "ico", "swf", "webp"}


def file_type(name: str, is_dir: bool) -> int:
    if is_dir:
        return 1
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    for kind, exts in ((2, VIDEO), (3, AUDIO), (4, TEXT), (5, IMAGE)):
        if ext in exts:
            return kind
    return 0


def hash_password(password: str) -> str:
    return hashlib.sha256((password + SALT).encode()).hexdigest()


class AlistEmulator:
    def __init__(self, root: Path, users: dict[str, str] | None = None,
                 passwords: dict[str, str] | None = None, providers: dict[str, str] | None = None) -> None:
        self.root = root
        self.providers = dict(providers or {})
        self.transcoding = True
        self.resolved_user_agents: list[str] = []
        self.hls_fetches: list[str] = []
        self.users = dict(users or {"admin": "alist-pass"})
        self.passwords = dict(passwords or {})
        self.tokens: dict[str, str] = {}
        self.expired: set[str] = set()
        self.delay = 0.0
        self.search_enabled = True
        self.html_only = False
        self.logins = 0
        self.calls: list[str] = []
        self.downloads: list[str] = []
        self._sign_key = secrets.token_bytes(16)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> AlistEmulator:
        app = web.Application()
        app.router.add_post("/api/auth/login", self._login)
        app.router.add_post("/api/auth/login/hash", self._login_hash)
        app.router.add_get("/api/me", self._me)
        app.router.add_post("/api/fs/list", self._fs_list)
        app.router.add_post("/api/fs/get", self._fs_get)
        app.router.add_post("/api/fs/search", self._fs_search)
        app.router.add_post("/api/fs/other", self._fs_other)
        app.router.add_get("/p/{path:.*}", self._raw)
        app.router.add_get("/115/{path:.*}", self._raw_115)
        app.router.add_get("/ali-hls/{template}/{path:.*}", self._ali_playlist)
        app.router.add_get("/ali-seg/{template}/{n}.ts", self._ali_segment)
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
        self.expired.update(self.tokens)

    # -- envelope ------------------------------------------------------------------------------------------------

    @staticmethod
    def _env(code: int, message: str, data: Any = None) -> web.Response:
        return web.json_response({"code": code, "message": message, "data": data})

    async def _enter(self, request: web.Request) -> web.Response | None:
        self.calls.append(request.path)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.html_only:
            return web.Response(text="<!doctype html><title>not alist</title>", content_type="text/html")
        return None

    def _user(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        token = request.headers.get("Authorization", "")
        if not token or token not in self.tokens:
            return None, self._env(401, "that's not even a token")
        if token in self.expired:
            return None, self._env(401, "token is expired")
        return self.tokens[token], None

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # -- auth ----------------------------------------------------------------------------------------------------

    def _issue(self, username: str, hashed: str) -> web.Response:
        self.logins += 1
        password = self.users.get(username)
        if password is None or not hmac.compare_digest(hash_password(password), hashed):
            return self._env(400, "password is incorrect")
        token = secrets.token_hex(24)
        self.tokens[token] = username
        return self._env(200, "success", {"token": token})

    async def _login(self, request: web.Request) -> web.Response:
        early = await self._enter(request)
        if early is not None:
            return early
        body = await self._json(request)
        return self._issue(str(body.get("username", "")), hash_password(str(body.get("password", ""))))

    async def _login_hash(self, request: web.Request) -> web.Response:
        early = await self._enter(request)
        if early is not None:
            return early
        body = await self._json(request)
        return self._issue(str(body.get("username", "")), str(body.get("password", "")))

    async def _me(self, request: web.Request) -> web.Response:
        early = await self._enter(request)
        if early is not None:
            return early
        user, refusal = self._user(request)
        if refusal is not None:
            return refusal
        return self._env(200, "success", {"id": list(self.users).index(user or "") + 1, "username": user,
                                          "password": "", "base_path": "/", "role": 2, "disabled": False,
                                          "permission": 0x3FF, "sso_id": "", "otp": False})

    # -- files ---------------------------------------------------------------------------------------------------

    def _local(self, path: str) -> Path | None:
        clean = posixpath.normpath("/" + path.strip("/"))
        target = (self.root / clean.lstrip("/")).resolve()
        if target != self.root.resolve() and self.root.resolve() not in target.parents:
            return None
        return target if target.exists() else None

    def _password_ok(self, path: str, given: str) -> bool:
        clean = posixpath.normpath("/" + path.strip("/"))
        for protected, password in self.passwords.items():
            if clean == protected or clean.startswith(protected.rstrip("/") + "/"):
                if given != password:
                    return False
        return True

    def sign(self, path: str) -> str:
        return hmac.new(self._sign_key, path.encode(), hashlib.sha256).hexdigest()[:22] + ":0"

    def provider(self, path: str) -> str:
        clean = posixpath.normpath("/" + path.strip("/"))
        best, name = "", "Local"
        for mount, driver in self.providers.items():
            if (clean == mount or clean.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
                best, name = mount, driver
        return name

    def _obj(self, p: Path) -> dict[str, Any]:
        st = p.stat()
        modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime))
        return {"name": p.name, "size": 0 if p.is_dir() else st.st_size, "is_dir": p.is_dir(),
                "modified": modified, "created": modified, "sign": "", "thumb": "",
                "type": file_type(p.name, p.is_dir()), "hashinfo": "null", "hash_info": None}

    async def _guarded(self, request: web.Request, path_key: str) -> tuple[dict[str, Any], str, web.Response | None]:
        early = await self._enter(request)
        if early is not None:
            return {}, "", early
        _, refusal = self._user(request)
        if refusal is not None:
            return {}, "", refusal
        body = await self._json(request)
        path = str(body.get(path_key, "/") or "/")
        if not self._password_ok(path, str(body.get("password", ""))):
            return body, path, self._env(403, "password is incorrect or you have no permission")
        return body, path, None

    async def _fs_list(self, request: web.Request) -> web.Response:
        body, path, refusal = await self._guarded(request, "path")
        if refusal is not None:
            return refusal
        target = self._local(path)
        if target is None or not target.is_dir():
            return self._env(500, "failed get objs: failed get dir: object not found")
        entries = sorted(target.iterdir(), key=lambda p: (not p.is_dir(), p.name))
        page, per_page = int(body.get("page") or 1), int(body.get("per_page") or 0)
        chosen = entries[(page - 1) * per_page:page * per_page] if per_page > 0 else entries
        return self._env(200, "success", {"content": [self._obj(p) for p in chosen], "total": len(entries),
                                          "readme": "", "header": "", "write": True,
                                          "provider": self.provider(path)})

    async def _fs_get(self, request: web.Request) -> web.Response:
        _, path, refusal = await self._guarded(request, "path")
        if refusal is not None:
            return refusal
        target = self._local(path)
        if target is None:
            return self._env(500, "failed get obj: object not found")
        data = self._obj(target)
        clean = posixpath.normpath("/" + path.strip("/"))
        provider = self.provider(clean)
        raw_url = f"{self.base}/p{clean}?sign={self.sign(clean)}"
        if provider == "115 Cloud":
            agent = request.headers.get("User-Agent", "")
            self.resolved_user_agents.append(agent)
            raw_url = f"{self.base}/115{clean}?ua={self.sign(clean + chr(0) + agent)}"
        data.update({"raw_url": "" if target.is_dir() else raw_url,
                     "readme": "", "header": "", "provider": provider, "related": None})
        if not target.is_dir():
            stem = target.name.rsplit(".", 1)[0]
            related = [self._obj(p) for p in sorted(target.parent.iterdir())
                       if p != target and p.is_file() and p.name.startswith(stem)]
            data["related"] = related or None
        return self._env(200, "success", data)

    async def _fs_search(self, request: web.Request) -> web.Response:
        body, parent, refusal = await self._guarded(request, "parent")
        if refusal is not None:
            return refusal
        if not self.search_enabled:
            return self._env(500, "search not available")
        base = self._local(parent)
        if base is None or not base.is_dir():
            return self._env(500, "failed get objs: object not found")
        keywords = str(body.get("keywords", "")).lower()
        found = []
        for p in sorted(base.rglob("*")):
            if keywords in p.name.lower():
                rel = "/" + str(p.parent.relative_to(self.root)).replace("\\", "/").strip(".")
                found.append({"parent": posixpath.normpath(rel), "name": p.name, "is_dir": p.is_dir(),
                              "size": 0 if p.is_dir() else p.stat().st_size, "type": file_type(p.name, p.is_dir())})
        page, per_page = int(body.get("page") or 1), int(body.get("per_page") or 0)
        chosen = found[(page - 1) * per_page:page * per_page] if per_page > 0 else found
        return self._env(200, "success", {"content": chosen, "total": len(found)})

    async def _fs_other(self, request: web.Request) -> web.Response:
        body, path, refusal = await self._guarded(request, "path")
        if refusal is not None:
            return refusal
        target = self._local(path)
        if target is None:
            return self._env(500, "failed get obj: object not found")
        if self.provider(path) != "AliyundriveOpen":
            return self._env(500, "not implement")
        if body.get("method") != "video_preview" or target.is_dir():
            return self._env(500, "not support")
        clean = posixpath.normpath("/" + path.strip("/"))
        tasks = []
        for template, width, height in (("LD", 640, 360), ("SD", 960, 540), ("HD", 1280, 720)):
            task: dict[str, Any] = {"template_id": template, "template_name": template, "template_width": width,
                                    "template_height": height, "status": "finished" if self.transcoding else
                                    "running", "stage": "stage_done" if self.transcoding else "stage_running"}
            if self.transcoding:
                task["url"] = f"{self.base}/ali-hls/{template}{clean}.m3u8?sign={self.sign(template + clean)}"
            tasks.append(task)
        return self._env(200, "success", {
            "drive_id": "1001", "file_id": self.sign(clean)[:16],
            "video_preview_play_info": {"category": "live_transcoding",
                                        "meta": {"duration": 4.0, "width": 1280, "height": 720},
                                        "live_transcoding_task_list": tasks,
                                        "live_transcoding_subtitle_task_list": []}})

    async def _ali_playlist(self, request: web.Request) -> web.Response:
        template = request.match_info["template"]
        clean = posixpath.normpath("/" + request.match_info["path"].strip("/")).removesuffix(".m3u8")
        if not hmac.compare_digest(request.query.get("sign", ""), self.sign(template + clean)):
            return web.Response(status=403, text="AccessDenied")
        self.hls_fetches.append(f"{template}{clean}")
        return web.Response(text=f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n"
                                 f"{self.base}/ali-seg/{template}/0.ts\n#EXT-X-ENDLIST\n",
                            content_type="application/vnd.apple.mpegurl",
                            headers={"Access-Control-Allow-Origin": "*"})

    async def _ali_segment(self, request: web.Request) -> web.Response:
        return web.Response(body=b"\x47" + f"segment {request.match_info['template']}".encode(),
                            content_type="video/mp2t", headers={"Access-Control-Allow-Origin": "*"})

    async def _raw_115(self, request: web.Request) -> web.StreamResponse:
        clean = posixpath.normpath("/" + request.match_info["path"].strip("/"))
        agent = request.headers.get("User-Agent", "")
        if not hmac.compare_digest(request.query.get("ua", ""), self.sign(clean + chr(0) + agent)):
            return web.Response(status=403, text="Forbidden")
        target = self._local(clean)
        if target is None or not target.is_file():
            return web.Response(status=404, text="not found")
        self.downloads.append(clean)
        return web.FileResponse(target, headers={"Content-Type": "video/mp4"})

    async def _raw(self, request: web.Request) -> web.StreamResponse:
        clean = posixpath.normpath("/" + request.match_info["path"].strip("/"))
        if not hmac.compare_digest(request.query.get("sign", ""), self.sign(clean)):
            return self._env(401, "sign mismatch")
        target = self._local(clean)
        if target is None or not target.is_file():
            return web.Response(status=404, text="not found")
        self.downloads.append(clean)
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        # Alist answers every route with permissive CORS (a web player fetches subtitles from it).
        return web.FileResponse(target, headers={"Content-Type": ctype, "Access-Control-Allow-Origin": "*"})
