"""What every provider offers: an authorization URL for a flow, and the user behind a returned code."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import httpx2 as httpx
from authlib.integrations.base_client.errors import OAuthError

from synctv.auth.oauth2.errors import OAuth2Error, Reason

HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """This site's registration at the provider (from the `oauth2_<p>_*` settings)."""

    client_id: str
    client_secret: str
    redirect_uri: str
    issuer: str = ""  # OpenID Connect providers only
    scopes: str = ""


@dataclass(frozen=True, slots=True)
class FlowSecrets:
    """Kept with the state until the callback: the PKCE verifier and the OpenID Connect nonce."""

    code_verifier: str
    nonce: str


@dataclass(frozen=True, slots=True)
class ProviderUser:
    provider_user_id: str
    username: str


class Provider(ABC):
    name: str
    kind: str  # "oauth2" | "oidc"

    @abstractmethod
    async def authorization_url(self, client: ClientConfig, state: str, flow: FlowSecrets) -> str: ...

    @abstractmethod
    async def user(self, client: ClientConfig, code: str, flow: FlowSecrets) -> ProviderUser: ...


def provider_failure(exc: Exception) -> OAuth2Error:
    """Map a library or transport error to the user-facing reason (the provider's own words kept)."""
    if isinstance(exc, OAuth2Error):
        return exc
    if isinstance(exc, OAuthError):
        return OAuth2Error(Reason.PROVIDER, f"{exc.error}" + (f" ({exc.description})" if exc.description else ""))
    if isinstance(exc, httpx.TimeoutException | httpx.ConnectError | httpx.NetworkError):
        return OAuth2Error(Reason.UNREACHABLE)
    if isinstance(exc, httpx.HTTPStatusError):
        return OAuth2Error(Reason.PROVIDER, f"HTTP {exc.response.status_code}")
    if isinstance(exc, httpx.HTTPError | ValueError | KeyError):
        return OAuth2Error(Reason.PROVIDER, type(exc).__name__)
    raise exc
