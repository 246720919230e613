"""Generic OpenID Connect providers, configured by issuer URL.

The discovery document gives the endpoints; the code is exchanged with PKCE (S256); the ID token's
signature (the issuer's JWKS), issuer, audience, expiry and nonce are verified before the user is known.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from synctv.auth.oauth2.base import (
    HTTP_TIMEOUT_S,
    ClientConfig,
    FlowSecrets,
    Provider,
    ProviderUser,
    provider_failure,
)
from synctv.auth.oauth2.errors import OAuth2Error, Reason

METADATA_TTL_S = 600.0
JWKS_MIN_REFRESH_S = 30.0
CLOCK_LEEWAY_S = 60
# Only asymmetric signatures: an ID token signed with the client secret (HS*) or unsigned is refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


@dataclass
class _Issuer:
    metadata: dict[str, Any]
    fetched_at: float
    keys: KeySet | None = None
    keys_at: float = 0.0


def normalise_issuer(issuer: str) -> str:
    return issuer.strip().rstrip("/")


class IssuerCache:
    """Discovery documents and key sets per issuer, shared by every OpenID Connect provider of an instance."""

    def __init__(self) -> None:
        self._issuers: dict[str, _Issuer] = {}

    async def _get_json(self, url: str) -> Any:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as http:
            resp = await http.get(url, headers={"Accept": "application/json"})
            resp.raise_for_status()
            return json.loads(resp.content)

    async def issuer(self, issuer: str) -> _Issuer:
        cached = self._issuers.get(issuer)
        if cached is not None and time.monotonic() - cached.fetched_at < METADATA_TTL_S:
            return cached
        try:
            metadata = await self._get_json(issuer + "/.well-known/openid-configuration")
        except Exception as exc:
            raise provider_failure(exc) from None
        if not isinstance(metadata, dict) or normalise_issuer(str(metadata.get("issuer", ""))) != issuer:
            raise OAuth2Error(Reason.MISCONFIGURED, "the discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(key), str):
                raise OAuth2Error(Reason.MISCONFIGURED, f"the discovery document has no {key}")
        entry = _Issuer(metadata, time.monotonic())
        self._issuers[issuer] = entry
        return entry

    async def keys(self, entry: _Issuer, *, refresh: bool = False) -> KeySet:
        now = time.monotonic()
        if entry.keys is not None and not (refresh and now - entry.keys_at >= JWKS_MIN_REFRESH_S):
            return entry.keys
        try:
            entry.keys = KeySet.import_key_set(await self._get_json(entry.metadata["jwks_uri"]))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OAuth2Error(Reason.MISCONFIGURED, f"the issuer's key set is unusable ({exc})") from None
        except Exception as exc:
            raise provider_failure(exc) from None
        entry.keys_at = now
        return entry.keys


class OIDCProvider(Provider):
    kind = "oidc"

    def __init__(self, name: str, cache: IssuerCache) -> None:
        self.name = name
        self._cache = cache

    async def _setup(self, client: ClientConfig) -> tuple[_Issuer, AsyncOAuth2Client]:
        if not client.issuer:
            raise OAuth2Error(Reason.MISCONFIGURED, "no issuer URL is set")
        entry = await self._cache.issuer(normalise_issuer(client.issuer))
        methods = entry.metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth_method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        oauth = AsyncOAuth2Client(client.client_id, client.client_secret, scope=client.scopes or "openid",
                                  redirect_uri=client.redirect_uri, token_endpoint_auth_method=auth_method,
                                  code_challenge_method="S256", timeout=HTTP_TIMEOUT_S, follow_redirects=False)
        return entry, oauth

    async def authorization_url(self, client: ClientConfig, state: str, flow: FlowSecrets) -> str:
        entry, oauth = await self._setup(client)
        async with oauth:
            url, _ = oauth.create_authorization_url(entry.metadata["authorization_endpoint"], state=state,
                                                    code_verifier=flow.code_verifier, nonce=flow.nonce)
            return str(url)

    async def _verify(self, entry: _Issuer, client: ClientConfig, id_token: str, nonce: str) -> dict[str, Any]:
        supported = entry.metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in supported if a in ALGORITHMS] or ["RS256"]
        token = None
        for refresh in (False, True):  # a key rotated at the issuer: fetch the key set once more
            keys = await self._cache.keys(entry, refresh=refresh)
            try:
                token = jwt.decode(id_token, keys, algorithms=algorithms)
                break
            except JoseError as exc:
                if refresh:
                    raise OAuth2Error(Reason.ID_TOKEN, f"bad signature ({exc.error})") from None
            except ValueError as exc:  # malformed token or no matching key
                if refresh:
                    raise OAuth2Error(Reason.ID_TOKEN, f"unreadable ({exc})") from None
        assert token is not None
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_S,
            iss={"essential": True, "value": normalise_issuer(client.issuer)},
            aud={"essential": True, "value": client.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            if isinstance(claims.get("iss"), str):
                claims["iss"] = normalise_issuer(claims["iss"])
            registry.validate(claims)
        except JoseError as exc:
            raise OAuth2Error(Reason.ID_TOKEN, exc.description or exc.error) from None
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client.client_id:
            raise OAuth2Error(Reason.ID_TOKEN, "the token was issued to another party (azp)")
        return claims

    async def user(self, client: ClientConfig, code: str, flow: FlowSecrets) -> ProviderUser:
        entry, oauth = await self._setup(client)
        try:
            async with oauth:
                token = await oauth.fetch_token(entry.metadata["token_endpoint"], code=code,
                                                grant_type="authorization_code", code_verifier=flow.code_verifier)
                id_token = token.get("id_token")
                if not isinstance(id_token, str) or not id_token:
                    raise OAuth2Error(Reason.ID_TOKEN, "the token response has no ID token")
                claims = await self._verify(entry, client, id_token, flow.nonce)
                profile: dict[str, Any] = {}
                userinfo_url = entry.metadata.get("userinfo_endpoint")
                if isinstance(userinfo_url, str) and not _username(claims):
                    resp = await oauth.get(userinfo_url)
                    resp.raise_for_status()
                    info = json.loads(resp.content)
                    if isinstance(info, dict) and info.get("sub") == claims["sub"]:
                        profile = info
        except Exception as exc:
            raise provider_failure(exc) from None
        return ProviderUser(provider_user_id=str(claims["sub"]),
                            username=_username(profile) or _username(claims) or str(claims["sub"]))


def _username(claims: dict[str, Any]) -> str:
    for key in ("preferred_username", "username", "nickname", "name"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    email = claims.get("email")
    return email.split("@", 1)[0] if isinstance(email, str) and "@" in email else ""
