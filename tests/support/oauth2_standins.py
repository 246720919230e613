"""Stand-ins for the plain OAuth2 providers' authorize, token and profile endpoints, on loopback.

Written from the providers' public documentation (an emulation, not the real services): each provider lives
under `/<provider>` with its real paths, checks the client credentials, the redirect URI, the code and the
PKCE verifier, answers in that provider's own shape (QQ's two steps, Xiaomi's `&&&START&&&` prefix, tokens
in a header or the query), and can be told to fail.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CLIENT_ID = "standin-client"
CLIENT_SECRET = "standin-secret"

PROFILES: dict[str, tuple[str, str]] = {  # provider -> (expected user id, expected user name)
    "github": ("1001", "octo"), "gitee": ("1002", "gitee-user"), "gitlab": ("1003", "gl-user"),
    "google": ("1004", "G User"), "microsoft": ("abc-1005", "MS User"), "discord": ("1006", "disc"),
    "qq": ("QQOPENID1007", "qq-nick"), "baidu": ("bd-1008", "bd-user"), "baidu-netdisk": ("1009", "pan-user"),
    "xiaomi": ("mi-1010", "mi-user"),
}


def _profile(provider: str) -> dict[str, Any]:
    uid, name = PROFILES[provider]
    shapes: dict[str, Any] = {
        "github": lambda: {"login": name, "id": int(uid)}, "gitee": lambda: {"login": name, "id": int(uid)},
        "gitlab": lambda: {"username": name, "id": int(uid)}, "google": lambda: {"name": name, "id": uid},
        "microsoft": lambda: {"displayName": name, "id": uid},
        "discord": lambda: {"user": {"username": name, "id": uid}},
        "qq": lambda: {"ret": 0, "nickname": name}, "baidu": lambda: {"uname": name, "openid": uid},
        "baidu-netdisk": lambda: {"baidu_name": name, "uk": int(uid), "errno": 0},
        "xiaomi": lambda: {"result": "ok", "data": {"miliaoNick": name, "unionId": uid}},
    }
    return dict(shapes[provider]())


@dataclass
class Grant:
    redirect_uri: str
    challenge: str


@dataclass
class StandIns:
    fail: str = ""  # "" | "token" (OAuth error) | "profile" (HTTP 401)
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> provider
    seen_pkce: set[str] = field(default_factory=set)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{provider}/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        provider, path = request.match_info["provider"], "/" + request.match_info["tail"]
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        if path.endswith(("/authorize", "/auth")):
            return self.authorize(params)
        if path.endswith(("/access_token", "/token", "/oauth2.0/token")):
            return self.token(provider, request, params)
        return self.profile(provider, path, request, params)

    def authorize(self, p: dict[str, str]) -> web.StreamResponse:
        if p.get("client_id") != CLIENT_ID or p.get("response_type") != "code" or not p.get("state"):
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(12)
        self.grants[code] = Grant(p.get("redirect_uri", ""), p.get("code_challenge", ""))
        raise web.HTTPFound(p["redirect_uri"] + "?" + urlencode({"code": code, "state": p["state"]}))

    def token(self, provider: str, request: web.Request, p: dict[str, str]) -> web.StreamResponse:
        grant = self.grants.pop(p.get("code", ""), None)
        ok = (grant is not None and p.get("client_id") == CLIENT_ID and p.get("client_secret") == CLIENT_SECRET
              and p.get("grant_type") == "authorization_code" and p.get("redirect_uri") == grant.redirect_uri)
        if ok and grant is not None and grant.challenge:
            digest = hashlib.sha256(p.get("code_verifier", "").encode()).digest()
            ok = base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == grant.challenge
            self.seen_pkce.add(provider)
        if self.fail == "token" or not ok:
            return web.json_response({"error": "invalid_grant", "error_description": "bad code"}, status=400)
        access = secrets.token_urlsafe(16)
        self.tokens[access] = provider
        body = {"access_token": access, "token_type": "bearer", "expires_in": 3600}
        if provider == "xiaomi":
            import json
            return web.Response(text="&&&START&&&" + json.dumps(body), content_type="text/plain")
        return web.json_response(body)

    def profile(self, provider: str, path: str, request: web.Request, p: dict[str, str]) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else p.get("access_token") or p.get("token", "")
        if self.fail == "profile" or self.tokens.get(token) != provider:
            return web.json_response({"message": "Bad credentials"}, status=401)
        uid, _ = PROFILES[provider]
        if provider == "qq":
            if path.endswith("/oauth2.0/me"):
                return web.json_response({"client_id": CLIENT_ID, "openid": uid})
            if p.get("oauth_consumer_key") != CLIENT_ID or p.get("openid") != uid:
                return web.json_response({"ret": 1, "msg": "bad openid"})
        if provider == "xiaomi" and p.get("clientId") != CLIENT_ID:
            return web.json_response({"result": "error"}, status=400)
        return web.json_response(_profile(provider))
