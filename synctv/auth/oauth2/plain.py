"""Plain OAuth2 providers with documented endpoints: code for a token, the token for the user's profile.

Each provider is a `PlainSpec`; `rebased` points one at a stand-in server (tests) without other changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client

from synctv.auth.oauth2.base import (
    HTTP_TIMEOUT_S,
    ClientConfig,
    FlowSecrets,
    Provider,
    ProviderUser,
    provider_failure,
)
from synctv.auth.oauth2.errors import OAuth2Error, Reason


@dataclass(frozen=True, slots=True)
class PlainSpec:
    name: str
    authorize_url: str
    token_url: str
    scope: str
    user_url: str
    id_path: str  # dotted path into the profile JSON
    name_path: str
    pkce: bool = False
    token_method: str = "POST"
    token_params: tuple[tuple[str, str], ...] = ()
    # How the profile request carries the token: "bearer", or "query:<param>".
    token_in: str = "bearer"
    # Extra profile query parameters; "{client_id}" is replaced.
    user_params: tuple[tuple[str, str], ...] = ()
    token_body_prefix: str = ""  # stripped from the token response before JSON parsing
    # QQ: the open id comes from this endpoint before the profile is read.
    openid_url: str = ""

    def rebased(self, base: str) -> PlainSpec:
        """The same provider with every endpoint's scheme and host replaced by `base` (paths kept)."""
        base = base.rstrip("/")

        def move(url: str) -> str:
            if not url:
                return url
            parts = urlsplit(url)
            return base + parts.path + (f"?{parts.query}" if parts.query else "")

        return replace(self, authorize_url=move(self.authorize_url), token_url=move(self.token_url),
                       user_url=move(self.user_url), openid_url=move(self.openid_url))


SPECS: dict[str, PlainSpec] = {s.name: s for s in (
    PlainSpec("github", "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token",
              "user", "https://api.github.com/user", "id", "login", pkce=True),
    PlainSpec("gitee", "https://gitee.com/oauth/authorize", "https://gitee.com/oauth/token", "user_info",
              "https://gitee.com/api/v5/user", "id", "login", token_in="query:access_token"),
    PlainSpec("gitlab", "https://gitlab.com/oauth/authorize", "https://gitlab.com/oauth/token", "read_user",
              "https://gitlab.com/api/v4/user", "id", "username", pkce=True),
    PlainSpec("google", "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
              "profile", "https://www.googleapis.com/oauth2/v2/userinfo", "id", "name", pkce=True),
    PlainSpec("microsoft", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
              "https://login.microsoftonline.com/common/oauth2/v2.0/token", "User.Read",
              "https://graph.microsoft.com/v1.0/me", "id", "displayName", pkce=True),
    PlainSpec("discord", "https://discord.com/oauth2/authorize", "https://discord.com/api/oauth2/token", "identify",
              "https://discord.com/api/v10/oauth2/@me", "user.id", "user.username", pkce=True),
    PlainSpec("qq", "https://graph.qq.com/oauth2.0/authorize", "https://graph.qq.com/oauth2.0/token",
              "get_user_info", "https://graph.qq.com/user/get_user_info", "openid", "nickname",
              token_method="GET", token_params=(("fmt", "json"),), token_in="query:access_token",
              user_params=(("oauth_consumer_key", "{client_id}"),),
              openid_url="https://graph.qq.com/oauth2.0/me?fmt=json"),
    PlainSpec("baidu", "https://openapi.baidu.com/oauth/2.0/authorize", "https://openapi.baidu.com/oauth/2.0/token",
              "basic", "https://openapi.baidu.com/rest/2.0/passport/users/getLoggedInUser", "openid", "uname",
              token_in="query:access_token"),
    PlainSpec("baidu-netdisk", "https://openapi.baidu.com/oauth/2.0/authorize",
              "https://openapi.baidu.com/oauth/2.0/token", "basic,netdisk",
              "https://pan.baidu.com/rest/2.0/xpan/nas?method=uinfo", "uk", "baidu_name",
              token_in="query:access_token"),
    PlainSpec("xiaomi", "https://account.xiaomi.com/oauth2/authorize", "https://account.xiaomi.com/oauth2/token",
              "profile", "https://open.account.xiaomi.com/user/profile", "data.unionId", "data.miliaoNick",
              token_method="GET", token_in="query:token", user_params=(("clientId", "{client_id}"),),
              token_body_prefix="&&&START&&&"),
)}


def dig(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


class PlainProvider(Provider):
    kind = "oauth2"

    def __init__(self, spec: PlainSpec) -> None:
        self.spec = spec
        self.name = spec.name

    def _client(self, client: ClientConfig) -> AsyncOAuth2Client:
        oauth = AsyncOAuth2Client(client.client_id, client.client_secret, scope=self.spec.scope,
                                  redirect_uri=client.redirect_uri, token_endpoint_auth_method="client_secret_post",
                                  code_challenge_method="S256" if self.spec.pkce else None,
                                  timeout=HTTP_TIMEOUT_S, follow_redirects=False)
        prefix = self.spec.token_body_prefix
        if prefix:
            def strip_prefix(resp: httpx.Response) -> httpx.Response:
                body = resp.content
                if body.startswith(prefix.encode()):
                    body = body[len(prefix):]
                return httpx.Response(resp.status_code, headers={"content-type": "application/json"}, content=body,
                                      request=resp.request)

            oauth.register_compliance_hook("access_token_response", strip_prefix)
        return oauth

    async def authorization_url(self, client: ClientConfig, state: str, flow: FlowSecrets) -> str:
        async with self._client(client) as oauth:
            url, _ = oauth.create_authorization_url(self.spec.authorize_url, state=state,
                                                    code_verifier=flow.code_verifier if self.spec.pkce else None)
            return str(url)

    async def _get_json(self, oauth: AsyncOAuth2Client, url: str, access_token: str,
                        params: dict[str, str]) -> Any:
        if self.spec.token_in.startswith("query:"):
            params = {**params, self.spec.token_in.split(":", 1)[1]: access_token}
            resp = await oauth.request("GET", url, params=params, withhold_token=True)
        else:
            resp = await oauth.get(url, params=params)
        resp.raise_for_status()
        return json.loads(resp.content)

    async def user(self, client: ClientConfig, code: str, flow: FlowSecrets) -> ProviderUser:
        spec = self.spec
        try:
            async with self._client(client) as oauth:
                extra = dict(spec.token_params)
                if spec.token_method == "GET":  # the client credentials travel in the query string
                    extra.update(client_id=client.client_id, client_secret=client.client_secret)
                token = await oauth.fetch_token(
                    spec.token_url, method=spec.token_method, code=code, grant_type="authorization_code",
                    code_verifier=flow.code_verifier if spec.pkce else None, **extra)
                access_token = str(token.get("access_token") or "")
                if not access_token:
                    raise OAuth2Error(Reason.PROVIDER, "no access token in the token response")
                params = {k: v.replace("{client_id}", client.client_id) for k, v in spec.user_params}
                if spec.openid_url:
                    me = await self._get_json(oauth, spec.openid_url, access_token, {})
                    openid = _scalar(dig(me, "openid"))
                    if not openid:
                        raise OAuth2Error(Reason.PROVIDER, str(dig(me, "error_description") or "no openid"))
                    profile = await self._get_json(oauth, spec.user_url, access_token, {**params, "openid": openid})
                    if isinstance(profile, dict):
                        profile.setdefault("openid", openid)
                else:
                    profile = await self._get_json(oauth, spec.user_url, access_token, params)
        except Exception as exc:  # library and transport errors become one user-facing error
            raise provider_failure(exc) from None
        user_id = _scalar(dig(profile, spec.id_path))
        if not user_id:
            raise OAuth2Error(Reason.PROVIDER, "the profile has no user id")
        return ProviderUser(provider_user_id=user_id, username=_scalar(dig(profile, spec.name_path)) or user_id)
